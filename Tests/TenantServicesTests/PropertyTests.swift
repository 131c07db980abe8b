import OrderedCollections
import PropertyBased
import Synchronization
import TenantServicesTesting
import Testing

@testable import TenantServices

/// Random operation sequences by random actors of two partners, checked after every step with the
/// same generators and invariant checker that `TenantServicesTesting` ships to users. The steps
/// include cancel, uncancel, discounts, ticks and clock moves, so the checker's billing
/// invariants (billing start, frozen past statements, requirements of cancelled services) are
/// exercised here too.
@Suite struct PropertyTests {
    /// Two partners with a tenant each, a domain in several states, and every persona of both.
    static func world(faults: Faults = Faults(), store: any Store = InMemoryStore()) throws -> (
        WorldBuilder, [Principal]
    ) {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"), faults: faults, store: store)
        var actors: [Principal] = [.platformOperator()]
        for name in ["Alpha", "Beta"] {
            let partner = try world.partner("Partner \(name)")
            let tenant = try world.tenant("Tenant \(name)", of: partner)
            try world.domain(
                "\(name.lowercased())-live.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned,
                users: [.none: 2])
            try world.domain("\(name.lowercased())-new.ch", of: tenant, mode: .parallel, status: .ordered)
            actors += Persona.allCases.filter { $0 != .platformOperator }.map {
                world.actor($0, of: partner, tenant: tenant)
            }
        }
        return (world, actors)
    }

