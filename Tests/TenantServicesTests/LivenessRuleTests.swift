import Foundation
import TenantServicesTesting
import Testing

@testable import TenantServices

extension Deployed {
    /// Moves the clock to noon of a day (Europe/Zurich) without running `workflow.tick`.
    func move(to day: String) {
        clock.set(BusinessCalendar().start(of: CivilDate(day)!).addingTimeInterval(12 * 3600))
    }

    func tasks(status: TaskStatus? = nil) throws -> [TaskView] {
        try portal.perform(TaskList(domainId: domainId, status: status, limit: 1000), as: admin).tasks
    }

    func domain() throws -> DomainView { try portal.perform(DomainGet(domainId: domainId), as: admin).domain }
}

/// One regression test per rule of issue 13 that the library got wrong.
@Suite struct LivenessRuleTests {
    /// Defect 1, liveness: a cancelled service past its end date is not live even before the tick.
    @Test func aCancelledServicePastItsEndDateCannotBeUncancelledCountedOrBilled() throws {
        let d = try Deployed(on: "2026-11-18")
        #expect(try d.cancel("SC-F-OUTBOUND").cancelled.map(\.code) == ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"])
        d.move(to: "2026-12-01")
        let uncancel = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-F-OUTBOUND"), as: d.admin)
        }
        #expect(uncancel?.code == .invalidTransition)
        #expect(uncancel?.message.contains("2026-11-30") == true)
        let cancel = #expect(throws: PortalError.self) { try d.cancel("SC-F-OUTBOUND") }
        #expect(cancel?.code == .invalidTransition)
        let view = try d.portal.perform(TenantGet(tenantId: d.tenantId), as: d.admin)
        #expect(view.domains[0].services.first { $0.code == "SC-F-OUTBOUND" }?.status == .cancelled, "no tick yet")
        #expect(view.tenant.totalServices == 2, "SC-SERVICE and SC-F-INBOUND only")
        #expect(view.tenant.managedDomains == 1)
        #expect(!view.domains[0].actions.contains("service.uncancel"))
        let december = try d.portal.perform(BillingStatement(month: Month("2026-12")!), as: d.admin)
        #expect(december.lines.map(\.service) == ["SC-SERVICE", "SC-F-INBOUND"], "nothing billed after its end date")
    }

    /// Defect 1: a domain whose services all ended by date is no longer managed, and its name is free.
    @Test func aDomainWhoseServicesEndedByDateIsNotManagedAndItsNameIsFree() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-SERVICE")
        d.move(to: "2026-12-01")
        let view = try d.portal.perform(TenantGet(tenantId: d.tenantId), as: d.admin)
        #expect(view.tenant.managedDomains == 0)
        #expect(view.tenant.totalServices == 0)
        let actions = Set(view.domains[0].actions)
        #expect(actions.isDisjoint(with: ["service.cancel", "service.uncancel", "service.setDiscount"]))
        let discount = #expect(throws: PortalError.self) {
            try d.portal.perform(
                ServiceSetDiscount(domainId: d.domainId, service: "SC-CERT", percent: 10, reason: .nfr), as: d.admin)
        }
        #expect(discount?.code == .invalidTransition)
        let other = try d.portal.perform(TenantCreate(name: "Other", contact: contact, address: zurich), as: d.admin)
        let again = try d.portal.perform(
            DomainAdd(tenantId: other.tenant.id, name: "d.ch", mode: .parallel), as: d.admin)
        #expect(again.domain.id != d.domainId)
    }

    /// Defect 2: a restored service continues its workflow at once, billed from that day.
    @Test func aRestoredServiceContinuesItsWorkflowInTheSameCall() throws {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let partner = try world.partner("P")
        let tenant = try world.tenant("T", of: partner)
        let id = try world.domain("w.ch", of: tenant, status: .provisioning, users: [.none: 2])
        let admin = world.actor(.all, of: partner)
        let portal = world.portal
        _ = try portal.perform(ServiceCancel(domainId: id, service: "SC-F-INBOUND"), as: admin)
        let mx = try portal.perform(TaskList(domainId: id, status: .open), as: admin).tasks
        #expect(mx.map(\.service) == ["SC-F-INBOUND"])
        _ = try portal.perform(TaskComplete(taskId: mx[0].id), as: admin)
        world.clock.set("2026-11-25")
        let restored = try portal.perform(ServiceUncancel(domainId: id, service: "SC-F-INBOUND"), as: admin)
        let inbound = restored.domain.services.first { $0.code == "SC-F-INBOUND" }
        #expect(inbound?.status == .provisioned)
        #expect(inbound?.billingStart == CivilDate("2026-11-25"), "billed from the day it went live, never backdated")
        #expect(inbound?.endDate == nil)
    }

    /// Defect 3: with SC-SERVICE cancelled nothing is available and `service.add` is not advertised.
    @Test func availabilityAndTheAddActionAgreeWithServiceAddOnACancelledDomain() throws {
        let d = try Deployed(on: "2026-11-18", services: ["SC-F-OUTBOUND"])
        _ = try d.cancel("SC-SERVICE")
        #expect(!(try d.domain().actions.contains("service.add")))
        let available = try d.portal.perform(ServiceAvailable(domainId: d.domainId), as: d.admin).services
        #expect(available.allSatisfy { !$0.available && $0.reason?.contains("uncancel") == true }, "\(available)")
        let add = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-HIN"]), as: d.admin)
        }
        #expect(add?.code == .invalidTransition)
    }

    /// Defect 3: an ended domain whose name another tenant has booked meanwhile offers nothing to add.
    @Test func availabilityAndTheAddActionAgreeWithServiceAddOnADomainBookedElsewhere() throws {
        let d = try Deployed(on: "2026-11-18", services: [])
        _ = try d.cancel("SC-SERVICE")
        _ = try d.tick(on: "2026-12-01")
        #expect(try d.domain().actions.contains("service.add"), "nobody has the name yet")
        let other = try d.portal.perform(PartnerCreate(name: "Other"), as: op).partner.id
        let tenant = try d.portal.perform(
            TenantCreate(partnerId: other, name: "O", contact: contact, address: zurich), as: op)
        _ = try d.portal.perform(DomainAdd(tenantId: tenant.tenant.id, name: "d.ch", mode: .inline), as: op)
        #expect(!(try d.domain().actions.contains("service.add")))
        let available = try d.portal.perform(ServiceAvailable(domainId: d.domainId), as: d.admin).services
        #expect(available.allSatisfy { !$0.available && $0.reason?.contains("booked again") == true })
        let add = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-SERVICE"]), as: d.admin)
        }
        #expect(add?.code == .conflict)
    }

    /// Defect 3: a role that cannot order sees nothing available (service.add would be refused).
    @Test func availabilityIsFalseForActorsWhoMayNotOrder() throws {
        let d = try Deployed(on: "2026-11-18", services: [])
        let support = Principal(id: "s", kind: .partnerAdmin, partnerId: d.admin.partnerId, roles: [.Support])
        let available = try d.portal.perform(ServiceAvailable(domainId: d.domainId), as: support).services
        #expect(available.allSatisfy { !$0.available && $0.reason?.contains("Sales") == true })
        #expect(
            try d.portal.perform(ServiceAvailable(domainId: d.domainId), as: d.admin).services.contains(
                where: \.available))
    }

    /// Defect 4: live services without a live mode service give mode `null`; an ended domain keeps its mode.
    @Test func aDomainWithLiveServicesButNoModeServiceHasNoMode() throws {
        let d = try Deployed(on: "2026-11-18", services: [])
        _ = try d.cancel("SC-SERVICE")
        d.move(to: "2026-12-01")
        #expect(try d.domain().mode == .inline, "ended by date: keeps the mode it last had")
        _ = try d.tick(on: "2026-12-01")
        #expect(try d.domain().mode == .inline, "ended: keeps the mode it last had")
        let base = try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-SERVICE"]), as: d.admin)
        #expect(base.domain.mode == nil, "a live SC-SERVICE without a mode service")
        let parallel = try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-MS365"]), as: d.admin)
        #expect(parallel.domain.mode == .parallel)
    }

    /// Defect 9: deploy tasks of a service that ends unprovisioned are cancelled; removal
    /// tasks only for deploy tasks that were done.
    @Test func deployTasksOfAServiceThatEndsUnprovisionedAreCancelled() throws {
        let d = try Deployed(on: "2026-11-18", services: [])
        // Book SIGENC (CNAME) and CERT (TXT) beside a provisioned OUTBOUND; complete only CERT's TXT.
        _ = try d.portal.perform(
            ServiceAdd(domainId: d.domainId, services: ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"]), as: d.admin)
        _ = try d.portal.perform(DomainConfirm(domainId: d.domainId), as: d.admin)
        let tasks = try d.portal.perform(DomainDeploy(domainId: d.domainId), as: d.admin).tasks
        #expect(tasks.map(\.service) == ["SC-SIGENC", "SC-CERT"])
        #expect(tasks.map(\.number) == [4, 5])
        _ = try d.portal.perform(TaskComplete(taskId: tasks[1].id), as: d.admin)
        #expect(try d.services()["SC-CERT"]?.status == .provisioning, "CERT waits for SIGENC")
        _ = try d.cancel("SC-SIGENC")  // cascades to CERT; both end 2026-11-30
        d.move(to: "2026-11-25")
        #expect(try d.tasks(status: .open).map(\.id) == [tasks[0].id], "still live: the task can be completed")
        d.move(to: "2026-12-01")
        #expect(try d.tasks(status: .open).isEmpty)
        #expect(try d.tasks(status: .cancelled).map(\.id) == [tasks[0].id], "cancelled by date, before the tick")
        #expect(!(try d.domain().actions.contains("task.complete")))
        let complete = #expect(throws: PortalError.self) {
            try d.portal.perform(TaskComplete(taskId: tasks[0].id), as: d.admin)
        }
        #expect(complete?.code == .invalidTransition)
        let tick = try d.tick(on: "2026-12-01")
        #expect(tick.ended.map(\.number) == [4, 5])
        #expect(tick.deprovisioned.map(\.number) == [4], "SIGENC has no removal task: its CNAME was never set")
        let all = try d.tasks()
        #expect(all.first { $0.id == tasks[0].id }?.status == .cancelled)
        let removals = all.filter { $0.kind == .remove }
        #expect(removals.map(\.service) == ["SC-CERT"])
        #expect(removals.map(\.number) == [5])
        #expect(removals.map(\.record) == [tasks[1].record])
    }

    /// Defect 10: `workflow.tick` reports each booked service by domain, code and number.
    @Test func workflowTickReportsEachBookedServiceByNumber() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-SIGENC", end: "2026-11-20")
        let first = try d.tick(on: "2026-11-21")
        #expect(
            first.ended.map { "\($0.domainId) \($0.service) \($0.number)" } == [
                "\(d.domainId) SC-SIGENC 4", "\(d.domainId) SC-CERT 5",
            ])
        for task in try d.tasks(status: .open) { _ = try d.portal.perform(TaskComplete(taskId: task.id), as: d.admin) }
        #expect(try d.services()["SC-SIGENC"]?.status == .deprovisioned)
        _ = try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-SIGENC", "SC-CERT"]), as: d.admin)
        _ = try d.portal.perform(DomainConfirm(domainId: d.domainId), as: d.admin)
        let deploy = try d.portal.perform(DomainDeploy(domainId: d.domainId), as: d.admin).tasks
        #expect(deploy.map(\.number) == [6, 7])
        for task in deploy { _ = try d.portal.perform(TaskComplete(taskId: task.id), as: d.admin) }
        _ = try d.cancel("SC-SIGENC", end: "2026-11-25")
        let second = try d.tick(on: "2026-11-26")
        #expect(second.ended.map(\.number) == [6, 7])
        #expect(second.deprovisioned.isEmpty, "the new bookings' removal tasks are open")
        #expect(try d.tasks(status: .open).map(\.number) == [6, 7])
    }

    /// Defect 12: a catalog code not booked on the domain is not-found, like an unknown code.
    @Test func aCatalogCodeNotBookedOnTheDomainIsNotFound() throws {
        let d = try Deployed(on: "2026-11-18")
        let calls: [(String, () throws -> Void)] = [
            ("cancel", { _ = try d.cancel("SC-HIN") }),
            (
                "uncancel",
                { _ = try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: "SC-HIN"), as: d.admin) }
            ),
            (
                "setDiscount",
                {
                    _ = try d.portal.perform(
                        ServiceSetDiscount(domainId: d.domainId, service: "SC-MS365", percent: 5, reason: .nfr),
                        as: d.admin)
                }
            ),
        ]
        for (name, call) in calls {
            let error = #expect(throws: PortalError.self, "\(name)") { try call() }
            #expect(error?.code == .notFound, "\(name): \(error?.description ?? "")")
        }
        // Same place of the order as an unknown code: after the version.
        let stale = #expect(throws: PortalError.self) {
            try d.portal.perform(
                ServiceUncancel(domainId: d.domainId, service: "SC-HIN", expectedVersion: 1), as: d.admin)
        }
        #expect(stale?.code == .conflict)
    }

    /// Defect 14: a report (`domain.check`, a refusal's violations) lists every violated rule.
    @Test func reportsListEveryViolatedRule() throws {
        let noBase = Catalog.standard.violations(of: ["SC-F-INBOUND", "SC-F-OUTBOUND"], region: .CH)
        #expect(noBase.map(\.rule) == [.missingBase, .requires])
        #expect(noBase[1].services == ["SC-F-INBOUND", "SC-SERVICE"])
        let world = try World()
        let parallel = world.domains[0][1]
        let error = try refusal(
            world, ServiceAdd(domainId: parallel, services: ["SC-F-INBOUND", "SC-F-OUTBOUND"]), as: op)
        #expect(error.code == .dependencyViolation)
        #expect(error.details.violations?.map(\.rule) == [.excludes, .mode])
        #expect(error.details.violations?.last?.services == ["SC-F-OUTBOUND"])
        #expect(error.details.violations?.last?.message.contains("parallel mode") == true)
    }
}
