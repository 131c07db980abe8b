public import Foundation
import OrderedCollections
import Synchronization

/// A request to the portal: one JSON-RPC method's operation with its parameters (everything but the actor).
///
/// The library defines every request type; conformances outside the library are not supported.
public protocol PortalRequest: Codable, Sendable {
    /// What the operation returns.
    associatedtype Response: Codable, Sendable
    /// The JSON-RPC method name (`tenant.create`, …).
    static var method: String { get }
}

/// The internal half of a request: how it runs inside a transaction.
///
/// Its primary associated type lets ``Portal/submit(_:as:requestKey:)`` open a request as
/// `any Executable<R.Response>`, so the response type is checked by the compiler, not cast.
protocol Executable<Response>: PortalRequest {
    /// Whether the operation may change state (and so takes a `requestKey`).
    static var isMutating: Bool { get }
    func execute(in tx: inout Transaction) throws(PortalError) -> Response
}

/// The portal: every operation of the Services area, authorized for an actor and applied atomically.
///
/// Writes are serialized; a refused operation changes nothing. Reads work on a snapshot.
public final class Portal: Sendable {
    /// The catalog in force.
    public let catalog: Catalog
    /// The calendar every shown date uses.
    public let calendar: BusinessCalendar
    private let clock: any InstantSource
    private let store: any Store
    private let core: Locked<Core>
    /// Every write at or before this position is durable.
    private let durableUpTo = Atomic<Int64>(0)
    private let faults: Faults
    /// How long a `requestKey` is kept after its record's time.
    public let requestKeyRetention: TimeInterval

    /// The default of ``requestKeyRetention``: 24 hours, the least allowed (a key must survive
    /// a retry a day later).
    public static let defaultRequestKeyRetention: TimeInterval = 24 * 3600

    private struct Core: Sendable {
        var state = PortalState()
        /// Writes waiting for durability, oldest first.
        var pending = PendingWrites()
    }

    /// Opens a portal over a store, replaying what it holds.
    ///
    /// - Parameter requestKeyRetention: seconds a `requestKey` is kept after the call that used it
    ///   (at least 24 hours); older keys are forgotten and may be used again.
    public convenience init(
        catalog: Catalog = .standard, clock: any InstantSource = SystemClock(),
        calendar: BusinessCalendar = BusinessCalendar(),
        store: any Store = InMemoryStore(), requestKeyRetention: TimeInterval = Portal.defaultRequestKeyRetention
    ) throws {
        try self.init(
            catalog: catalog, clock: clock, calendar: calendar, store: store, faults: Faults(),
            requestKeyRetention: requestKeyRetention)
    }

    /// Opens a portal with deliberately broken rules (tests of invariant checks only).
    package init(
        catalog: Catalog, clock: any InstantSource, calendar: BusinessCalendar, store: any Store, faults: Faults,
        requestKeyRetention: TimeInterval = Portal.defaultRequestKeyRetention
    ) throws {
        precondition(requestKeyRetention > 0, "the request key retention must be positive")
        self.requestKeyRetention = requestKeyRetention
        self.faults = faults
        self.catalog = catalog
        self.clock = clock
        self.calendar = calendar
        self.store = store
        var state = PortalState()
        try store.load(expecting: { state.reserve(records: $0) }, into: { state.apply($0) })
        state.evictRequestKeys(recordedAtOrBefore: clock.now().addingTimeInterval(-requestKeyRetention))
        self.core = Locked(Core(state: state))
        store.observeCommits { [weak self] in self?.catchUpBetweenRequests() }
    }

    /// Performs a request as an actor; a change is returned only once it is durable.
    ///
    /// - Parameter requestKey: for changing operations: the same key with the same parameters
    ///   replays the first response without applying twice; with other parameters it is
    ///   refused with `request-key-reused`. Keys are scoped to the actor's whole identity (kind,
    ///   ID, partner, tenant); its roles and expert mode count as parameters. Keys are kept in
    ///   the store with the operation's records for ``requestKeyRetention``.
    public func perform<R: PortalRequest>(
        _ request: R, as actor: Principal, requestKey: String? = nil
    ) throws(PortalError) -> R.Response {
        try submit(request, as: actor, requestKey: requestKey).wait()
    }

