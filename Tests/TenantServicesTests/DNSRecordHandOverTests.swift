import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

/// A domain name whose services have ended can be booked again (by the same tenant, another
/// tenant or another partner) before `workflow.tick` has moved the old booking on. The DNS
/// records of a name are one set, whoever books it, so the tasks of the old and the new booking
/// must never ask a Tech to remove a record the new booking needs, nor to set one that is
/// still in place.
@Suite struct DNSRecordHandOverTests {

    /// Partner Alpha's muster.ch, provisioned inline (its MX record set), then cancelled with
    /// the end of this month; the clock is then a day past the end date, before any tick.
    static func endedWorld() throws -> (world: WorldBuilder, old: String, other: String) {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let alpha = try world.partner("Alpha")
        let beta = try world.partner("Beta")
        let tenantA = try world.tenant("Muster AG", of: alpha)
        let other = try world.tenant("Beispiel GmbH", of: beta)
        let old = try world.domain("muster.ch", of: tenantA, status: .provisioned, users: [.none: 1])
        _ = try world.portal.perform(ServiceCancel(domainId: old, service: "SC-SERVICE"), as: op)
        world.clock.set("2026-12-01")
        return (world, old, other)
    }

    static func tasks(_ world: WorldBuilder, _ domain: String) throws -> [TaskView] {
        try world.portal.perform(TaskList(domainId: domain, limit: 1000), as: op).tasks
    }

    static func addAndDeploy(_ world: WorldBuilder, tenant: String) throws -> String {
        let id = try world.portal.perform(DomainAdd(tenantId: tenant, name: "muster.ch", mode: .inline), as: op)
            .domain.id
        _ = try world.portal.perform(DomainConfirm(domainId: id), as: op)
        _ = try world.portal.perform(DomainDeploy(domainId: id), as: op)
        return id
    }

    /// The name booked again by another partner and deployed before the tick: the new booking's
    /// MX record is the one still in place, so its task is done at once, and the tick gives the
    /// old booking no task to remove it.
    @Test func aRecordANewBookingOfTheNameNeedsIsNeverToBeRemoved() throws {
        let (world, old, other) = try Self.endedWorld()
        let new = try Self.addAndDeploy(world, tenant: other)
        let mx = try #require(try Self.tasks(world, new).first { $0.record.type == "MX" })
        #expect(mx.status == .done, "the MX record is in place since the earlier booking: \(mx)")
        _ = try world.portal.perform(WorkflowTick(), as: op)
        let removals = try Self.tasks(world, old).filter { $0.kind == .remove }
        #expect(!removals.contains { $0.status == .open }, "\(removals)")
        let view = try world.portal.perform(DomainGet(domainId: old), as: op).domain
        #expect(view.services.allSatisfy { $0.status == .deprovisioned }, "\(view.services)")
        let booked = try world.portal.perform(DomainGet(domainId: new), as: op).domain
        #expect(booked.services.allSatisfy { $0.status == .provisioned }, "\(booked.services)")
    }

    /// The name booked again and confirmed, both bookings moved on by one tick (which deploys the
    /// new one and ends the old one in the same call): the same outcome, no removal asked for.
    @Test func oneTickThatDeploysTheNewBookingAndEndsTheOldOneAsksForNoRemoval() throws {
        let (world, old, other) = try Self.endedWorld()
        let new = try world.portal.perform(DomainAdd(tenantId: other, name: "muster.ch", mode: .inline), as: op)
            .domain.id
        _ = try world.portal.perform(DomainConfirm(domainId: new), as: op)
        let tick = try world.portal.perform(WorkflowTick(), as: op)
        #expect(tick.deployed.map(\.domainId) == [new, new])
        #expect(Set(tick.deprovisioned.map(\.number)) == [1, 2], "\(tick)")
        #expect(try Self.tasks(world, old).allSatisfy { $0.status != .open })
        #expect(try Self.tasks(world, new).map(\.status) == [.done])
    }

