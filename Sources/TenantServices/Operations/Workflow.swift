import OrderedCollections

/// The scheduler's step: deploys every confirmed service (automatic deployment).
public struct WorkflowTick: PortalRequest, Executable, Equatable {
    public static let method = "workflow.tick"
    static let isMutating = true

    public init() {}

    /// What one domain's step did.
    public struct Step: Codable, Sendable, Equatable {
        public var domainId: String
        public var services: [String]
    }

    /// What the tick deployed, ended and finished deprovisioning.
    public struct Response: Codable, Sendable, Equatable {
        public var deployed: [Step]
        public var ended: [Step]
        public var deprovisioned: [Step]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable {
        try tx.requireOperator(for: "run the workflow scheduler")
        var deployed: [Step] = []
        for domain in tx.state.domains.values where domain.services.contains(where: { $0.status == .confirmed }) {
            guard let tenant = tx.state.tenants[domain.tenantId] else { continue }
            let codes = domain.services.filter { $0.status == .confirmed }.map(\.code)
            _ = tx.deploy(domain, of: tenant)
            deployed.append(Step(domainId: domain.id, services: codes))
        }
        return Response(deployed: deployed, ended: [], deprovisioned: [])
    }
}
