public import Foundation
import OrderedCollections
import Synchronization

/// A request to the portal: one operation of SPEC §7 with its parameters (everything but the actor).
///
/// The library defines every request type; conformances outside the library are not supported.
public protocol PortalRequest: Codable, Sendable {
    /// What the operation returns.
    associatedtype Response: Codable, Sendable
    /// The JSON-RPC method name (`tenant.create`, …).
    static var method: String { get }
}

/// The internal half of a request: how it runs inside a transaction.
protocol Executable {
    /// Whether the operation may change state (and so takes a `requestKey`).
    static var isMutating: Bool { get }
    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable
}

/// The portal: every operation of the Services area, authorized for an actor and applied atomically.
///
/// Writes are serialized; a refused operation changes nothing. Reads work on a snapshot.
public final class Portal: Sendable {
    /// The catalog in force.
    public let catalog: Catalog
    /// The calendar every shown date uses.
    public let calendar: BusinessCalendar
    private let clock: any Clock
    private let store: any Store
    private let core: Locked<Core>
    /// Every write at or before this position is durable.
    private let durableUpTo = Atomic<Int64>(0)
    private let faults: Faults

    private struct RecordedRequest: Sendable {
        var method: String
        var fingerprint: Data
        var response: any Sendable
        var position: StorePosition?
    }

    /// A write applied in memory whose records are not yet durable, with what undoes it.
    private struct PendingWrite: Sendable {
        var position: StorePosition
        var undo: [PortalState.Undo]
        var requestKey: (actorId: String, key: String)?
    }

    private struct Core: Sendable {
        var state = PortalState()
        /// Idempotency records by actor ID and request key.
        var requests: [String: [String: RecordedRequest]] = [:]
        /// Writes waiting for durability, oldest first.
        var pending: [PendingWrite] = []
    }

    /// Opens a portal over a store, replaying what it holds.
    public convenience init(
        catalog: Catalog = .standard, clock: any Clock = SystemClock(), calendar: BusinessCalendar = BusinessCalendar(),
        store: any Store = InMemoryStore()
    ) throws {
        try self.init(catalog: catalog, clock: clock, calendar: calendar, store: store, faults: Faults())
    }

    /// Opens a portal with deliberately broken rules (tests of invariant checks only).
    package init(catalog: Catalog, clock: any Clock, calendar: BusinessCalendar, store: any Store, faults: Faults)
        throws
    {
        self.faults = faults
        self.catalog = catalog
        self.clock = clock
        self.calendar = calendar
        self.store = store
        var state = PortalState()
        try store.load { state.apply($0) }
        self.core = Locked(Core(state: state))
        store.observeCommits { [weak self] in self?.catchUpBetweenRequests() }
    }

    /// Performs a request as an actor; a change is returned only once it is durable.
    ///
    /// - Parameter requestKey: for changing operations: the same key with the same parameters
    ///   replays the first response without applying twice; with other parameters it is
    ///   refused with `request-key-reused`. Keys are scoped to the actor's `id`.
    public func perform<R: PortalRequest>(_ request: R, as actor: Actor, requestKey: String? = nil) throws -> R.Response
    {
        try submit(request, as: actor, requestKey: requestKey).wait()
    }

