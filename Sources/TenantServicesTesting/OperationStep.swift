import Foundation
public import TenantServices

/// One step of a generated workflow: an operation by an actor, decoded from a seed, so that any
/// seed is a valid step (which keeps shrunk sequences valid).
public struct OperationStep: Sendable, Hashable, CustomStringConvertible {
    /// Which operations a generated workflow is made of.
    public enum Mix: Sendable, Hashable, CaseIterable {
        /// Realistic workflows: ordering, confirming, deploying, completing tasks, users, some
        /// cancellations, clock moves across month ends and ticks.
        case workflow
        /// Cancellation-heavy workflows on what exists: cancel, uncancel, tasks, clock moves across
        /// end dates and month ends, ticks (no new domains or tenants).
        case cancellation
    }

    public let seed: Int
    public let mix: Mix

    public init(seed: Int, mix: Mix = .workflow) {
        self.seed = seed
        self.mix = mix
    }

    /// The kinds of step with their weights (out of 100) in each mix.
    static let weighted: [Mix: [(Kind, Int)]] = [
        .workflow: [
            (.addDomain, 12), (.addService, 8), (.confirm, 12), (.deploy, 11), (.completeTask, 13), (.importUsers, 9),
            (.createTenant, 4), (.cancel, 6), (.uncancel, 4), (.discount, 3), (.confidential, 3), (.advanceClock, 6),
            (.crossMonthEnd, 4), (.tick, 5),
        ],
        .cancellation: [
            (.addService, 5), (.confirm, 8), (.deploy, 8), (.completeTask, 22), (.importUsers, 4), (.cancel, 16),
            (.uncancel, 20), (.discount, 2), (.advanceClock, 8), (.crossMonthEnd, 4), (.tick, 3),
        ],
    ]

    enum Kind: String {
        case addDomain, addService, confirm, deploy, completeTask, importUsers, createTenant, cancel, uncancel,
            discount,
            confidential, advanceClock, crossMonthEnd, tick
    }

    var kind: Kind {
        var r = abs(seed) % 100
        for (kind, weight) in Self.weighted[mix]! {
            if r < weight { return kind }
            r -= weight
        }
        return .tick
    }

    public var description: String { "\(kind.rawValue)#\(seed)" }

