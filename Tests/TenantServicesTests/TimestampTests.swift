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
}
