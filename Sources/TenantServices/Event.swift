public import Foundation

/// One state change, as applied to the state, written to the journal and shown in the audit log.
///
/// Changes carry whole entities (the entity after the change), so applying one is an upsert and
/// replaying a journal needs no knowledge of the operation that produced it.
public enum Change: Codable, Sendable, Equatable {
    case partnerSaved(Partner)
    case tenantSaved(Tenant)
    case domainSaved(Domain)
    case taskSaved(DeployTask)
    case offerSaved(Offer)
}

/// Something that happened: who did what to which target, and the changes it made.
public struct EventRecord: Codable, Sendable, Equatable {
    /// Position in the log, from 1, without gaps.
    public var seq: Int
    public var at: Date
    public var actor: ActorReference
    /// The method name of the operation (`tenant.create`, …).
    public var action: String
    /// The ID of the entity the operation acted on.
    public var target: String
    /// One human-readable line.
    public var summary: String
    /// The partner, tenant and domain the event belongs to (for visibility filtering).
    public var partnerId: String?
    public var tenantId: String?
    public var domainId: String?
    public var changes: [Change]
}

/// An audit event as shown to an actor.
public struct AuditEvent: Codable, Sendable, Equatable {
    public var seq: Int
    public var at: Date
    public var actor: ActorReference
    public var action: String
    public var target: String
    public var summary: String
}

/// Where events are made durable.
///
/// The contract is small on purpose, so another backend (SQLite, PostgreSQL) can be added
/// without touching the domain code: `load` returns every record ever appended, in order;
/// `append` makes a batch durable (all or nothing) before it returns, and throws if it could not.
public protocol EventStore: Sendable {
    /// Every record appended so far, in order.
    func load() throws -> [EventRecord]
    /// Persists the records of one operation atomically; throws when nothing was persisted.
    func append(_ records: [EventRecord]) throws
}

/// An event store that keeps records in memory only (tests, demos).
public final class InMemoryEventStore: EventStore {
    private let records = Locked<[EventRecord]>([])

    public init() {}

    public func load() -> [EventRecord] { records.withLock { $0 } }

    public func append(_ batch: [EventRecord]) { records.withLock { $0 += batch } }
}
