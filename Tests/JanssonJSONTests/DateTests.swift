import Foundation
import JanssonJSON
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
}
