import Foundation
import PropertyBased
import Testing

@testable import TenantServices

/// The shown timestamps: the direct computation gives Foundation's ISO 8601 text.
@Suite struct TimestampTests {
    /// Over generated instants from 1970 to 9999 (whole seconds, milliseconds, microseconds and
    /// arbitrary fractions), the direct text equals Foundation's, byte for byte.
    @Test func directTimestampsEqualFoundationsFormatting() async {
        await propertyCheck(
            count: 2_000, input: Gen.int(in: 0...253_402_300_799), Gen.int(in: 0...999_999), Gen.int(in: 0...3)
        ) { seconds, micros, kind in
            let fraction: Double =
                switch kind {
                case 0: 0
                case 1: Double(micros / 1000) / 1000
                case 2: Double(micros) / 1_000_000
                default: 0.999_999
                }
            let date = Date(timeIntervalSince1970: Double(seconds) + fraction)
            #expect(timestamp(date) == formattedTimestamp(date), "\(seconds) + \(fraction)")
        }
    }

    /// The edges of the direct range, month and leap-year boundaries, and instants outside it.
    @Test func timestampsAtTheEdgesEqualFoundationsFormatting() {
        let instants: [Double] = [
            0, 0.5, 59, 60, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_400, 1_795_000_000.999,
            253_402_300_799, 253_402_300_799.75, 253_402_300_800, -0.5, -1, -86_401, 1e12,
        ]
        for seconds in instants {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(timestamp(date) == formattedTimestamp(date), "\(seconds)")
        }
        #expect(timestamp(Date(timeIntervalSince1970: 1_795_000_000)) == "2026-11-18T11:06:40Z")
    }

    /// Before 1970 too, down to 0001-01-01, the text names the instant's proleptic Gregorian date
    /// and time as RFC 3339 counts them (the business calendar's, in UTC): Foundation's formatter
    /// would write Julian dates before 1582-10-15, such as 1500-02-29, which is no date.
    @Test func timestampsCountProlepticGregorianDatesBefore1970() async {
        let utc = BusinessCalendar(timeZone: TimeZone(identifier: "UTC")!)
        await propertyCheck(count: 2_000, input: Gen.int(in: -62_135_596_800...0), Gen.int(in: 0...999)) {
            seconds, millis in
            let instant = Date(timeIntervalSince1970: Double(seconds) + Double(millis) / 1000)
            let text = timestamp(instant)
            let parts = text.split(whereSeparator: { "T:Z".contains($0) }).map(String.init)
            guard parts.count == 4, let date = CivilDate(parts[0]), let h = Int(parts[1]), let m = Int(parts[2]),
                let s = Int(parts[3])
            else {
                Issue.record("\(seconds): \(text) is no RFC 3339 date-time")
                return
            }
            let back = utc.start(of: date).addingTimeInterval(Double(h * 3600 + m * 60 + s))
            #expect(back.timeIntervalSince1970 == Double(seconds), "\(seconds): \(text)")
            let days = Int((Double(seconds) / 86_400).rounded(.down))
            #expect(date == CivilDate(daysSince1970: days), "\(seconds): \(text)")
        }
        #expect(timestamp(Date(timeIntervalSince1970: -14_826_672_000)) == "1500-03-01T00:00:00Z")
        #expect(timestamp(Date(timeIntervalSince1970: -62_135_596_800)) == "0001-01-01T00:00:00Z")
    }
}
