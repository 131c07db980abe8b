import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct LastDateTests {
    static let calendar = BusinessCalendar()

    /// Dates are within 0001-01-01 … 9999-12-31; a computed date past that is date-rule.
    @Test func aCancelWhoseEndDateWouldFallPastTheLastDateIsADateRule() throws {
        let d = try Deployed(on: "9999-12-31")
        let before = try d.services()
        let error = #expect(throws: PortalError.self) { try d.cancel("SC-CERT") }
        #expect(error?.code == .dateRule)
        #expect(error?.details.latest == "9999-12-31")
        #expect(try d.services() == before)
        let dry = #expect(throws: PortalError.self) { try d.cancel("SC-SERVICE", dryRun: true) }
        #expect(dry?.code == .dateRule)
        // The day before, the default end date is the last date and is fine.
        let e = try Deployed(on: "9999-12-30")
        #expect(try e.cancel("SC-CERT").cancelled.map(\.endDate) == [CivilDate("9999-12-31")!])
    }

    @Test func anOfferWhoseDefaultValidityWouldEndPastTheLastDateIsADateRule() throws {
        let d = try Deployed(on: "9999-12-15")
        let line = OfferCreate.LineRequest(domain: "neu.ch", mode: .inline, users: 5)
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferCreate(tenantId: d.tenantId, lines: [line]), as: d.admin)
        }
        #expect(error?.code == .dateRule)
        let given = try d.portal.perform(
            OfferCreate(tenantId: d.tenantId, validUntil: CivilDate("9999-12-31"), lines: [line]), as: d.admin)
        #expect(given.offer.validUntil == CivilDate("9999-12-31"))
    }

    /// A month given before the first date (0001-01-01), such as `0000-06` (the schema's
    /// `YYYY-MM` pattern admits it), is outside the dates the portal handles: `date-rule` with
    /// `data.earliest`, not an empty statement.
    @Test func aStatementMonthBeforeTheFirstDateIsADateRule() throws {
        let d = try Deployed(on: "2026-11-18")
        for text in ["0000-01", "0000-12"] {
            let error = #expect(throws: PortalError.self) {
                try d.portal.perform(BillingStatement(month: Month(text)!), as: d.admin)
            }
            #expect(error?.code == .dateRule, "\(text)")
            #expect(error?.details.earliest == CivilDate.earliest, "\(text)")
            let paged = #expect(throws: PortalError.self) {
                try d.portal.perform(BillingStatement(month: Month(text)!, format: .csv, limit: 5), as: d.admin)
            }
            #expect(paged?.code == .dateRule, "\(text) paged")
        }
        // The first month the portal handles has a statement (empty here: nothing was booked then).
        let first = try d.portal.perform(BillingStatement(month: Month("0001-01")!), as: d.admin)
        #expect(first.lines.isEmpty && first.totals == [])
    }

    /// `actions` promise only calls that succeed now: on the last date a deployed service can no
    /// longer be cancelled (no end date after it exists), so `service.cancel` is not offered for
    /// it, and every action still offered (of the domain and of its tenant) succeeds; on a day
    /// past the last date no change is possible, so nothing is offered at all.
    @Test func actionsOnAndPastTheLastDateAreOnlyCallsThatSucceed() throws {
        let clock = TestClock("9999-12-31")
        let world = try WorldBuilder(clock: clock)
        let tenant = try world.tenant("Muster AG", of: try world.partner("Muster IT"))
        let deployed = try world.domain("muster.ch", of: tenant, status: .provisioned, users: [.none: 2])
        let ordered = try world.domain("neu.ch", of: tenant)
        let sales = Principal(id: "pa", kind: .partnerAdmin, partnerId: world.partners[0], roles: [.ALL])
        let domainActions = try world.portal.perform(DomainGet(domainId: deployed), as: sales).domain.actions
        #expect(!domainActions.contains(ServiceCancel.method), "\(domainActions)")
        #expect(domainActions.contains(ServiceSetDiscount.method))
        for action in domainActions {
            #expect(throws: Never.self, "\(action)") {
                try AdvertisedActions.call(action, onDomain: deployed, as: sales, in: try world.fork())
            }
        }
        // A service never deployed ends at once (end date today), so it can still be cancelled.
        let orderedActions = try world.portal.perform(DomainGet(domainId: ordered), as: sales).domain.actions
        #expect(orderedActions.contains(ServiceCancel.method), "\(orderedActions)")
        #expect(throws: Never.self) {
            try AdvertisedActions.call(ServiceCancel.method, onDomain: ordered, as: sales, in: try world.fork())
        }
        let tenantActions = try world.portal.perform(TenantGet(tenantId: tenant), as: sales).tenant.actions
        for action in tenantActions {
            #expect(throws: Never.self, "\(action)") {
                try AdvertisedActions.call(action, onTenant: tenant, as: sales, in: try world.fork())
            }
        }
        // 23:30 UTC on 9999-12-31 is already 10000-01-01 in Zurich: every change is refused.
        clock.set(instant: Date(timeIntervalSince1970: 253_402_300_800 - 1800))
        let past = try world.portal.perform(TenantGet(tenantId: tenant), as: sales)
        #expect(past.tenant.actions == [])
        #expect(past.domains.allSatisfy { $0.actions == [] }, "\(past.domains.map(\.actions))")
    }

    /// `service.available` agrees with `service.add` (SPEC §7): where every change is refused
    /// (today past the last date, or now's UTC date outside the dates), no service is available,
    /// and the reason is the date rule's (it listed services as available that `service.add`
    /// refused with `date-rule`).
    @Test func noServiceIsAvailableWhenEveryChangeIsRefused() throws {
        let clock = TestClock("9999-12-31")
        let world = try WorldBuilder(clock: clock)
        let tenant = try world.tenant("Muster AG", of: try world.partner("Muster IT"))
        let deployed = try world.domain("muster.ch", of: tenant, status: .provisioned, users: [.none: 2])
        let sales = Principal(id: "pa", kind: .partnerAdmin, partnerId: world.partners[0], roles: [.ALL])
        let before = try world.portal.perform(ServiceAvailable(domainId: deployed), as: sales).services
        #expect(before.contains { $0.code == "SC-F-OUTBOUND" && $0.available }, "\(before)")
        // 23:30 UTC on 9999-12-31 is already 10000-01-01 in Zurich.
        clock.set(instant: Date(timeIntervalSince1970: 253_402_300_800 - 1800))
        let add = #expect(throws: PortalError.self) {
            try world.portal.perform(ServiceAdd(domainId: deployed, services: ["SC-F-OUTBOUND"]), as: sales)
        }
        #expect(add?.code == .dateRule)
        let after = try world.portal.perform(ServiceAvailable(domainId: deployed), as: sales).services
        #expect(after.allSatisfy { !$0.available }, "\(after.filter(\.available).map(\.code))")
        #expect(after.allSatisfy { $0.reason == add?.message }, "\(after.map(\.reason))")
    }

    /// Instants are written as RFC 3339 UTC, so their date in UTC must lie within 0001-01-01 …
    /// 9999-12-31 too: where the zone's date is still within them (Los Angeles on 9999-12-31 is
    /// UTC's 10000-01-01; Zurich's 0001-01-01 begins at 0000-12-31T23:25:52Z), no change is
    /// made and no action is shown (changes were made, written as `10000-01-01T07:00:00Z` or,
    /// through Foundation's Julian calendar, two days off).
    @Test func noChangeIsMadeAtAnInstantWhoseUTCDateIsOutsideTheDates() throws {
        let cases: [(zone: String, instant: Double, bound: String)] = [
            ("America/Los_Angeles", 253_402_300_800 + 7 * 3600, "latest"),
            ("Europe/Zurich", -62_135_596_800 - 1, "earliest"),
        ]
        for (zone, instant, bound) in cases {
            let calendar = BusinessCalendar(timeZone: TimeZone(identifier: zone)!)
            let clock = ManualClock(Date(timeIntervalSince1970: instant))
            #expect(calendar.date(of: clock.now()).isRepresentable, "\(zone): the zone's date is one it handles")
            let portal = try Portal(clock: clock, calendar: calendar)
            let error = #expect(throws: PortalError.self) {
                try portal.perform(PartnerCreate(name: "P"), as: op)
            }
            #expect(error?.code == .dateRule, "\(zone)")
            #expect(
                bound == "latest"
                    ? error?.details.latest == "9999-12-31" : error?.details.earliest == CivilDate.earliest, "\(zone)")
            #expect(portal.journal.isEmpty, "\(zone)")
        }
        // One second later (earlier), every change is made again and written in four-digit years.
        let clock = ManualClock(Date(timeIntervalSince1970: -62_135_596_800))
        let portal = try Portal(clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "P"), as: op).partner
        #expect(partner.createdAt == "0001-01-01T00:00:00Z")
        let sales = Principal(id: "pa", kind: .partnerAdmin, partnerId: partner.id, roles: [.ALL])
        let tenant = try portal.perform(
            TenantCreate(name: "T", contact: contact, address: zurich), as: sales
        ).tenant
        #expect(tenant.actions.contains("tenant.update"))
        clock.set(Date(timeIntervalSince1970: -62_135_596_800 - 1))
        let seen = try portal.perform(TenantGet(tenantId: tenant.id), as: sales).tenant
        #expect(seen.actions == [], "no action is shown when every change is refused")
    }

    /// Near both ends of the dates, in zones far ahead of and behind UTC: a change is made
    /// exactly when today in the zone and now's date in UTC both lie within 0001-01-01 …
    /// 9999-12-31, and then every instant it shows is RFC 3339 UTC with a four-digit year, the
    /// instant itself.
    @Test func aChangeIsMadeExactlyWhenTodayAndNowInUTCAreWithinTheDates() async {
        let zones = ["Europe/Zurich", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
        let ends: [Double] = [-62_135_596_800, 253_402_300_800]
        await propertyCheck(count: 300, input: Gen.int(in: 0...3), Gen.int(in: 0...1), Gen.int(in: -180_000...180_000))
        {
            zone, end, offset in
            do {
                let calendar = BusinessCalendar(timeZone: TimeZone(identifier: zones[zone])!)
                let now = Date(timeIntervalSince1970: ends[end] + Double(offset))
                let utc = CivilDate(daysSince1970: Int((now.timeIntervalSince1970 / 86_400).rounded(.down)))
                let handled = calendar.date(of: now).isRepresentable && utc.isRepresentable
                let portal = try Portal(clock: ManualClock(now), calendar: calendar)
                let made = try? portal.perform(PartnerCreate(name: "P"), as: op).partner
                #expect((made != nil) == handled, "\(zones[zone]) at \(now)")
                guard let made else { return }
                let text = made.createdAt
                #expect(text.utf8.count == 20 && text.hasSuffix("Z"), "\(text)")
                #expect(text.hasPrefix(utc.description + "T"), "\(text) is \(now)")
                #expect(text == timestamp(now))
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func noChangeIsAcknowledgedOnADayPastTheLastDate() throws {
        let d = try Deployed(on: "9999-12-31")
        // 23:30 UTC on 9999-12-31 is already 10000-01-01 in Zurich.
        d.clock.set(Date(timeIntervalSince1970: 253_402_300_800 - 1800))
        #expect(Self.calendar.date(of: d.clock.now()).year == 10000)
        let events = d.portal.journal.count
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(TenantUpdate(tenantId: d.tenantId, name: "Later"), as: d.admin)
        }
        #expect(error?.code == .dateRule)
        let tick = #expect(throws: PortalError.self) { try d.portal.perform(WorkflowTick(), as: op) }
        #expect(tick?.code == .dateRule)
        #expect(d.portal.journal.count == events)
    }
}
