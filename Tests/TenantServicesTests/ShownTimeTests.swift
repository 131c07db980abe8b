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

/// The business calendar keeps the day of the last instant it was asked about.
@Suite struct BusinessCalendarDayTests {
    /// Instants in any order, many around the DST switches of Europe/Zurich and midnight: the
    /// calendar that keeps its last day gives the date a fresh calendar computes.
    @Test func theKeptDayGivesTheDateOfAFreshCalendar() async {
        // 2026-03-29 01:00 UTC (clocks go forward), 2026-10-25 01:00 UTC (back), a midnight.
        let anchors: [Double] = [1_774_746_000, 1_792_890_000, 1_795_042_800]
        let kept = BusinessCalendar()
        await propertyCheck(count: 500, input: Gen.int(in: 0...2), Gen.int(in: -100_000...100_000)) { anchor, offset in
            let instant = Date(timeIntervalSince1970: anchors[anchor] + Double(offset))
            #expect(kept.date(of: instant) == BusinessCalendar().date(of: instant), "\(instant)")
        }
    }
}
