import Foundation
import Testing

@testable import TenantServices

/// A portal on a manual clock with one deployed domain (inline: OUTBOUND, SIGENC, CERT, all provisioned).
struct Deployed {
    let clock: ManualClock
    let portal: Portal
    let admin: Principal
    let domainId: String
    let tenantId: String

    /// Starts at 12:00 local time of `day` (Europe/Zurich) unless an instant is given.
    init(
        on day: String, at instant: Date? = nil, services: [String] = ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"],
        address: Address = zurich
    ) throws {
        let calendar = BusinessCalendar()
        clock = ManualClock(instant ?? calendar.start(of: CivilDate(day)!).addingTimeInterval(12 * 3600))
        portal = try Portal(clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "P"), as: op).partner.id
        admin = Principal(id: "pa", kind: .partnerAdmin, partnerId: partner, roles: [.ALL])
        tenantId = try portal.perform(TenantCreate(name: "T", contact: contact, address: address), as: admin).tenant.id
        domainId = try portal.perform(
            DomainAdd(tenantId: tenantId, name: "d.ch", mode: .inline, services: services), as: admin
        ).domain.id
        _ = try portal.perform(DomainConfirm(domainId: domainId), as: admin)
        for task in try portal.perform(DomainDeploy(domainId: domainId), as: admin).tasks {
            _ = try portal.perform(TaskComplete(taskId: task.id), as: admin)
        }
        _ = try portal.perform(
            UsersImport(
                domainId: domainId,
                users: [
                    .init(address: "a@d.ch", protection: .signEncrypt), .init(address: "b@d.ch", protection: .signOnly),
                    .init(address: "c@d.ch", protection: .none),
                ]), as: admin)
    }

    func cancel(_ code: String, end: String? = nil, dryRun: Bool? = nil) throws -> ServiceCancel.Response {
        try portal.perform(
            ServiceCancel(domainId: domainId, service: code, endDate: end.flatMap(CivilDate.init), dryRun: dryRun),
            as: admin)
    }

    func services() throws -> [String: ServiceView] {
        let domain = try portal.perform(DomainGet(domainId: domainId), as: admin).domain
        return Dictionary(domain.services.map { ($0.code, $0) }, uniquingKeysWith: { $1 })
    }

    func tick(on day: String) throws -> WorkflowTick.Response {
        clock.set(BusinessCalendar().start(of: CivilDate(day)!).addingTimeInterval(3600))
        return try portal.perform(WorkflowTick(), as: op)
    }
}

@Suite struct CancellationTests {
    @Test(arguments: [
        ("2026-11-18", "2026-11-30"),  // mid-month: end of this month
        ("2026-11-30", "2026-12-31"),  // last day: end of next month
        ("2027-01-31", "2027-02-28"),  // 31 January
        ("2028-01-31", "2028-02-29"),  // 31 January of a leap year
        ("2028-02-29", "2028-03-31"),  // leap day is the last day of February
        ("2026-12-15", "2026-12-31"),
        ("2026-12-31", "2027-01-31"),  // across the year end
        ("2026-03-29", "2026-03-31"),  // the day Zurich moves to summer time
        ("2026-10-25", "2026-10-31"),  // the day Zurich moves back to winter time
    ])
    func defaultEndDate(today: String, expected: String) throws {
        let d = try Deployed(on: today)
        let result = try d.cancel("SC-CERT")
        #expect(result.cancelled.map(\.endDate.description) == [expected])
        #expect(result.cancelled.map(\.status) == [.cancelled])
    }

