// The example of the "Testing your workflows" article and the README, compiled and run.
import PropertyBased
import TenantServices
import TenantServicesTesting
import Testing

@Test func neverBilledBeforeLive() async throws {
    await propertyCheck(count: 25, input: Generators.operations(count: 1...30)) { steps in
        let world = try! WorldBuilder(clock: TestClock("2026-11-18"))
        let partner = try! world.partner("Muster IT")
        let tenant = try! world.tenant("Muster AG", of: partner)
        try! world.domain(
            "muster.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned, users: [.signEncrypt: 2])
        let actors = [world.actor(.sales, of: partner), world.actor(.tech, of: partner), .platformOperator()]
        let checker = InvariantChecker(world: world, actors: actors)

        for step in steps {
            step.run(in: world, actors: actors)  // refusals are fine
            #expect(throws: Never.self) { try checker.check() }  // the library's invariants

            // Our own rule: a service shown with a billing start is live, or ended after it.
            let view = try! world.portal.perform(TenantGet(tenantId: tenant), as: actors[0])
            for service in view.domains.flatMap(\.services) where service.billingStart != nil {
                #expect(service.provisionedAt != nil)
            }
        }
    }
}
