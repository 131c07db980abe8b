import OrderedCollections

/// The scheduler's step: deploys every confirmed service (automatic deployment), ends services
/// whose end date has passed (to `deprovisioning`, with removal tasks) and finishes
/// deprovisioning where no removal task is open.
///
/// A service that ends without ever having been provisioned has its open deploy tasks cancelled
/// and gets removal tasks only for the deploy tasks that were done.
public struct WorkflowTick: PortalRequest, Executable, Equatable {
    public static let method = "workflow.tick"
    static let isMutating = true

    public init() {}

    /// One booked service the tick moved on.
    public struct Entry: Codable, Sendable, Equatable {
        public var domainId: String
        /// The service code.
        public var service: String
        /// The number of the booked service on its domain.
        public var number: Int
    }

    /// What the tick deployed, ended and finished deprovisioning, one entry per booked service.
    public struct Response: Codable, Sendable, Equatable {
        public var deployed: [Entry]
        public var ended: [Entry]
        public var deprovisioned: [Entry]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try tx.requireOperator(for: "run the workflow scheduler")
        var deployed: [Entry] = []
        for domain in tx.state.domains.values where domain.services.contains(where: { $0.status == .confirmed }) {
            guard let tenant = tx.state.tenants[domain.tenantId] else { continue }
            deployed += domain.services.filter { $0.status == .confirmed }.map {
                Entry(domainId: domain.id, service: $0.code, number: $0.number)
            }
            _ = tx.deploy(domain, of: tenant)
        }
        var ended: [Entry] = []
        var finished: [Entry] = []
        for var domain in tx.state.domains.values {
            guard let tenant = tx.state.tenants[domain.tenantId] else { continue }
            var endedHere: [BookedService] = []
            var tasks: [DeployTask] = []
            for i in domain.services.indices where domain.services[i].status == .cancelled {
                guard let end = domain.services[i].endDate, end < tx.today else { continue }
                domain.services[i].status = .deprovisioning
                let service = domain.services[i]
                endedHere.append(service)
                let deployTasks = tx.state.tasks(ofDomain: domain.id).filter {
                    $0.serviceNumber == service.number && $0.kind == .deploy
                }
                for var task in deployTasks where task.status == .open {
                    task.status = .cancelled
                    tx.state.apply(.taskSaved(task))
                    tasks.append(task)
                }
                // A record handed over to a new booking of the name already has its (cancelled) removal.
                let removals = tx.state.tasks(ofDomain: domain.id).filter {
                    $0.serviceNumber == service.number && $0.kind == .remove
                }
                for done in deployTasks
                where done.status == .done && !removals.contains(where: { $0.record == done.record }) {
                    let task = DeployTask(
                        id: tx.state.newID("K"), domainId: domain.id, service: service.code,
                        serviceNumber: service.number, kind: .remove, record: done.record, status: .open,
                        createdAt: tx.now, doneAt: nil)
                    tx.state.apply(.taskSaved(task))
                    tasks.append(task)
                }
            }
            let before = domain.services.filter { $0.status == .deprovisioning }.map(\.number)
            tx.advance(&domain)
            let done = domain.services.filter { before.contains($0.number) && $0.status == .deprovisioned }
            guard !endedHere.isEmpty || !done.isEmpty else { continue }
            ended += endedHere.map { Entry(domainId: domain.id, service: $0.code, number: $0.number) }
            finished += done.map { Entry(domainId: domain.id, service: $0.code, number: $0.number) }
            func list(_ services: [BookedService]) -> String {
                services.map { "\($0.code) (\($0.number))" }.joined(separator: ", ")
            }
            let steps = [(endedHere, "ended"), (done, "deprovisioned")].filter { !$0.0.isEmpty }
            let summary = steps.map { "\($0.1) \(list($0.0))" }.joined(separator: "; ") + " on \(domain.name)"
            tx.save(domain, of: tenant, summary: summary, tasks: tasks)
        }
        return Response(deployed: deployed, ended: ended, deprovisioned: finished)
    }
}