    /// Applies a request as an actor and returns before its change is durable, so that several
    /// requests can share one flush of the store (group commit).
    ///
    /// The change is visible to later requests at once. Call ``PendingResponse/wait()`` before
    /// acknowledging it to anyone: if the store cannot make it durable, `wait` throws
    /// `storage-failure` and the change (with every later one not yet durable) is undone.
    public func submit<R: PortalRequest>(
        _ request: R, as actor: Principal, requestKey: String? = nil
    ) throws(PortalError) -> PendingResponse<R.Response> {
        guard let executable = request as? any Executable<R.Response> else {
            preconditionFailure("\(R.self) is not a request type of this library")
        }
        // Opened once: from here on the request's own type, and its response, are static.
        return try submitExecutable(executable, as: actor, requestKey: requestKey)
    }

    private func submitExecutable<E: Executable>(
        _ executable: E, as actor: Principal, requestKey: String?
    ) throws(PortalError) -> PendingResponse<E.Response> {
        let now = clock.now()
        guard E.isMutating else { return try read(executable, as: actor, now: now) }
        var keyedCall: KeyedCall?
        if let requestKey { keyedCall = try KeyedCall(executable, key: requestKey, by: actor) }
        var refusedOn: PendingWrites.Ticket?
        do throws(PortalError) {
            return try write(executable, as: actor, keyedCall: keyedCall, now: now, refusedOn: &refusedOn)
        } catch {
            try refuseOnceDurable(error, computedOn: refusedOn)
        }
    }

    /// Answers a request that changes nothing, on a snapshot of the state.
    private func read<E: Executable>(
        _ executable: E, as actor: Principal, now: Date
    ) throws(PortalError) -> PendingResponse<E.Response> {
        let (state, unconfirmed) = try core.withLock {
            core throws(PortalError) -> (PortalState, PendingWrites.Ticket?) in
            try catchUp(&core, forWriting: false)
            return (core.state, newestNotDurable(core))
        }
        var tx = Transaction(state: state, actor: actor, now: now, calendar: calendar, catalog: catalog)
        tx.faults = faults
        // A read that sees writes not yet durable is answered only once they are, and so is
        // a refusal computed on them.
        let response: E.Response
        do throws(PortalError) {
            response = try executable.execute(in: &tx)
        } catch {
            try refuseOnceDurable(error, computedOn: unconfirmed)
        }
        return PendingResponse(response: response, ticket: unconfirmed, ownWrite: false, portal: self)
    }

    /// A refusal computed on a state that holds writes not yet durable is given only once they
    /// are: if they fail, the refusal may rest on a change that is undone, so the caller gets
    /// `storage-failure` (retry) instead.
    private func refuseOnceDurable(
        _ error: PortalError, computedOn ticket: PendingWrites.Ticket?
    ) throws(PortalError) -> Never {
        if let ticket, error.code != .storageFailure {
            try awaitDurable(ticket, ownWrite: false)
        }
        throw error
    }

    /// Applies a changing request under the store's write lock: a repeat of a keyed call is
    /// answered with the first call's response; else the request runs on the state, and its
    /// records are written and kept pending until durable. `refusedOn` is set, on a refusal, to
    /// the newest write not yet durable it was computed on.
    private func write<E: Executable>(
        _ executable: E, as actor: Principal, keyedCall: KeyedCall?, now: Date,
        refusedOn: inout PendingWrites.Ticket?
    ) throws(PortalError) -> PendingResponse<E.Response> {
        try core.withLock { core throws(PortalError) -> PendingResponse<E.Response> in
            try catchUp(&core, forWriting: true)
            var wrote = false
            defer { if !wrote { store.endWrite() } }
            let cutoff = now.addingTimeInterval(-requestKeyRetention)
            core.state.evictRequestKeys(recordedAtOrBefore: cutoff)
            if let keyedCall, let first = try keyedCall.firstCall(in: core.state, recordedAfter: cutoff, by: actor.id) {
                // Acknowledged only once the first call is durable: its write, if still pending.
                return PendingResponse(
                    response: try KeyedCall.response(of: first.record, as: E.Response.self),
                    ticket: core.pending.ticket(holding: first.seq), portal: self)
            }
            var tx = try writeTransaction(as: actor, method: E.method, now: now)
            // Move the state into the transaction so it is uniquely referenced and changes in place
            // (no copy of the whole state per write); an undo log restores it if anything fails.
            swap(&tx.state, &core.state)
            tx.state.undoLog = []
            let response: E.Response
            let position: StorePosition?
            do throws(PortalError) {
                response = try executable.execute(in: &tx)
                if let keyedCall { tx.recordRequestKey(try keyedCall.record(response)) }
                position = try persist(&tx)
            } catch {
                tx.state.rollBack()
                core.state = tx.state
                refusedOn = newestNotDurable(core)
                throw error
            }
            wrote = position != nil
            let undo = tx.state.undoLog ?? []
            tx.state.undoLog = nil
            core.state = tx.state
            core.pending.removeDurable(upTo: durableUpTo.load(ordering: .relaxed))
            guard let position else {
                // Nothing to write, but computed on the state: it waits for what that state holds.
                return PendingResponse(
                    response: response, ticket: newestNotDurable(core), ownWrite: false, portal: self)
            }
            let ticket = core.pending.append(
                position, undo: undo, seqs: (tx.records.first?.seq ?? 0)...(tx.records.last?.seq ?? 0))
            return PendingResponse(response: response, ticket: ticket, portal: self)
        }
    }

