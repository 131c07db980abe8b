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

    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable {
        if let tenantId { _ = try tx.tenant(tenantId) }
        if let domainId { _ = try tx.domain(domainId) }
        try tx.require(.see)
        let state = tx.state
        let access = tx.access
        let tasks = state.tasks.values.lazy.filter { task in
            guard let domain = state.domains[task.domainId], let tenant = state.tenants[domain.tenantId],
                access.canSee(domain, of: tenant)
            else { return false }
            return (tenantId == nil || tenant.id == tenantId) && (domainId == nil || domain.id == domainId)
                && (status == nil || task.status == status)
        }
        let page = try Page(tasks, key: { orderKey($0.id) }, limit: limit, cursor: cursor)
        return Response(tasks: page.items.map(\.view), nextCursor: page.nextCursor)
    }
}

/// Marks a task done and advances the services waiting for it.
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

    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable {
        guard var task = tx.state.tasks[taskId], let (domain, tenant) = try? tx.domain(task.domainId) else {
            throw .notFound("task", taskId)
        }
        try tx.require(.deploy)
        guard task.status == .open else {
            throw PortalError(.invalidTransition, "task \(taskId) is already done")
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
        return Response(task: task.view, domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}
