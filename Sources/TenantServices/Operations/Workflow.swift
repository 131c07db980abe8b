import OrderedCollections

/// The scheduler's step: deploys every confirmed service (automatic deployment), ends services
/// whose end date has passed (to `deprovisioning`, with removal tasks) and finishes
/// deprovisioning where no removal task is open.
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
        var ended: [Step] = []
        var finished: [Step] = []
        for var domain in tx.state.domains.values {
            guard let tenant = tx.state.tenants[domain.tenantId] else { continue }
            var endedCodes: [String] = []
            var tasks: [DeployTask] = []
            for i in domain.services.indices where domain.services[i].status == .cancelled {
                guard let end = domain.services[i].endDate, end < tx.today else { continue }
                domain.services[i].status = .deprovisioning
                let service = domain.services[i]
                endedCodes.append(service.code)
                if let template = tx.catalog[service.code]?.task {
                    let task = DeployTask(
                        id: tx.state.newID("K"), domainId: domain.id, service: service.code,
                        serviceNumber: service.number,
                        kind: .remove, record: template.record(for: domain.name), status: .open, createdAt: tx.now,
                        doneAt: nil)
                    tx.state.apply(.taskSaved(task))
                    tasks.append(task)
                }
            }
            let before = domain.services.filter { $0.status == .deprovisioning }.map(\.code)
            tx.advance(&domain)
            let done = before.filter { code in
                domain.services.contains { $0.code == code && $0.status == .deprovisioned }
            }
            guard !endedCodes.isEmpty || !done.isEmpty else { continue }
            if !endedCodes.isEmpty { ended.append(Step(domainId: domain.id, services: endedCodes)) }
            if !done.isEmpty { finished.append(Step(domainId: domain.id, services: done)) }
            tx.save(
                domain, of: tenant,
                summary: "ended \(endedCodes.joined(separator: ", ")) on \(domain.name)"
                    + (done.isEmpty ? "" : "; deprovisioned \(done.joined(separator: ", "))"),
                tasks: tasks)
        }
        return Response(deployed: deployed, ended: ended, deprovisioned: finished)
    }
}