    /// Applies a request as an actor and returns before its change is durable, so that several
    /// requests can share one flush of the store (group commit).
    ///
    /// The change is visible to later requests at once. Call ``PendingResponse/wait()`` before
    /// acknowledging it to anyone: if the store cannot make it durable, `wait` throws
    /// `storage-failure` and the change (with every later one not yet durable) is undone.
    public func submit<R: PortalRequest>(_ request: R, as actor: Actor, requestKey: String? = nil) throws
        -> PendingResponse<R.Response>
    {
        guard let executable = request as? any Executable else {
            preconditionFailure("\(R.self) is not a request type of this library")
        }
        let now = clock.now()
        if !type(of: executable).isMutating {
            let state = try core.withLock { core throws(PortalError) in
                try catchUp(&core, forWriting: false)
                return core.state
            }
            var tx = Transaction(state: state, actor: actor, now: now, calendar: calendar, catalog: catalog)
            tx.faults = faults
            return PendingResponse(
                response: try executable.execute(in: &tx) as! R.Response, position: nil, portal: self)
        }
        let fingerprint = try requestKey.map { _ in try Self.fingerprint(request) }
        return try core.withLock { core throws -> PendingResponse<R.Response> in
            try catchUp(&core, forWriting: true)
            var wrote = false
            defer { if !wrote { store.endWrite() } }
            if let requestKey, let recorded = core.requests[actor.id]?[requestKey] {
                guard recorded.method == R.method, recorded.fingerprint == fingerprint else {
                    throw PortalError(
                        .requestKeyReused,
                        "request key '\(requestKey)' was already used by '\(actor.id)' for a \(recorded.method) call with other parameters; use a new key for a new request"
                    )
                }
                return PendingResponse(
                    response: recorded.response as! R.Response, position: recorded.position, portal: self)
            }
            // Move the state into the transaction so it is uniquely referenced and changes in place
            // (no copy of the whole state per write); an undo log restores it if anything fails.
            var tx = Transaction(
                state: PortalState(), actor: actor, now: now, calendar: calendar, catalog: catalog, method: R.method)
            tx.faults = faults
            swap(&tx.state, &core.state)
            tx.state.undoLog = []
            let response: R.Response
            var position: StorePosition?
            do {
                response = try executable.execute(in: &tx) as! R.Response
                if !tx.records.isEmpty {
                    do {
                        position = try store.write(tx.records)
                        wrote = true
                    } catch let error as PortalError {
                        throw error
                    } catch {
                        throw PortalError(
                            .storageFailure, "the change could not be persisted, nothing was applied: \(error)")
                    }
                }
            } catch {
                tx.state.rollBack()
                core.state = tx.state
                throw error
            }
            let undo = tx.state.undoLog ?? []
            tx.state.undoLog = nil
            core.state = tx.state
            if let requestKey, let fingerprint {
                core.requests[actor.id, default: [:]][requestKey] = RecordedRequest(
                    method: R.method, fingerprint: fingerprint, response: response, position: position)
            }
            let durable = durableUpTo.load(ordering: .relaxed)
            if let first = core.pending.first, first.position.rawValue <= durable {
                core.pending.removeAll { $0.position.rawValue <= durable }
            }
            if let position {
                core.pending.append(
                    PendingWrite(
                        position: position, undo: undo, requestKey: requestKey.map { (actor.id, $0) }))
            }
            return PendingResponse(response: response, position: position, portal: self)
        }
    }

    /// Waits until the write at `position` is durable; if the store fails, undoes every write
    /// from `position` on (newest first) and throws `storage-failure`.
    fileprivate func awaitDurable(_ position: StorePosition) throws(PortalError) {
        do {
            try store.waitUntilDurable(position)
        } catch {
            core.withLock { core in
                // Only if `position` is still pending: a failed write that an earlier waiter already
                // undid leaves alone the writes that came after the store recovered.
                guard let first = core.pending.firstIndex(where: { $0.position == position }) else { return }
                for write in core.pending[first...].reversed() {
                    core.state.undoLog = write.undo
                    core.state.rollBack()
                    if let key = write.requestKey { core.requests[key.actorId]?[key.key] = nil }
                }
                core.pending.removeSubrange(first...)
            }
            throw PortalError(
                .storageFailure, "the change could not be made durable and was undone: \(error)")
        }
        // Durable writes leave `pending` at the next submit, so waiting never contends for the lock.
        durableUpTo.max(position.rawValue, ordering: .relaxed)
        if store.wantsSnapshot { store.compact(history: core.withLock { $0.state.events }) }
    }

    /// Applies what other servers committed to a shared store (a store of one's own has nothing);
    /// for a write, the store also keeps other writers out until this one is settled.
    private func catchUp(_ core: inout Core, forWriting: Bool) throws(PortalError) {
        let durable = durableUpTo.load(ordering: .relaxed)
        let unsettled = core.pending.last.flatMap { $0.position.rawValue > durable ? $0.position : nil }
        let records: [EventRecord]
        do {
            records = try store.catchUp(forWriting: forWriting, unsettled: unsettled)
        } catch {
            throw PortalError(.storageFailure, "the store cannot be read, so nothing was done: \(error)")
        }
        for record in records { core.state.apply(record) }
    }

    /// Applies what other servers committed while no request asks (a shared store's notification).
    private func catchUpBetweenRequests() {
        core.withLock { core in try? catchUp(&core, forWriting: false) }
    }