    /// Also the invariants of issue 13, after every call: no statement line for a day after a
    /// service's end date, no service uncancelled after its end date, no service stuck in
    /// `provisioning` (the steps cancel, complete tasks, uncancel and cross month ends).
    @Test func randomOperationSequencesKeepTheInvariants() async {
        await propertyCheck(count: 60, input: Generators.operations(count: 1...40)) { steps in
            do {
                let (world, actors) = try Self.world()
                let checker = InvariantChecker(world: world, actors: actors)
                var log: [String] = []
                for step in steps {
                    let outcome = step.run(in: world, actors: actors)
                    log.append(outcome.summary)
                    do {
                        try checker.check()
                        try Self.checkIndexes(world.portal.state)
                    } catch {
                        Issue.record("\(error) after \(log)")
                        return
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Two partners with a tenant each and, per tenant, a provisioned domain with users, one
    /// deploying (every DNS task open) and one confirmed; every persona of both.
    static func cancellationWorld(store: any Store = InMemoryStore()) throws -> (WorldBuilder, [Principal]) {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"), store: store)
        var actors: [Principal] = [.platformOperator()]
        for name in ["Alpha", "Beta"] {
            let partner = try world.partner("Partner \(name)")
            let tenant = try world.tenant("Tenant \(name)", of: partner)
            let prefix = name.lowercased()
            try world.domain(
                "\(prefix)-live.ch", of: tenant, options: ["SC-F-OUTBOUND", "SC-SIGENC"], status: .provisioned,
                users: [.none: 2, .signEncrypt: 1])
            try world.domain(
                "\(prefix)-deploying.ch", of: tenant, options: ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"],
                status: .provisioning, users: [.signOnly: 1, .signEncrypt: 1])
            try world.domain(
                "\(prefix)-confirmed.ch", of: tenant, mode: .parallel, status: .confirmed, users: [.none: 1])
            actors += Persona.allCases.filter { $0 != .platformOperator }.map {
                world.actor($0, of: partner, tenant: tenant)
            }
        }
        return (world, actors)
    }

    /// Cancellation-heavy workflows by the actors who may order (cancel, complete tasks while
    /// cancelled, move the clock past end dates and month ends, uncancel, tick) keep every
    /// invariant after every call; in particular no statement line for a day after a service's
    /// end date, no service uncancelled after its end date, no service stuck in `provisioning`.
    @Test func cancellationWorkflowsKeepTheInvariants() async {
        await propertyCheck(count: 15, input: Generators.operations(count: 10...30, mix: .cancellation)) { steps in
            do {
                let (world, all) = try Self.cancellationWorld()
                let actors = all.filter {
                    $0.kind == .operator || ($0.kind == .partnerAdmin && $0.roles == [.ALL])
                }
                let checker = InvariantChecker(world: world, actors: all)
                var log: [String] = []
                for step in steps {
                    log.append(step.run(in: world, actors: actors).summary)
                    do {
                        try checker.check()
                        try Self.checkIndexes(world.portal.state)
                    } catch {
                        Issue.record("\(error) after \(log)")
                        return
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// The state's indexes hold what rebuilding them from the entities gives (in creation order).
    static func checkIndexes(_ state: PortalState) throws {
        var domainsByTenant: [String: [String]] = [:]
        for domain in state.domains.values { domainsByTenant[domain.tenantId, default: []].append(domain.id) }
        var domainsByName: [String: [String]] = [:]
        for domain in state.domains.values { domainsByName[domain.name, default: []].append(domain.id) }
        var tasksByDomain: [String: [String]] = [:]
        for task in state.tasks.values { tasksByDomain[task.domainId, default: []].append(task.id) }
        if state.domainsByTenant.mapValues(Array.init) != domainsByTenant
            || state.tasksByDomain.mapValues(Array.init) != tasksByDomain
            || state.domainsByName.mapValues(Array.init) != domainsByName
        {
            throw InvariantViolation(
                invariant: "the indexes match the entities",
                detail:
                    "domains by tenant \(state.domainsByTenant) (rebuilt \(domainsByTenant)), by name \(state.domainsByName) (rebuilt \(domainsByName)), tasks by domain \(state.tasksByDomain) (rebuilt \(tasksByDomain))"
            )
        }
    }

    /// Cancellation workflows (deploys, task completions, ticks) on a store that refuses every
    /// third write: each refused write is undone, indexes included, so after every step the
    /// indexes match the entities and the state is the one its history gives.
    @Test func refusedWritesAreUndoneIndexesIncluded() async {
        let refusedInAll = Mutex(0)
        await propertyCheck(count: 15, input: Generators.operations(count: 10...30, mix: .cancellation)) { steps in
            do {
                let store = EveryThirdWriteFails()
                let (world, all) = try Self.cancellationWorld(store: store)
                let actors = all.filter {
                    $0.kind == .operator || ($0.kind == .partnerAdmin && $0.roles == [.ALL])
                }
                store.failing.withLock { $0 = true }
                var log: [String] = []
                for step in steps {
                    log.append(step.run(in: world, actors: actors).summary)
                    var replayed = PortalState()
                    for record in world.portal.journal { replayed.apply(record) }
                    do {
                        try Self.checkIndexes(world.portal.state)
                        if replayed != world.portal.state {
                            throw InvariantViolation(
                                invariant: "the state is the one its history gives", detail: "after a refused write")
                        }
                    } catch {
                        Issue.record("\(error) after \(log)")
                        return
                    }
                }
                let refused = store.refused.withLock { $0 }
                refusedInAll.withLock { $0 += refused }
            } catch {
                Issue.record("\(error)")
            }
        }
        #expect(refusedInAll.withLock { $0 } > 10, "hardly any write was refused: the property was not exercised")
    }

    /// An in-memory store that, once `failing`, refuses every third write (like a disk that fills up now and then).
    final class EveryThirdWriteFails: Store, Sendable {
        let failing = Mutex(false)
        let refused = Mutex(0)
        private let writes = Mutex(0)
        private let inner = InMemoryStore()
        struct Refused: Error {}
        func load() -> [EventRecord] { inner.load() }
        func write(_ records: [EventRecord]) throws -> StorePosition {
            let refuse =
                failing.withLock { $0 }
                && writes.withLock {
                    $0 += 1; return $0 % 3 == 0
                }
            if refuse {
                refused.withLock { $0 += 1 }
                throw Refused()
            }
            return inner.write(records)
        }
        func waitUntilDurable(_ position: StorePosition) { inner.waitUntilDurable(position) }
    }

    /// The actors probed for advertised actions: every persona of the first partner, and the operator.
    static func personas(of world: WorldBuilder) -> [Principal] {
        let partner = world.partners[0]
        let tenant = world.tenants.first { world.partner(of: $0) == partner }!
        return Persona.allCases.map { $0.actor(partner: partner, tenant: tenant) }
    }

    /// Every action a tenant or domain view advertises succeeds when called with valid params,
    /// for every persona, over generated workflows across month ends (each call on a fork of the
    /// world, each action read afresh before it is called).
    @Test func everyAdvertisedActionSucceeds() async {
        await propertyCheck(count: 10, input: Generators.operations(count: 8...30)) { steps in
            do {
                let (world, actors) = try Self.world()
                var log: [String] = []
                for (i, step) in steps.enumerated() {
                    log.append(step.run(in: world, actors: actors).summary)
                    guard i == steps.count / 2 || i == steps.count - 1 else { continue }
                    for failure in try Self.probeActions(world) {
                        Issue.record("\(failure) after \(log)")
                        return
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Calls, for each persona on a fork of the world, every action its views advertise; returns the failures.
    static func probeActions(_ world: WorldBuilder) throws -> [String] {
        var failures: [String] = []
        for actor in personas(of: world) {
            let fork = try world.fork()
            guard let tenants = try? fork.portal.perform(TenantList(limit: 1000), as: actor).tenants else { continue }
            for tenant in tenants {
                var tried: Set<String> = []
                while let action = try fork.portal.perform(TenantGet(tenantId: tenant.id), as: actor).tenant.actions
                    .first(where: { !tried.contains($0) })
                {
                    tried.insert(action)
                    do {
                        try AdvertisedActions.call(action, onTenant: tenant.id, as: actor, in: fork)
                    } catch {
                        failures.append("\(actor.id): advertised \(action) on \(tenant.id) failed: \(error)")
                    }
                }
                for domain in try fork.portal.perform(TenantGet(tenantId: tenant.id), as: actor).domains {
                    var tried: Set<String> = []
                    while let action = try fork.portal.perform(DomainGet(domainId: domain.id), as: actor).domain.actions
                        .first(where: { !tried.contains($0) })
                    {
                        tried.insert(action)
                        do {
                            try AdvertisedActions.call(action, onDomain: domain.id, as: actor, in: fork)
                        } catch {
                            failures.append(
                                "\(actor.id): advertised \(action) on \(domain.id) (\(domain.name)) failed: \(error)")
                        }
                    }
                }
            }
        }
        return failures
    }

    /// Every service `service.available` marks available can be added (`service.add` of it alone
    /// succeeds), and `service.add` is advertised exactly when one is, for every persona, over
    /// generated workflows across month ends.
    @Test func everyServiceMarkedAvailableCanBeAdded() async {
        await propertyCheck(count: 10, input: Generators.operations(count: 8...30)) { steps in
            do {
                let (world, actors) = try Self.world()
                var log: [String] = []
                for step in steps {
                    log.append(step.run(in: world, actors: actors).summary)
                    for failure in try Self.probeAvailability(world) {
                        Issue.record("\(failure) after \(log)")
                        return
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    static func probeAvailability(_ world: WorldBuilder) throws -> [String] {
        var failures: [String] = []
        for actor in personas(of: world) {
            guard let tenants = try? world.portal.perform(TenantList(limit: 1000), as: actor).tenants else { continue }
            for tenant in tenants {
                for domain in try world.portal.perform(TenantGet(tenantId: tenant.id), as: actor).domains {
                    let list = try world.portal.perform(ServiceAvailable(domainId: domain.id), as: actor).services
                    let available = list.filter(\.available).map(\.code)
                    if domain.actions.contains(ServiceAdd.method) == available.isEmpty {
                        failures.append(
                            "\(actor.id) on \(domain.name): actions \(domain.actions) but available \(available)")
                    }
                    for code in available {
                        do {
                            _ = try world.fork().portal.perform(
                                ServiceAdd(domainId: domain.id, services: [code]), as: actor)
                        } catch {
                            failures.append("\(actor.id): \(code) marked available on \(domain.name), but \(error)")
                        }
                    }
                }
            }
        }
        return failures
    }
}
