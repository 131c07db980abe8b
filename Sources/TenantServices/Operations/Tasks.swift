import OrderedCollections

/// The tasks the actor may see, optionally for one tenant or domain and one status.
public struct TaskList: PortalRequest, Executable, Equatable {
    public static let method = "task.list"
    static let isMutating = false
    public var tenantId: String?
    public var domainId: String?
    public var status: TaskStatus?
    public var limit: Int?
    public var cursor: String?

    public init(
        tenantId: String? = nil, domainId: String? = nil, status: TaskStatus? = nil, limit: Int? = nil,
        cursor: String? = nil
    ) {
        self.tenantId = tenantId
        self.domainId = domainId
        self.status = status
        self.limit = limit
        self.cursor = cursor
    }

    /// One page of tasks, oldest first.
    public struct Response: Codable, Sendable, Equatable {
        public var tasks: [TaskView]
        public var nextCursor: String?
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        if let tenantId { _ = try tx.tenant(tenantId) }
        if let domainId { _ = try tx.domain(domainId) }
        try tx.require(.see)
        let state = tx.state
        let access = tx.access
        let view = tx
        let tasks = state.tasks.values.lazy.filter { task in
            guard let domain = state.domains[task.domainId], let tenant = state.tenants[domain.tenantId],
                access.canSee(domain, of: tenant)
            else { return false }
            return (tenantId == nil || tenant.id == tenantId) && (domainId == nil || domain.id == domainId)
                && (status == nil || view.status(of: task, on: domain) == status)
        }
        let page = try Page(tasks, key: { orderKey($0.id) }, limit: limit, cursor: cursor)
        return Response(tasks: page.items.map(view.view(of:)), nextCursor: page.nextCursor)
    }
}

/// Marks a task done and advances the services waiting for it; a done or cancelled task is
/// `invalid-transition`.
public struct TaskComplete: PortalRequest, Executable, Equatable {
    public static let method = "task.complete"
    static let isMutating = true
    public var taskId: String

    public init(taskId: String) { self.taskId = taskId }

    /// The completed task and its domain.
    public struct Response: Codable, Sendable, Equatable {
        public var task: TaskView
        public var domain: DomainView
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        guard var task = tx.state.tasks[taskId], let (domain, tenant) = try? tx.domain(task.domainId) else {
            throw .notFound("task", taskId)
        }
        try tx.require(.deploy)
        switch tx.status(of: task, on: domain) {
        case .open:
            break
        case .done:
            throw PortalError(.invalidTransition, "task \(taskId) is already done")
        case .cancelled where task.kind == .remove:
            throw PortalError(
                .invalidTransition,
                "task \(taskId) is cancelled: \(domain.name) is booked again and needs its \(task.record.type) record \(task.record.name), so it stays in place"
            )
        case .cancelled:
            throw PortalError(
                .invalidTransition,
                "task \(taskId) is cancelled: \(task.service) (number \(task.serviceNumber)) on \(domain.name) ended without having been provisioned, so its \(task.record.type) record is no longer needed"
            )
        }
        task.status = .done
        task.doneAt = tx.now
        tx.state.apply(.taskSaved(task))
        var updated = domain
        tx.advance(&updated)
        tx.save(
            updated, of: tenant,
            summary: "completed \(task.record.type) task \(task.id) for \(task.service) on \(domain.name)",
            tasks: [task])
        return Response(task: tx.view(of: task), domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}
