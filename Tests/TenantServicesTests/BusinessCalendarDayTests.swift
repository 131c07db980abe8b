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

    /// Dates are proleptic Gregorian in every year the portal handles, as `CivilDate` counts
    /// them: consecutive dates start about a day apart (23–25 hours: DST) and the noon of a date
    /// is on that date, also before 1582, where Foundation's calendar counts Julian dates
    /// (1500-02-29 exists there, 1582-10-05 … 14 do not).
    @Test func datesAreProlepticGregorianInEveryYear() async {
        let calendar = BusinessCalendar()
        let utc = BusinessCalendar(timeZone: TimeZone(identifier: "UTC")!)
        // Days from 1970-01-01: 0001-01-01 … 9999-12-30, and around 1500-02-28 and 1582-10-04.
        let first = CivilDate.earliest.daysSince1970
        let last = CivilDate.latest.daysSince1970 - 1
        let edges = [CivilDate("1500-02-28")!.daysSince1970, CivilDate("1582-10-04")!.daysSince1970]
        await propertyCheck(count: 1_000, input: Gen.int(in: 0...2), Gen.int(in: first...last), Gen.int(in: -20...20)) {
            kind, any, near in
            let days = kind == 0 ? any : edges[kind - 1] + near
            let date = CivilDate(daysSince1970: days)
            let next = date.adding(days: 1)
            #expect(CivilDate(date.description) == date, "\(date) is a date")
            for calendar in [calendar, utc] {
                let start = calendar.start(of: date)
                let length = calendar.start(of: next).timeIntervalSince(start)
                #expect(
                    (82_800...90_000).contains(length), "\(date) lasts \(length) s in \(calendar.timeZone.identifier)")
                #expect(calendar.date(of: start.addingTimeInterval(12 * 3600)) == date, "noon of \(date)")
                #expect(
                    calendar.date(of: start) == date
                        && calendar.date(of: start.addingTimeInterval(-1)) == date.adding(days: -1))
            }
            #expect(utc.start(of: date).timeIntervalSince1970 == Double(days * 86_400), "\(date) in UTC")
        }
    }

    /// The business rules on such a day: after 1500-02-28 comes 1500-03-01 (1500 is no leap
    /// year), so a default cancel there ends on the month's last day instead of being refused.
    @Test func theDayAfter1500_02_28Is1500_03_01AndCancelsAsUsual() throws {
        let calendar = BusinessCalendar()
        // A day and a half after 1500-02-28 began: noon of the next day.
        let noon = calendar.start(of: CivilDate("1500-02-28")!).addingTimeInterval(36 * 3600)
        #expect(calendar.date(of: noon) == CivilDate("1500-03-01"))
        let d = try Deployed(on: "1500-03-01", at: noon)
        let cancelled = try d.portal.perform(ServiceCancel(domainId: d.domainId, service: "SC-CERT"), as: d.admin)
        #expect(cancelled.cancelled.map(\.endDate) == [CivilDate("1500-03-31")!])
        let services = try d.portal.perform(DomainGet(domainId: d.domainId), as: d.admin).domain.services
        #expect(
            services.allSatisfy { $0.billingStart == CivilDate("1500-03-01") && $0.orderedAt.hasPrefix("1500-03-01T") })
    }
}
