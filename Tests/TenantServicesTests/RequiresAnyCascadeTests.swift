import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

/// The standard catalog plus two options that do not exclude each other, SC-A and SC-B, and an
/// option SC-X that requires any of them (the shipped catalog's alternatives always exclude each
/// other, so only a deployment's own catalog has a service with two live alternatives).
func catalogWithTwoAlternatives() throws -> Catalog {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/TenantServices/Resources/catalog.json")
    var document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    var services = document["services"] as! [[String: Any]]
    func option(_ code: String, _ rule: String, _ codes: [String]) -> [String: Any] {
        [
            "code": code, "name": ["en": code], "kind": "option", rule: codes, "counts": "allActive",
            "prices": ["CHF": 100, "EUR": 100],
        ]
    }
    services.append(option("SC-A", "requires", ["SC-SERVICE"]))
    services.append(option("SC-B", "requires", ["SC-SERVICE"]))
    services.append(option("SC-X", "requiresAny", ["SC-A", "SC-B"]))
    document["services"] = services
    return try Catalog(json: JSONSerialization.data(withJSONObject: document))
}

/// SPEC §5 cascade: a live service whose requires-any alternatives are all cancelled has no other
/// way left to run and is cancelled with the last of them, so it never outlives what it needs.
@Suite struct RequiresAnyCascadeTests {
    /// The rule: cancelling the last running alternative of a requires-any service cancels that
    /// service too (a cancelled alternative is no way to run on: it is about to end). Over
    /// generated end dates for both alternatives, both orders, with SC-X itself possibly cancelled
    /// beforehand with a later date; the shipped invariant checker then watches every day until
    /// all have ended (ticking each day), and SC-X must end no later than its last alternative.
    @Test func aServiceWhoseRequiresAnyAlternativesAreAllCancelledIsCancelledWithThem() async {
        await propertyCheck(
            count: 40, input: Gen.int(in: 1...40), Gen.int(in: 1...40), Gen.int(in: 0...1), Gen.int(in: 0...45)
        ) { daysA, daysB, bFirst, daysX in
            do {
                let clock = TestClock("2026-11-18")
                let world = try WorldBuilder(clock: clock, catalog: try catalogWithTwoAlternatives())
                let partner = try world.partner("Muster IT")
                let tenant = try world.tenant("Muster AG", of: partner)
                let domain = try world.domain(
                    "muster.ch", of: tenant, options: ["SC-A", "SC-B", "SC-X"], status: .provisioned,
                    users: [.none: 2])
                let op = Principal.platformOperator()
                let checker = InvariantChecker(world: world, actors: [op])
                try checker.check()
                let today = clock.today
                func cancel(_ code: String, after days: Int) throws {
                    let end = today.adding(days: days)
                    _ = try world.portal.perform(ServiceCancel(domainId: domain, service: code, endDate: end), as: op)
                    try checker.check()
                }
                if daysX > 0 { try cancel("SC-X", after: daysX) }
                let order = bFirst == 1 ? [("SC-B", daysB), ("SC-A", daysA)] : [("SC-A", daysA), ("SC-B", daysB)]
                for (code, days) in order { try cancel(code, after: days) }
                let services = try world.portal.perform(DomainGet(domainId: domain), as: op).domain.services
                let x = try #require(services.last { $0.code == "SC-X" })
                let lastAlternative = today.adding(days: max(daysA, daysB))
                let context = "A +\(daysA), B +\(daysB), \(bFirst == 1 ? "B" : "A") first, X +\(daysX)"
                #expect(x.status == .cancelled, "\(context)")
                #expect(
                    x.endDate.map { $0 <= lastAlternative } == true,
                    "\(context): SC-X ends \(x.endDate?.description ?? "never")")
                for _ in 0...max(daysA, daysB, daysX) {
                    clock.advance(days: 1)
                    _ = try world.portal.perform(WorkflowTick(), as: op)
                    try checker.check()
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
