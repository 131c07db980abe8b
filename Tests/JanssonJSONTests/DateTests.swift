import Foundation
import JanssonJSON
import PropertyBased
import Testing

@Suite struct DateTests {
    @Test(arguments: [
        ("2000-01-01T00:00:00+18:01", 946_619_940.0), ("2026-11-18T11:06:40Z", 1_795_000_000.0),
        ("2026-11-18T12:06:40.5+01:00", 1_795_000_000.5), ("1998-12-31T23:59:60Z", 915_148_800.0),
        ("2026-11-18t11:06:40z", 1_795_000_000.0),
    ])
    func decodesEveryRFC3339Offset(text: String, seconds: Double) throws {
        #expect(try JSONValueDecoder().decode(Date.self, from: JSONValue(text)).timeIntervalSince1970 == seconds)
    }

    /// The text written for an instant reads back as that instant in every year 0001 … 9999: both
    /// count proleptic Gregorian dates, as RFC 3339 does (Foundation's formatter would write
    /// Julian dates before 1582-10-15, such as 1500-02-29, which is no date).
    @Test func writtenInstantsReadBackInEveryYear() async {
        await propertyCheck(count: 2_000, input: Gen.int(in: -62_135_596_800...253_402_300_799), Gen.int(in: 0...999)) {
            seconds, millis in
            let instant = Date(timeIntervalSince1970: Double(seconds) + Double(millis) / 1000)
            let text = JSONValueEncoder.text(for: instant)
            let back = try? JSONValueDecoder().decode(Date.self, from: JSONValue(text))
            #expect(back.map { abs($0.timeIntervalSince(instant)) < 0.000_5 } == true, "\(seconds).\(millis): \(text)")
        }
        #expect(JSONValueEncoder.text(for: Date(timeIntervalSince1970: -14_826_672_000)) == "1500-03-01T00:00:00Z")
    }
}