    /// Runs the step in a world with a set of actors; refusals are normal outcomes.
    /// - Returns: what was done (for logs), and the error if the portal refused.
    @discardableResult
    public func run(in world: WorldBuilder, actors: [Principal]) -> (summary: String, refusal: PortalError?) {
        var r = abs(seed) / 100
        func pick(_ n: Int) -> Int {
            guard n > 0 else { return 0 }
            defer { r /= n }
            return r % n
        }
        let actor = actors[pick(actors.count)]
        let portal = world.portal
        var domains = world.knownDomains
        if mix == .cancellation {
            // Work on what the actor can see, so that most steps reach the rules rather than `not-found`.
            let visible = domains.filter { (try? portal.perform(DomainGet(domainId: $0), as: actor)) != nil }
            if !visible.isEmpty { domains = visible }
        }
        let domain = domains.isEmpty ? "D1" : domains[pick(domains.count)]
        let tenant = world.tenants.isEmpty ? "T1" : world.tenants[pick(world.tenants.count)]
        let codes = portal.catalog.services.map(\.code)
        let code = codes[pick(codes.count)]
        let summary = "\(actor.id): \(kind.rawValue)"
        do throws(PortalError) {
            switch kind {
            case .addDomain:
                let mode: IntegrationMode = pick(2) == 0 ? .inline : .parallel
                let names = ["a.ch", "b.ch", "c.de", "d.li", "gmail.com", "bad name", "bücher.de", "e.ch"]
                let id = try portal.perform(
                    DomainAdd(
                        tenantId: tenant, name: names[pick(names.count)], mode: mode,
                        services: pick(2) == 0 ? [] : [code]),
                    as: actor
                ).domain.id
                world.note(domain: id)
            case .addService:
                _ = try portal.perform(ServiceAdd(domainId: domain, services: [code]), as: actor)
            case .confirm:
                _ = try portal.perform(DomainConfirm(domainId: domain), as: actor)
            case .deploy:
                _ = try portal.perform(DomainDeploy(domainId: domain), as: actor)
            case .completeTask:
                let lister = mix == .cancellation ? actor : .platformOperator()
                let open = try portal.perform(TaskList(status: .open, limit: 1000), as: lister).tasks
                if !open.isEmpty { _ = try portal.perform(TaskComplete(taskId: open[pick(open.count)].id), as: actor) }
            case .importUsers:
                let name = try portal.perform(DomainGet(domainId: domain), as: .platformOperator()).domain.name
                _ = try portal.perform(
                    UsersImport(
                        domainId: domain,
                        users: [
                            .init(
                                address: "u\(pick(5))@\(name)", protection: Protection.allCases[pick(3)],
                                active: pick(5) != 0)
                        ]),
                    as: actor)
            case .createTenant:
                let partner = world.partners.isEmpty ? "P1" : world.partners[pick(world.partners.count)]
                let id = try portal.perform(
                    TenantCreate(
                        partnerId: actor.kind == .operator ? partner : nil, name: "Tenant \(pick(1000))",
                        contact: Contact(email: "it@example.ch"),
                        address: Address(
                            street: "S 1", postalCode: "8000", city: "Z", country: pick(2) == 0 ? "CH" : "DE")),
                    as: actor
                ).tenant.id
                world.note(tenant: id, partner: actor.partnerId ?? partner)
            case .cancel:
                let end = world.clock.today.adding(days: pick(40) - 2)
                var target = code
                if mix == .cancellation {
                    let today = world.clock.today
                    let running = try portal.perform(DomainGet(domainId: domain), as: .platformOperator()).domain
                        .services.filter { $0.isLive(on: today) && $0.status != .cancelled }.map(\.code)
                    if !running.isEmpty && pick(4) != 0 { target = running[pick(running.count)] }
                }
                _ = try portal.perform(
                    ServiceCancel(domainId: domain, service: target, endDate: pick(2) == 0 ? nil : end), as: actor)
            case .uncancel:
                // Mostly a service that is (or was) cancelled, also after its end date has passed;
                // in the cancellation mix on a domain that has one.
                func cancelled(_ id: String) -> [String] {
                    let view = try? portal.perform(DomainGet(domainId: id), as: .platformOperator()).domain
                    return view?.services.filter { $0.status == .cancelled }.map(\.code) ?? []
                }
                let candidates = mix == .cancellation ? domains.filter { !cancelled($0).isEmpty } : []
                let chosen = candidates.isEmpty ? domain : candidates[pick(candidates.count)]
                let codes = cancelled(chosen)
                let target = codes.isEmpty || pick(4) == 0 ? code : codes[pick(codes.count)]
                _ = try portal.perform(ServiceUncancel(domainId: chosen, service: target), as: actor)
            case .discount:
                _ = try portal.perform(
                    ServiceSetDiscount(
                        domainId: domain, service: code, percent: Double(pick(10_001)) / 100, reason: .volume),
                    as: actor)
            case .confidential:
                _ = try portal.perform(DomainSetConfidential(domainId: domain, confidential: pick(2) == 0), as: actor)
            case .advanceClock:
                world.clock.advance(days: 1 + pick(mix == .cancellation ? 7 : 20))
            case .crossMonthEnd:
                world.clock.crossMonthEnd(hours: 1 + pick(30))
            case .tick:
                _ = try portal.perform(WorkflowTick(), as: actor)
            }
            return (summary, nil)
        } catch {
            return (summary + " → \(error.code)", error)
        }
    }
}

extension WorldBuilder {
    /// Domains created by the builder or by steps.
    var knownDomains: [String] { domains }
}