    /// A transaction for a write by `actor` at `now`; refused with `date-rule` when today, or now's
    /// date in UTC (as its records' instants are written), is outside the dates the portal handles.
    private func writeTransaction(as actor: Principal, method: String, now: Date) throws(PortalError) -> Transaction {
        var tx = Transaction(
            state: PortalState(), actor: actor, now: now, calendar: calendar, catalog: catalog, method: method)
        tx.faults = faults
        if let refusal = calendar.dateRuleRefusal(at: now) { throw refusal }
        return tx
    }

    /// Writes a transaction's records, with the prices when they changed; nil when it has none.
    private func persist(_ tx: inout Transaction) throws(PortalError) -> StorePosition? {
        guard !tx.records.isEmpty else { return nil }
        tx.recordPricesIfChanged()
        do {
            return try store.write(tx.records)
        } catch let error as PortalError {
            throw error
        } catch {
            throw PortalError(.storageFailure, "the change could not be persisted, nothing was applied: \(error)")
        }
    }

    /// The newest write that may not be durable yet, if any.
    private func newestNotDurable(_ core: Core) -> PendingWrites.Ticket? {
        core.pending.newestTicket(after: durableUpTo.load(ordering: .relaxed))
    }

    /// Waits until the write `ticket` names is durable; if the store fails, undoes every write
    /// from it on (newest first) and throws `storage-failure`. `ownWrite` is false for a
    /// response that only saw the write (a read): it is then told to retry.
    fileprivate func awaitDurable(_ ticket: PendingWrites.Ticket, ownWrite: Bool) throws(PortalError) {
        let position = ticket.position
        do {
            try store.waitUntilDurable(position)
            // Undone with an earlier write's failure, which the store may have forgotten since.
            if let undoneBy = ticket.mark.undoneBy { throw undoneBy }
        } catch {
            let failure = error as? StoreError ?? StoreError("\(error)")
            core.withLock { core in core.pending.undo(from: position, in: &core.state, failure: failure) }
            guard ownWrite else {
                throw PortalError(
                    .storageFailure,
                    "the answer was computed on changes that could not be made durable and were undone; retry: \(error)"
                )
            }
            guard (error as? StoreError)?.outcomeUnknown == true else {
                throw PortalError(
                    .storageFailure, "the change could not be made durable and was undone: \(error)")
            }
            throw PortalError(
                .storageFailure,
                "the change could not be made durable and was undone here, but the store could not remove it, so it may be there after a restart: \(error)"
            )
        }
        // Durable writes leave `pending` at the next submit, so waiting never contends for the lock.
        durableUpTo.max(position.rawValue, ordering: .relaxed)
        if store.wantsSnapshot {
            // Expired request keys are left out of the snapshot.
            let cutoff = clock.now().addingTimeInterval(-requestKeyRetention)
            store.compact(
                history: core.withLock {
                    $0.state.evictRequestKeys(recordedAtOrBefore: cutoff)
                    return $0.state.events
                })
        }
    }

