import PropertyBased
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
    static func world(faults: Faults = Faults(), store: any Store = InMemoryStore()) throws -> (WorldBuilder, [Actor]) {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"), faults: faults, store: store)
        var actors: [Actor] = [.platformOperator()]
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
}