    /// The old booking's removal task is open (the tick ran) when the name is deployed again:
    /// the removal is no longer wanted, so it is cancelled (and cannot be completed), the old
    /// service is deprovisioned, and the new booking's task is done at once.
    @Test func anOpenRemovalOfARecordTheNameNeedsAgainIsCancelled() throws {
        let (world, old, other) = try Self.endedWorld()
        _ = try world.portal.perform(WorkflowTick(), as: op)
        let removal = try #require(try Self.tasks(world, old).first { $0.kind == .remove && $0.status == .open })
        let new = try Self.addAndDeploy(world, tenant: other)
        let after = try #require(try Self.tasks(world, old).first { $0.id == removal.id })
        #expect(after.status == .cancelled)
        let refusal = #expect(throws: PortalError.self) {
            try world.portal.perform(TaskComplete(taskId: removal.id), as: op)
        }
        #expect(refusal?.code == .invalidTransition)
        #expect(refusal?.message.contains("booked again") == true, "\(String(describing: refusal))")
        #expect(
            try world.portal.perform(DomainGet(domainId: old), as: op).domain.services.allSatisfy {
                $0.status == .deprovisioned
            })
        #expect(try Self.tasks(world, new).allSatisfy { $0.status == .done })
    }

    /// A keyed deploy that takes a record over keeps its request key (and so its result) on the
    /// record of its own domain, never on the other partner's.
    @Test func theRequestKeyOfAHandOverStaysWithTheDeployingPartner() throws {
        let (world, old, other) = try Self.endedWorld()
        let new = try world.portal.perform(DomainAdd(tenantId: other, name: "muster.ch", mode: .inline), as: op)
            .domain.id
        _ = try world.portal.perform(DomainConfirm(domainId: new), as: op)
        let tech = world.actor(.tech, of: "P2", tenant: other)
        _ = try world.portal.perform(DomainDeploy(domainId: new), as: tech, requestKey: "deploy-1")
        let keyed = world.portal.journal.filter { $0.requestKey != nil }
        #expect(keyed.map(\.domainId) == [new])
        #expect(world.portal.journal.contains { $0.domainId == old && $0.actor.id == "system" })
    }

    /// The same domain booked again (its services had all ended): its own open removal of the
    /// MX record and the new deploy task do not contradict each other either.
    @Test func theSameDomainBookedAgainTakesOverItsOwnRecord() throws {
        let (world, old, _) = try Self.endedWorld()
        _ = try world.portal.perform(WorkflowTick(), as: op)
        _ = try world.portal.perform(ServiceAdd(domainId: old, services: ["SC-SERVICE", "SC-F-INBOUND"]), as: op)
        _ = try world.portal.perform(DomainConfirm(domainId: old), as: op)
        _ = try world.portal.perform(DomainDeploy(domainId: old), as: op)
        let tasks = try Self.tasks(world, old)
        #expect(!tasks.contains { $0.status == .open }, "\(tasks)")
        let view = try world.portal.perform(DomainGet(domainId: old), as: op).domain
        #expect(view.services.filter { $0.number > 2 }.allSatisfy { $0.status == .provisioned }, "\(view.services)")
    }

    /// Once the old booking's removal is done (the record is gone), a new booking's task is to
    /// set the record again, as on any new domain.
    @Test func aRecordRemovedMeanwhileIsSetAgain() throws {
        let (world, old, other) = try Self.endedWorld()
        _ = try world.portal.perform(WorkflowTick(), as: op)
        for task in try Self.tasks(world, old) where task.status == .open {
            _ = try world.portal.perform(TaskComplete(taskId: task.id), as: op)
        }
        let new = try Self.addAndDeploy(world, tenant: other)
        #expect(try Self.tasks(world, new).map(\.status) == [.open])
    }

    /// A record the old booking never set (its deploy task was still open when it ended) is to be
    /// set by the new booking, and the old task is cancelled.
    @Test func aRecordNeverSetIsSetByTheNewBooking() throws {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let alpha = try world.partner("Alpha")
        let tenant = try world.tenant("Muster AG", of: alpha)
        let old = try world.domain("muster.ch", of: tenant, status: .provisioning)
        _ = try world.portal.perform(ServiceCancel(domainId: old, service: "SC-SERVICE"), as: op)
        world.clock.set("2026-12-01")
        let other = try world.tenant("Beispiel GmbH", of: alpha)
        let new = try Self.addAndDeploy(world, tenant: other)
        #expect(try Self.tasks(world, old).map(\.status) == [.cancelled])
        #expect(try Self.tasks(world, new).map(\.status) == [.open])
    }

    /// What the old booking's partner is told names neither the new domain nor its tenant, and
    /// the change is recorded as the system's, not as the other partner's admin's.
    @Test func theOldPartnerLearnsNothingOfTheNewBooking() throws {
        let (world, old, other) = try Self.endedWorld()
        _ = try world.portal.perform(WorkflowTick(), as: op)
        let tech = world.actor(.tech, of: "P2", tenant: other)
        let new = try world.portal.perform(DomainAdd(tenantId: other, name: "muster.ch", mode: .inline), as: op)
            .domain.id
        _ = try world.portal.perform(DomainConfirm(domainId: new), as: op)
        _ = try world.portal.perform(DomainDeploy(domainId: new), as: tech)
        let auditor = world.actor(.all, of: "P1")
        let events = try world.portal.perform(AuditList(limit: 1000), as: auditor).events
        let last = try #require(events.last)
        #expect(last.target == old)
        #expect(last.actor.id == "system", "\(last)")
        for event in events {
            #expect(!event.summary.contains(new) && !event.summary.contains(other) && event.actor.id != tech.id)
        }
    }

    // MARK: Generated workflows

    /// One DNS record of a name, as a Tech sets or removes it.
    struct ZoneEntry: Hashable, CustomStringConvertible {
        var name: String
        var record: DNSRecord
        var description: String { "\(record.type) \(record.name) → \(record.value)" }
    }

    /// A world of workflows on two names booked again and again: three tenants of two partners,
    /// and the DNS zone a Tech keeps by doing exactly what the completed tasks say.
    final class ReBookingWorld {
        let world: WorldBuilder
        var domains: [String] = []
        var zone: Set<ZoneEntry> = []
        let tenants: [String]
        static let names = ["muster.ch", "muster.ch", "beispiel.ch"]

        init() throws {
            world = try WorldBuilder(clock: TestClock("2026-11-18"))
            let alpha = try world.partner("Alpha")
            let beta = try world.partner("Beta")
            tenants = [
                try world.tenant("A1", of: alpha), try world.tenant("A2", of: alpha), try world.tenant("B1", of: beta),
            ]
        }

        var portal: Portal { world.portal }

        /// Runs the step a seed names; refusals are normal outcomes. Returns what it did.
        func run(_ seed: Int) -> String {
            var r = seed
            func pick(_ n: Int) -> Int {
                defer { r /= n }
                return r % n
            }
            // Step kinds by weight (out of 20): add 3, book again 1, confirm 3, deploy 3, complete a
            // task 4, cancel 2, move the clock 2, tick 2.
            let kind = [0, 0, 0, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 6, 6, 7, 7, 8, 8][pick(20)]
            // Mostly a domain the step can move on, so that workflows get far.
            let views = domains.compactMap { try? portal.perform(DomainGet(domainId: $0), as: op).domain }
            let today = world.clock.today
            let fitting = views.filter { view in
                switch kind {
                case 1: !view.services.contains { $0.isLive(on: today) }
                case 2: view.services.contains { $0.status == .ordered }
                case 3: view.services.contains { $0.status == .confirmed }
                case 6: view.services.contains { $0.isLive(on: today) && $0.status != .cancelled }
                default: true
                }
            }.map(\.id)
            let candidates = fitting.isEmpty || pick(5) == 0 ? domains : fitting
            let domain = candidates.isEmpty ? "D1" : candidates[pick(candidates.count)]
            do throws(PortalError) {
                switch kind {
                case 0:
                    let inline = pick(2) == 0
                    let options =
                        inline
                        ? [[], ["SC-F-OUTBOUND"], ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"]][pick(3)]
                        : [[], ["SC-SIGENC", "SC-CERT"]][pick(2)]
                    let name = Self.names[pick(Self.names.count)]
                    let tenant = tenants[pick(tenants.count)]
                    let id = try portal.perform(
                        DomainAdd(tenantId: tenant, name: name, mode: inline ? .inline : .parallel, services: options),
                        as: op
                    ).domain.id
                    domains.append(id)
                    return "add \(name) \(inline ? "inline" : "parallel") \(options) to \(tenant) as \(id)"
                case 1:
                    let codes = [["SC-SERVICE", "SC-F-INBOUND"], ["SC-SERVICE", "SC-MS365", "SC-SIGENC"]][pick(2)]
                    _ = try portal.perform(ServiceAdd(domainId: domain, services: codes), as: op)
                    return "book \(codes) again on \(domain)"
                case 2:
                    _ = try portal.perform(DomainConfirm(domainId: domain), as: op)
                    return "confirm \(domain)"
                case 3:
                    _ = try portal.perform(DomainDeploy(domainId: domain), as: op)
                    return "deploy \(domain)"
                case 4, 5:
                    let open = try portal.perform(TaskList(status: .open, limit: 1000), as: op)
                        .tasks
                    guard !open.isEmpty else { return "no open task" }
                    let task = open[pick(open.count)]
                    try complete(task)
                    return "complete \(task.kind) \(task.record.type) task \(task.id) of \(task.domainId)"
                case 6:
                    let code = ["SC-SERVICE", "SC-SERVICE", "SC-F-INBOUND", "SC-MS365", "SC-SIGENC"][pick(5)]
                    _ = try portal.perform(
                        ServiceCancel(domainId: domain, service: code), as: op)
                    return "cancel \(code) on \(domain)"
                case 7:
                    let days = 1 + pick(20)
                    world.clock.advance(days: days)
                    return "advance \(days) days"
                default:
                    _ = try portal.perform(WorkflowTick(), as: op)
                    return "tick"
                }
            } catch {
                return "refused (\(error.code))"
            }
        }

        /// Completes a task, doing in the zone what it says.
        func complete(_ task: TaskView) throws(PortalError) {
            _ = try portal.perform(TaskComplete(taskId: task.id), as: op)
            let name = try portal.perform(DomainGet(domainId: task.domainId), as: op).domain
                .name
            let entry = ZoneEntry(name: name, record: task.record)
            if task.kind == .deploy { zone.insert(entry) } else { zone.remove(entry) }
        }

        /// Every domain as the operator sees it, with its tasks.
        func snapshot() throws -> [(domain: DomainView, tasks: [TaskView])] {
            try domains.map { id in
                (
                    try portal.perform(DomainGet(domainId: id), as: op).domain,
                    try portal.perform(TaskList(domainId: id, limit: 1000), as: op).tasks
                )
            }
        }

        /// The records the live services whose deploy tasks are done rely on.
        func needed(_ snapshot: [(domain: DomainView, tasks: [TaskView])], provisionedOnly: Bool) -> Set<ZoneEntry> {
            let today = world.clock.today
            var needed: Set<ZoneEntry> = []
            for (domain, tasks) in snapshot {
                for service in domain.services where service.isLive(on: today) {
                    if provisionedOnly && service.provisionedAt == nil { continue }
                    for task in tasks
                    where task.number == service.number && task.kind == .deploy && task.status == .done {
                        needed.insert(ZoneEntry(name: domain.name, record: task.record))
                    }
                }
            }
            return needed
        }

        /// The DNS instructions never contradict each other and never take away what a live
        /// provisioned service relies on.
        func check() throws -> String? {
            let snapshot = try snapshot()
            var open: [ZoneEntry: Set<TaskKind>] = [:]
            for (domain, tasks) in snapshot {
                for task in tasks where task.status == .open {
                    open[ZoneEntry(name: domain.name, record: task.record), default: []].insert(task.kind)
                }
            }
            if let both = open.first(where: { $0.value.count == 2 }) {
                return "both an open deploy and an open removal task for \(both.key)"
            }
            let needed = needed(snapshot, provisionedOnly: true)
            if let missing = needed.first(where: { !zone.contains($0) }) {
                return "\(missing) is needed by a provisioned live service but not in the zone \(zone)"
            }
            if let doomed = open.first(where: { $0.value.contains(.remove) && needed.contains($0.key) }) {
                return "an open task removes \(doomed.key), which a provisioned live service needs"
            }
            return nil
        }

        /// Ticks, completes every open task, ticks again: then the zone holds exactly what the
        /// live deployed services need, nothing left behind.
        func drain() throws -> String? {
            _ = try portal.perform(WorkflowTick(), as: op)
            while let task = try portal.perform(TaskList(status: .open, limit: 1), as: op).tasks
                .first
            {
                try complete(task)
            }
            _ = try portal.perform(WorkflowTick(), as: op)
            let needed = needed(try snapshot(), provisionedOnly: false)
            guard zone == needed else {
                return "after draining, the zone holds \(zone) but the live services need \(needed)"
            }
            return nil
        }
    }

    /// Generated workflows that book two names again and again (the same domain, another tenant,
    /// another partner), deploy, complete tasks in any order, cancel, move the clock and tick:
    /// following the tasks, a Tech never gets two contradictory instructions for one record,
    /// never removes a record a provisioned live service needs, and once everything is done the
    /// zone holds exactly what the live services need.
    @Test func dnsTasksOfANameBookedAgainNeverContradictEachOther() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int(Int32.max)).array(of: 20...80)) { seeds in
            do {
                let world = try ReBookingWorld()
                var log: [String] = []
                for seed in seeds {
                    log.append(world.run(seed))
                    if let failure = try world.check() {
                        Issue.record("\(failure) after \(log)")
                        return
                    }
                }
                if let failure = try world.drain() {
                    Issue.record("\(failure) after \(log)")
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
