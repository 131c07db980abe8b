/// Where the portal's history is kept: the event records of every operation, in order.
///
/// The contract is small so that another backend (SQLite, PostgreSQL, …) can be added without
/// touching the domain code:
///
/// - ``load()`` returns every record that was made durable, in order (seq 1, 2, 3, …).
/// - ``write(_:)`` puts one operation's records after all earlier ones, all or nothing, and
///   returns a position; it throws, having written nothing, when the records cannot be written.
/// - ``waitUntilDurable(_:)`` returns once everything up to that position survives a crash.
///   Operations that arrive together may share one flush (group commit). A backend that makes
///   each write durable in ``write(_:)`` returns at once.
/// - ``compact(history:)`` offers the durable history for a snapshot; a backend that does not
///   need snapshots ignores it.
///
/// The portal calls ``write(_:)`` in the order operations are applied, never concurrently, and
/// acknowledges an operation only after ``waitUntilDurable(_:)`` returned for it.
///
/// A store that several servers share (PostgreSQL) also implements ``catchUp(forWriting:unsettled:)``
/// and ``endWrite()``: the portal calls them, under its write lock, before every request and after
/// a write that recorded nothing; and ``observeCommits(_:)``, through which it tells the portal to
/// catch up between requests. A store of one process keeps the defaults, which do nothing.
public protocol Store: AnyObject, Sendable {
    /// Every durable record, in order.
    func load() throws -> [EventRecord]
    /// Hands every durable record to `apply`, in order, possibly while later ones are still
    /// being read (the default calls ``load()``). If it throws, the load failed as a whole.
    func load(into apply: (EventRecord) throws -> Void) throws
    /// Like ``load(into:)``, telling `expect`, before the records of each part it reads (a file),
    /// how many records there are at most, so that the caller can make room for them at once (the
    /// default calls ``load(into:)`` and tells nothing).
    func load(expecting expect: (Int) -> Void, into apply: (EventRecord) throws -> Void) throws
    /// Writes the records of one operation after all earlier ones, all or nothing.
    func write(_ records: [EventRecord]) throws -> StorePosition
    /// Returns when everything written up to `position` is durable; throws when it cannot be
    /// made durable. Then nothing written after the last durable position is ever reported
    /// durable, and it is removed from the store unless the error's
    /// ``StoreError/outcomeUnknown`` says that this, too, failed.
    func waitUntilDurable(_ position: StorePosition) throws
    /// Whether the store would like a snapshot of the history now (its snapshot policy).
    var wantsSnapshot: Bool { get }
    /// Takes a snapshot of the durable prefix of `history`, possibly in the background.
    func compact(history: [EventRecord])
    /// The records that other writers committed since this store last returned or wrote records,
    /// in order, for the caller to apply before it answers a request (the default: none).
    ///
    /// - Parameters:
    ///   - forWriting: the caller is about to apply a write. On return no other writer can commit
    ///     until this store's next write was made durable or failed, or ``endWrite()`` was called,
    ///     so the write is applied on the latest state and takes its place in one global order.
    ///   - unsettled: the newest position the caller wrote that it has neither seen durable nor
    ///     undone, if any. After a failed commit the store accepts nothing until every failed
    ///     write was undone (`unsettled` is then older than the first failed position).
    /// - Throws: when the store cannot tell what others wrote (the database is unreachable).
    func catchUp(forWriting: Bool, unsettled: StorePosition?) throws -> [EventRecord]
    /// The write announced by `catchUp(forWriting: true, …)` recorded nothing (it was refused):
    /// other writers may go ahead (the default does nothing).
    func endWrite()
    /// Asks to be called (on any thread) when another writer may have committed, so the caller can
    /// catch up between requests (the default never calls).
    func observeCommits(_ handler: @escaping @Sendable () -> Void)
}

extension Store {
    public func catchUp(forWriting: Bool, unsettled: StorePosition?) throws -> [EventRecord] { [] }
    public func endWrite() {}
    public func observeCommits(_ handler: @escaping @Sendable () -> Void) {}

    public func load(into apply: (EventRecord) throws -> Void) throws {
        for record in try load() { try apply(record) }
    }

    public func load(expecting expect: (Int) -> Void, into apply: (EventRecord) throws -> Void) throws {
        try load(into: apply)
    }

    public var wantsSnapshot: Bool { false }
    public func compact(history: [EventRecord]) {}
}

/// A point in a store's write order; later writes have larger positions.
public struct StorePosition: Comparable, Sendable {
    /// Opaque to callers; meaningful to the store that returned it.
    public var rawValue: Int64

    public init(_ rawValue: Int64) { self.rawValue = rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A failure of the storage itself (disk full, read-only, damaged files), never of the request.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure it is, for programs; ``message`` says it for people.
    public enum Kind: Sendable, Equatable {
        /// Another process writes the store; its process ID when the lock file names one.
        case locked(pid: Int32?)
        /// A file of the store is damaged at this byte offset (not a torn write).
        case damaged(file: String, offset: Int)
        /// The store's directory or files cannot be written (read-only file system, permissions).
        case notWritable
        /// A storage system call failed with this error number.
        case io(operation: StorageOperation, errno: Errno)
        /// Anything else (closed store, wrong format version, a backend's own error).
        case other
    }

    /// What went wrong, naming the file and, for damage, the byte offset.
    public var message: String
    /// What kind of failure it is.
    public var kind: Kind
    /// For a failed ``Store/waitUntilDurable(_:)``: the writes that were not made durable could
    /// not be removed either, so they may or may not be there after a restart. When false, they
    /// were removed and will not come back.
    public var outcomeUnknown: Bool

    public init(_ message: String, kind: Kind = .other, outcomeUnknown: Bool = false) {
        self.message = message
        self.kind = kind
        self.outcomeUnknown = outcomeUnknown
    }

    public var description: String { message }
}
