import Foundation
import PropertyBased
import Testing

@testable import TenantServices

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