    /// Applies what other servers committed to a shared store (a store of one's own has nothing);
    /// for a write, the store also keeps other writers out until this one is settled.
    private func catchUp(_ core: inout Core, forWriting: Bool) throws(PortalError) {
        let durable = durableUpTo.load(ordering: .relaxed)
        let unsettled = core.pending.newest(after: durable)
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

    /// The request keys in force (tests).
    var requestKeyCount: Int { core.withLock { $0.state.requestKeys.count } }

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
    /// The write it waits for, if any.
    fileprivate let ticket: PendingWrites.Ticket?
    /// Whether `ticket` is the response's own write (else one it saw).
    fileprivate var ownWrite = true
    fileprivate let portal: Portal

    fileprivate init(response: Response, ticket: PendingWrites.Ticket?, ownWrite: Bool = true, portal: Portal) {
        self.response = response
        self.ticket = ticket
        self.ownWrite = ownWrite
        self.portal = portal
    }

    /// The response, once the change it reports is durable.
    ///
    /// - Throws: `storage-failure` when the store could not make the change durable; the change
    ///   was then undone. A read that saw changes not yet durable waits for them, and throws
    ///   `storage-failure` (retry) if they fail.
    public func wait() throws(PortalError) -> Response {
        if let ticket { try portal.awaitDurable(ticket, ownWrite: ownWrite) }
        return response
    }
}

/// The working copy one operation reads and changes; committed only if the operation succeeds.
struct Transaction {
    var state: PortalState
    let actor: Principal
    let now: Date
    let today: CivilDate
    let calendar: BusinessCalendar
    let catalog: Catalog
    var method: String = ""
    var records: [EventRecord] = []
    var faults = Faults()

    var access: Access { Access(actor: actor, faults: faults) }

    /// Whether changes can be made now (see ``BusinessCalendar/dateRuleRefusal(at:)``): when not,
    /// every change is refused, so no action is shown.
    let canChange: Bool

    init(
        state: PortalState, actor: Principal, now: Date, calendar: BusinessCalendar, catalog: Catalog,
        method: String = ""
    ) {
        self.state = state
        self.actor = actor
        self.now = now
        self.today = calendar.date(of: now)
        self.canChange = today.isRepresentable && BusinessCalendar.utcDate(of: now).isRepresentable
        self.calendar = calendar
        self.catalog = catalog
        self.method = method
    }

    /// Applies changes and records them as one event of the current operation.
    ///
    /// - Parameter recorded: who is recorded as having made the change: the actor, unless the change is
    ///   a consequence the system draws on another partner's data (see ``deploy(_:of:)``).
    mutating func record(
        target: String, summary: String, tenant: Tenant? = nil, domainId: String? = nil, _ changes: [Change],
        by recorded: PrincipalReference? = nil
    ) {
        let record = EventRecord(
            seq: (state.events.last?.seq ?? 0) + 1, at: now, actor: recorded ?? actor.reference, action: method,
            target: target,
            summary: summary, partnerId: tenant?.partnerId, tenantId: tenant?.id, domainId: domainId, changes: changes)
        state.apply(record)
        records.append(record)
    }

    /// Keeps the operation's request key with its records: on its last record, or, when it
    /// changed nothing, on a record of its own without changes.
    mutating func recordRequestKey(_ key: RequestKeyRecord) {
        guard !records.isEmpty else {
            let record = EventRecord(
                seq: (state.events.last?.seq ?? 0) + 1, at: now, actor: actor.reference, action: method, target: "",
                summary: "request key recorded; nothing changed", changes: [], requestKey: key)
            state.apply(record)
            records.append(state.events[state.events.count - 1])
            return
        }
        state.attachRequestKey(key)
        // As kept by the state: the result text is shared with equal ones.
        records[records.count - 1] = state.events[state.events.count - 1]
    }

    /// Saves a domain, bumping its version, as one event.
    mutating func save(
        _ domain: Domain, of tenant: Tenant, summary: String, tasks: [DeployTask] = [],
        by recorded: PrincipalReference? = nil
    ) {
        var domain = domain
        domain.version += 1
        record(
            target: domain.id, summary: summary, tenant: tenant, domainId: domain.id,
            [.domainSaved(domain)] + tasks.map(Change.taskSaved), by: recorded)
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
    /// `permission-denied`), at the expected version (else `conflict`): after the schema, visibility, then
    /// role, then version, before any domain rule.
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