    @Test func localMidnightDecidesTheDayNotUTC() throws {
        // 2026-03-31T22:30Z is already 1 April in Zurich (summer time, UTC+2): the month is April.
        let d = try Deployed(on: "", at: Date(timeIntervalSince1970: 1_774_996_200))
        #expect(BusinessCalendar().date(of: d.clock.now()).description == "2026-04-01")
        #expect(try d.cancel("SC-CERT").cancelled[0].endDate.description == "2026-04-30")
        // 2026-10-24T22:30Z is 25 October 00:30 in Zurich (still summer time, UTC+2).
        let e = try Deployed(on: "", at: Date(timeIntervalSince1970: 1_792_881_000))
        let error = #expect(throws: PortalError.self) { try e.cancel("SC-CERT", end: "2026-10-25") }
        #expect(
            error?.details.earliest == CivilDate("2026-10-26"),
            "in UTC it is still the 24th, in Zurich already the 25th")
    }

    @Test func endDateTodayIsRefusedTomorrowAccepted() throws {
        let d = try Deployed(on: "2026-11-18")
        let error = #expect(throws: PortalError.self) { try d.cancel("SC-CERT", end: "2026-11-18") }
        #expect(error?.code == .dateRule)
        #expect(error?.details.earliest == CivilDate("2026-11-19"))
        #expect(try d.services()["SC-CERT"]?.status == .provisioned, "nothing changed")
        #expect(try d.cancel("SC-CERT", end: "2026-11-19").cancelled[0].endDate == CivilDate("2026-11-19"))
    }

    @Test func cancellingTheModeServiceEndsTheWholeDomain() throws {
        let d = try Deployed(on: "2026-11-18")
        let result = try d.cancel("SC-F-INBOUND")
        #expect(
            Set(result.cancelled.map(\.code)) == [
                "SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT",
            ])
        #expect(Set(result.cancelled.map(\.endDate)) == [CivilDate("2026-11-30")!])
        #expect(result.domain.actions.contains("service.uncancel"))
    }

    @Test func cascadeFollowsRequirementsTransitively() throws {
        let d = try Deployed(on: "2026-11-18")
        let dry = try d.cancel("SC-F-OUTBOUND", dryRun: true)
        #expect(dry.dryRun)
        #expect(dry.cancelled.map(\.code) == ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"])
        #expect(try d.services().values.allSatisfy { $0.status == .provisioned }, "a dry run changes nothing")
        let real = try d.cancel("SC-SIGENC")
        #expect(real.cancelled.map(\.code) == ["SC-SIGENC", "SC-CERT"])
        #expect(try d.services()["SC-F-OUTBOUND"]?.status == .provisioned)
    }

    @Test func aLaterEndDateOfADependantIsMovedEarlier() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-CERT", end: "2026-12-31")
        let result = try d.cancel("SC-SIGENC", end: "2026-11-25")
        #expect(result.cancelled.map(\.code) == ["SC-SIGENC", "SC-CERT"])
        #expect(try d.services()["SC-CERT"]?.endDate == CivilDate("2026-11-25"))
        // Uncancel restores the CERT to its own earlier cancellation.
        _ = try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-SIGENC"), as: d.admin)
        let after = try d.services()
        #expect(after["SC-SIGENC"]?.status == .provisioned)
        #expect(after["SC-CERT"]?.status == .cancelled)
        #expect(after["SC-CERT"]?.endDate == CivilDate("2026-12-31"))
    }

    @Test func neverDeployedServicesEndAtOnceAndAreNeverBilled() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-HIN"]), as: d.admin)
        let result = try d.cancel("SC-HIN", end: "2027-05-31")
        #expect(result.cancelled[0].status == .deprovisioned)
        #expect(result.cancelled[0].endDate == CivilDate("2026-11-18"), "a given end date is ignored")
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-HIN"), as: d.admin)
        }
        #expect(error?.code == .invalidTransition)
        #expect(try d.services()["SC-HIN"]?.billingStart == nil)
    }

    @Test func cancellingWhatIsNotLiveIsAnInvalidTransition() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-CERT")
        #expect(throws: PortalError.self) { try d.cancel("SC-CERT") }
        let unknown = #expect(throws: PortalError.self) { try d.cancel("SC-HIN") }
        #expect(unknown?.code == .notFound)
    }

    @Test func uncancelRefusesWhenARequirementStaysCancelledByAnotherOperation() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-CERT", end: "2026-11-30")
        _ = try d.cancel("SC-SIGENC", end: "2026-11-30")  // CERT keeps its own (not later) end date
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-CERT"), as: d.admin)
        }
        #expect(error?.code == .dependencyViolation)
        #expect(error?.details.violations?.first?.services == ["SC-CERT", "SC-SIGONLY", "SC-SIGENC"])
        let restored = try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-SIGENC"), as: d.admin)
        #expect(restored.restored == ["SC-SIGENC"])
        #expect(
            try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-CERT"), as: d.admin).restored == [
                "SC-CERT"
            ])
    }

    @Test func tickEndsServicesAfterTheEndDateAndRemovalTasksFinishThem() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-SIGENC", end: "2026-11-20")
        #expect(try d.tick(on: "2026-11-20").ended.isEmpty, "the end date itself is still a service day")
        let tick = try d.tick(on: "2026-11-21")
        #expect(tick.ended.map(\.service) == ["SC-SIGENC", "SC-CERT"])
        #expect(tick.ended.map(\.number) == [4, 5])
        let s = try d.services()
        #expect(s["SC-SIGENC"]?.status == .deprovisioning)
        #expect(s["SC-CERT"]?.status == .deprovisioning)
        let removals = try d.portal.perform(TaskList(domainId: d.domainId, status: .open), as: d.admin).tasks
        #expect(removals.map(\.kind) == [.remove, .remove])
        #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-SIGENC"), as: d.admin)
        }
        for task in removals { _ = try d.portal.perform(TaskComplete(taskId: task.id), as: d.admin) }
        #expect(try d.services()["SC-SIGENC"]?.status == .deprovisioned)
        // A service without removal tasks is deprovisioned by the tick at once.
        _ = try d.cancel("SC-F-OUTBOUND", end: "2026-11-25")
        let later = try d.tick(on: "2026-11-26")
        #expect(later.deprovisioned.map(\.service) == ["SC-F-OUTBOUND"])
    }

    @Test func discountsNeedAReasonAndShowALabel() throws {
        let d = try Deployed(on: "2026-11-18")
        #expect(throws: PortalError.self) {
            try d.portal.perform(
                ServiceSetDiscount(domainId: d.domainId, service: "SC-SIGENC", percent: 10), as: d.admin)
        }
        #expect(throws: PortalError.self) {
            try d.portal.perform(
                ServiceSetDiscount(domainId: d.domainId, service: "SC-SIGENC", percent: 10.005, reason: .nfr),
                as: d.admin)
        }
        let domain = try d.portal.perform(
            ServiceSetDiscount(domainId: d.domainId, service: "SC-SIGENC", percent: 12.5, reason: .promotion),
            as: d.admin
        ).domain
        #expect(domain.services.first { $0.code == "SC-SIGENC" }?.discount?.label == "12.5 % (promotion)")
        let removed = try d.portal.perform(
            ServiceSetDiscount(domainId: d.domainId, service: "SC-SIGENC", percent: 0), as: d.admin
        ).domain
        #expect(removed.services.first { $0.code == "SC-SIGENC" }?.discount == nil)
        #expect(Discount(basisPoints: 1000, reason: .nfr).label == "10 % (nfr)")
        #expect(Discount(basisPoints: 1005, reason: .other).label == "10.05 % (other)")
    }
}