    private static func fingerprint(_ request: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(request)
    }

    /// The current instant of the portal's clock.
    public var now: Date { clock.now() }

    /// The whole state (tests).
    var state: PortalState { core.withLock { $0.state } }

    /// Every event record so far (for stores, exports and tests).
    public var journal: [EventRecord] { core.withLock { $0.state.events } }
}

/// The response of a request that may still be waiting for its change to become durable.
public struct PendingResponse<Response: Sendable>: Sendable {
    fileprivate let response: Response
    fileprivate let position: StorePosition?
    fileprivate let portal: Portal

    /// The response, once the change it reports is durable.
    ///
    /// - Throws: `storage-failure` when the store could not make the change durable; the change
    ///   was then undone.
    public func wait() throws(PortalError) -> Response {
        if let position { try portal.awaitDurable(position) }
        return response
    }
}

/// The working copy one operation reads and changes; committed only if the operation succeeds.
struct Transaction {
    var state: PortalState
    let actor: Actor
    let now: Date
    let today: CivilDate
    let calendar: BusinessCalendar
    let catalog: Catalog
    var method: String = ""
    var records: [EventRecord] = []
    var faults = Faults()

    var access: Access { Access(actor: actor, faults: faults) }

    init(state: PortalState, actor: Actor, now: Date, calendar: BusinessCalendar, catalog: Catalog, method: String = "")
    {
        self.state = state
        self.actor = actor
        self.now = now
        self.today = calendar.date(of: now)
        self.calendar = calendar
        self.catalog = catalog
        self.method = method
    }

    /// Applies changes and records them as one event of the current operation.
    mutating func record(
        target: String, summary: String, tenant: Tenant? = nil, domainId: String? = nil, _ changes: [Change]
    ) {
        let record = EventRecord(
            seq: (state.events.last?.seq ?? 0) + 1, at: now, actor: actor.reference, action: method, target: target,
            summary: summary, partnerId: tenant?.partnerId, tenantId: tenant?.id, domainId: domainId, changes: changes)
        state.apply(record)
        records.append(record)
    }

    /// Saves a domain, bumping its version, as one event.
    mutating func save(_ domain: Domain, of tenant: Tenant, summary: String, tasks: [DeployTask] = []) {
        var domain = domain
        domain.version += 1
        record(
            target: domain.id, summary: summary, tenant: tenant, domainId: domain.id,
            [.domainSaved(domain)] + tasks.map(Change.taskSaved))
    }

    // MARK: Lookups in the order of checks: visibility, role, version

    /// A tenant the actor may see, else `not-found`.
    func tenant(_ id: String) throws(PortalError) -> Tenant {
        guard let tenant = state.tenants[id], access.inScope(tenant) else { throw .notFound("tenant", id) }
        return tenant
    }

    /// A domain the actor may see, with its tenant, else `not-found`.
    func domain(_ id: String) throws(PortalError) -> (Domain, Tenant) {
        guard let domain = state.domains[id], let tenant = state.tenants[domain.tenantId],
            access.canSee(domain, of: tenant)
        else { throw .notFound("domain", id) }
        return (domain, tenant)
    }

    func require(_ capability: Capability) throws(PortalError) { try access.require(capability) }

    /// A domain the actor may change: visible (else `not-found`), with the capability (else
    /// `permission-denied`), at the expected version (else `conflict`) — the order of SPEC §7.
    func domain(_ id: String, for capability: Capability, expectedVersion: Int?) throws(PortalError) -> (Domain, Tenant)
    {
        let (domain, tenant) = try self.domain(id)
        try require(capability)
        try check(expectedVersion: expectedVersion, current: domain.version, of: "domain \(domain.name)")
        return (domain, tenant)
    }

    func requireOperator(for what: String) throws(PortalError) {
        guard actor.kind == .operator else {
            throw PortalError(.permissionDenied, "only the platform operator may \(what)", details: .init(required: []))
        }
    }

    func check(expectedVersion: Int?, current: Int, of what: String) throws(PortalError) {
        guard let expectedVersion, expectedVersion != current else { return }
        throw PortalError(
            .conflict,
            "\(what) has version \(current), not \(expectedVersion): it was changed meanwhile; reload it and try again",
            details: .init(currentVersion: current))
    }
}
