import Foundation
import PostgresNIO
import Synchronization
public import TenantServices

/// A store that any number of servers share: one PostgreSQL database, one global order of events.
///
/// Tables (created on first use, schema version in `tenant_services_schema`):
/// `tenant_services_events(seq bigint primary key, record text)` holds every event record whole,
/// as the file store's journal does.
///
/// - **One global order.** Every server keeps the state in memory and catches up with what others
///   committed before each request (``catchUp(forWriting:unsettled:)``: one query for rows after
///   the last seq it knows). A writer first takes a session-level advisory lock and reads what it
///   missed in the same statement, so it applies its write on the latest state and gives it the
///   next seq; it holds the lock until its writes are committed (pipelined writes keep it from one
///   commit to the next), so commit order is seq order and a reader catching up by seq never
///   skips a row. Under continuous load a writer lets the lock go every ``fairnessInterval``.
/// - **The lock stays while it is wanted by nobody.** After its last commit a writer keeps the lock
///   for ``lingerInterval``, so the next write of a client writing in lock-step needs no round
///   trip before its commit: while it holds the lock, nobody else can have committed. A writer
///   that finds the lock taken announces it (`NOTIFY tenant_services_lock_wanted`) before it
///   waits, and the holder commits what it has buffered at once (without waiting for those writes'
///   waiters) and lets the lock go. The hand-over runs on a serial queue of the store's, so it
///   happens even while the process keeps the global dispatch queues busy.
/// - **Durable = committed.** Writes are buffered and committed together by the first waiter in
///   one statement (group commit) with `synchronous_commit = on`: a call of
///   `tenant_services_commit`, which commits before it returns; ``waitUntilDurable(_:)`` returns
///   once its reply arrives. (The reply to a plain statement comes before its implicit
///   transaction commits, so a commit refused then, by a full NOTIFY queue or a session ended while
///   it waits for the notification lock, would look committed.)
/// - **Faults.** A failed commit fails every write from its first one on; the store then refuses
///   work until the portal has undone them, reconnects by itself on the next request, and a
///   commit whose reply was lost is looked up after reconnecting, so it is not reported failed
///   when it was in fact committed.
public final class PostgresStore: Store, @unchecked Sendable {
    /// The newest schema version this code knows; a database with a newer one is refused.
    public static let schemaVersion = 1
    /// The `NOTIFY` channel on which every commit announces its last seq (followed by a space and
    /// the committing store's identity, so it ignores its own).
    public static let notificationChannel = "tenant_services_events"
    /// The `NOTIFY` channel on which a writer that finds the write lock taken asks for it.
    public static let lockWantedChannel = "tenant_services_lock_wanted"
    /// How many records ``load()`` fetches as one value.
    static let loadBatch: Int64 = 4000
    /// The advisory lock that serializes writers (`pg_advisory_lock`), and the one for setting up tables.
    static let writeLockKey: Int64 = 0x5453_4556_0001
    static let schemaLockKey: Int64 = 0x5453_4556_0002

    /// Where the database is (its description has no password).
    public let location: PostgresLocation
    /// How long a writer under continuous load holds the write lock before it lets others in.
    public let fairnessInterval: Duration
    /// How long an idle writer keeps the write lock after its last write when nobody asks for it.
    public let lingerInterval: Duration
    /// How long the store waits for the database's reply to a statement before it gives the
    /// connection up (a database that stops answering then gets `storage-failure`, not a wait
    /// without end); longer than the 10 s a writer may wait for the lock.
    public let replyTimeout: Duration

    /// The default of ``replyTimeout``.
    public static let defaultReplyTimeout: Duration = .seconds(30)

    /// Reports how far ``load()`` has come: records done, records in all.
    public typealias LoadProgress = @Sendable (_ done: Int, _ total: Int) -> Void

    private let onLoadProgress: LoadProgress?
    private let group: any EventLoopGroup
    private let logger: Logger
    /// Names this store in its requests for the lock, so it ignores its own.
    private let identity = UUID().uuidString
    /// Runs the write lock's hand-over (another writer's request, the linger timer). A serial queue
    /// of its own gets a thread even while the process keeps the global queues busy, where the
    /// hand-over would wait behind that work for longer than the other writer's lock wait.
    private let lockQueue = DispatchQueue(label: "tenant-services.postgres.lock")

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var connection: PostgresConnection?
    private var lastConnectFailure: (at: ContinuousClock.Instant, error: StoreError)?
    private var loaded = false
    /// The newest seq known committed whose record the caller has (loaded, caught up or written).
    private var seenSeq = 0 {
        didSet { seen.value.store(seenSeq, ordering: .relaxed) }
    }
    /// `seenSeq` for the notification listener.
    private let seen = SeenSeq()
    /// Whether this session holds the write lock, and since when.
    private var holdsLock = false
    private var lockedSince = ContinuousClock.now
    /// When the lock was last used (a commit or a refused write), while it is held.
    private var lastUse = ContinuousClock.now
    /// Another writer asked for the lock since this session took it.
    private var lockWanted = false
    /// A check whether the idle lock can go is scheduled.
    private var releaseScheduled = false
    /// Between `catchUp(forWriting: true)` and the `write` or `endWrite` that follows: the lock
    /// must stay, even if every buffered write is committed meanwhile.
    private var announcedWrite = false
    /// Written but not yet committed: positions (durable, written], oldest first.
    private var buffer: [(seq: Int64, json: String)] = []
    private var bufferSeqEnd = 0
    private var written: Int64 = 0
    private var durable: Int64 = 0
    private var committing = false
    /// Set by a failed commit until the caller has undone what failed: every write from `from` on failed.
    private var failure: (from: Int64, error: StoreError)?
    /// The positions of every failed commit (the newest few), which stay failed after recovery.
    private var failed: [(positions: ClosedRange<Int64>, error: StoreError)] = []
    private var commits = 0
    private var statements = 0
    private var listener: CommitListener?

    /// Connects to the database (tables are created by ``load()``).
    ///
    /// - Throws: ``StoreError`` with a one-line reason: unreachable, wrong password, unknown database.
    public init(
        location: PostgresLocation, fairnessInterval: Duration = .milliseconds(50),
        lingerInterval: Duration = .milliseconds(20), replyTimeout: Duration = PostgresStore.defaultReplyTimeout,
        onLoadProgress: LoadProgress? = nil
    ) throws {
        self.location = location
        self.replyTimeout = replyTimeout
        self.fairnessInterval = fairnessInterval
        self.lingerInterval = lingerInterval
        self.onLoadProgress = onLoadProgress
        // The process-wide event loops: never shut down, so nothing in flight outlives its loop.
        self.group = MultiThreadedEventLoopGroup.singleton
        var logger = Logger(label: "tenant-services.postgres")
        logger.logLevel = .warning
        self.logger = logger
        condition.lock()
        defer { condition.unlock() }
        _ = try connected()
    }

    /// Opens the store at a `postgresql://` URL (see ``PostgresLocation/init(url:environment:)``).
    public convenience init(url: String, onLoadProgress: LoadProgress? = nil) throws {
        try self.init(location: try PostgresLocation(url: url), onLoadProgress: onLoadProgress)
    }

    deinit {
        listener?.stop()
        if let connection { PostgresStore.discard(connection) }
    }

    /// Closes the connections once a commit in flight is settled; later requests reconnect
    /// (notifications stop). Writes buffered and not yet committed fail (their waiters get the
    /// error, and the store refuses work until they are undone, as after a lost connection).
    public func close() {
        condition.lock()
        defer { condition.unlock() }
        // Not under a commit in flight: a catch-up on a new session would read that commit back
        // as another server's before it is settled here, and the portal would apply it twice.
        while committing { condition.wait() }
        listener?.stop()
        listener = nil
        // The lock goes with the session, so what is buffered cannot be committed in its place in
        // the global order any more: it fails now, before a catch-up reads what another server
        // committed at the same seqs on top of it.
        if !buffer.isEmpty {
            fail(from: durable + 1, StoreError("\(location): the store was closed; nothing was committed"))
        }
        dropConnection()
    }

    /// Listens (`LISTEN tenant_services_events`, on a connection of its own that is reopened
    /// when lost) and calls `handler` when another server committed events this store has not seen.
    public func observeCommits(_ handler: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        listener?.stop()
        let identity = identity
        let listener = CommitListener(
            configuration: configuration(), group: group, logger: logger, seen: seen, identity: identity,
            lockQueue: lockQueue, handler: handler,
            onLockWanted: { [weak self] by in
                guard by != identity else { return }
                self?.lockWantedByAnother()
            })
        self.listener = listener
        listener.start()
    }

    /// How many commits this store made (one per group of writes).
    public var commitCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return commits
    }

    /// How many statements this store sent to the database on its main connection (not counting
    /// those that set up a session, nor the listener's).
    public var statementCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return statements
    }

    // MARK: Connection

    /// The open connection, connecting first if needed. Call with `condition` locked.
    private func connected() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        dropConnection()
        if let last = lastConnectFailure, ContinuousClock.now - last.at < .milliseconds(200) { throw last.error }
        do {
            let connection = try PostgresConnection.connect(
                on: group.next(), configuration: configuration(), id: 1, logger: logger
            ).wait()
            self.connection = connection
            // Acknowledged means committed and flushed; a writer waits at most this long for the lock.
            _ = try connection.send("SET synchronous_commit = on", logger: logger, timeout: replyTimeout).wait()
            _ = try connection.send("SET lock_timeout = '10s'", logger: logger, timeout: replyTimeout).wait()
            lastConnectFailure = nil
            return connection
        } catch {
            dropConnection()
            let failure = StoreError("cannot connect to \(location): \(Self.reason(error))")
            lastConnectFailure = (ContinuousClock.now, failure)
            throw failure
        }
    }

    private func configuration() -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if location.host.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(location.host)/.s.PGSQL.\(location.port)", username: location.user,
                password: location.password, database: location.database)
        } else {
            configuration = .init(
                host: location.host, port: location.port, username: location.user, password: location.password,
                database: location.database, tls: .disable)
        }
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// Closes a connection in the background, keeping it alive until it is closed.
    static func discard(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Forgets the connection (the server then drops the session's lock and any open statement).
    private func dropConnection() {
        if let connection { PostgresStore.discard(connection) }
        connection = nil
        holdsLock = false
    }

    private func query(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws -> PostgresQueryResult {
        let connection = try connected()
        statements += 1
        do {
            return try connection.send(
                PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger, timeout: replyTimeout
            )
            .wait()
        } catch {
            if Self.sessionEnded(connection, by: error) { dropConnection() }
            throw StoreError("\(location): \(Self.reason(error))")
        }
    }

    /// Whether `error`, a statement's failure, means the session is over, so the statement may
    /// have taken effect without its reply: the connection closed, no reply in time, or an error
    /// that ends the session (severity FATAL or PANIC, as `pg_terminate_backend` or a shutdown
    /// sends, possibly after the statement's commit). The connection may not show itself closed
    /// yet when the FATAL error arrives.
    static func sessionEnded(_ connection: PostgresConnection, by error: any Error) -> Bool {
        if connection.isClosed || error is NoReply { return true }
        guard let error = error as? PSQLError else { return false }
        if error.code == .serverClosedConnection || error.code == .uncleanShutdown { return true }
        let severity = error.serverInfo?[.severity] ?? error.serverInfo?[.localizedSeverity]
        return severity == "FATAL" || severity == "PANIC"
    }

    /// A one-line reason for a failure, with what the server said; never the password.
    static func reason(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.message }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return message + code
            }
            switch error.code {
            case .serverClosedConnection, .uncleanShutdown:
                return "the database closed the connection (it may have been restarted)"
            case .clientClosedConnection: return "the connection was closed"
            case .connectionError:
                return "the connection failed" + (error.underlying.map { ": \($0)" } ?? "")
            default:
                return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
            }
        }
        return "\(error)"
    }

    // MARK: Schema

    /// Creates the tables if they are missing; refuses a schema newer than this code knows.
    private func ensureSchema() throws {
        _ = try query("BEGIN")
        do {
            _ = try query("SELECT pg_advisory_xact_lock(\(Self.schemaLockKey))")
            _ = try query("CREATE TABLE IF NOT EXISTS tenant_services_schema (version integer NOT NULL)")
            let rows = try query("SELECT version FROM tenant_services_schema")
            let versions = try rows.map { try $0.decode(Int32.self) }
            if let version = versions.max() {
                guard Int(version) <= Self.schemaVersion else {
                    throw StoreError(
                        "the database \(location) holds tenant-services schema version \(version), but this build knows versions up to \(Self.schemaVersion); use a newer tenant-services"
                    )
                }
            } else {
                _ = try query(
                    """
                    CREATE TABLE tenant_services_events (
                        seq bigint PRIMARY KEY CHECK (seq > 0),
                        record text NOT NULL
                    )
                    """)
                _ = try query(
                    """
                    CREATE OR REPLACE FUNCTION tenant_services_lock_and_read(after bigint)
                    RETURNS TABLE (seq bigint, record text) LANGUAGE plpgsql VOLATILE AS $$
                    BEGIN
                        PERFORM pg_advisory_lock(\(Self.writeLockKey));
                        -- A new snapshot, taken after the lock: it holds every commit of the writer before.
                        RETURN QUERY SELECT e.seq, e.record FROM tenant_services_events e
                            WHERE e.seq > after ORDER BY e.seq;
                    END
                    $$
                    """)
                _ = try query("INSERT INTO tenant_services_schema (version) VALUES (\(Self.schemaVersion))")
            }
            // Added to schema version 1 later (older servers never call it): created when missing.
            let missing = try query("SELECT to_regprocedure('tenant_services_try_lock_and_read(bigint,text)') IS NULL")
            if try missing.first?.decode(Bool.self) ?? true {
                _ = try query(
                    """
                    CREATE FUNCTION tenant_services_try_lock_and_read(after bigint, asker text)
                    RETURNS TABLE (seq bigint, record text) LANGUAGE plpgsql VOLATILE AS $$
                    BEGIN
                        IF NOT pg_try_advisory_lock(\(Self.writeLockKey)) THEN
                            -- Taken: ask the holder to let it go (sent when this call ends, without
                            -- waiting for a flush: the request is no data), then the caller waits.
                            PERFORM set_config('synchronous_commit', 'off', true);
                            PERFORM pg_notify('\(Self.lockWantedChannel)', asker);
                            RETURN QUERY SELECT -1::bigint, NULL::text;
                            RETURN;
                        END IF;
                        -- A new snapshot, taken after the lock: it holds every commit of the writer before.
                        RETURN QUERY SELECT e.seq, e.record FROM tenant_services_events e
                            WHERE e.seq > after ORDER BY e.seq;
                    END
                    $$
                    """)
            }
            // Likewise: commits a batch before it returns, so that its reply is the commit's outcome.
            let noCommit = try query(
                "SELECT to_regprocedure('tenant_services_commit(bigint[],text[],text,bigint)') IS NULL")
            if try noCommit.first?.decode(Bool.self) ?? true {
                _ = try query(
                    """
                    CREATE PROCEDURE tenant_services_commit(
                        seqs bigint[], records text[], origin text, INOUT inserted bigint DEFAULT NULL)
                    LANGUAGE plpgsql AS $$
                    BEGIN
                        INSERT INTO tenant_services_events (seq, record) SELECT * FROM unnest(seqs, records);
                        GET DIAGNOSTICS inserted = ROW_COUNT;
                        PERFORM pg_notify('\(Self.notificationChannel)', seqs[cardinality(seqs)]::text || origin);
                        COMMIT;
                    END
                    $$
                    """)
            }
            _ = try query("COMMIT")
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }

    // MARK: Load

    public func load() throws -> [EventRecord] {
        var records: [EventRecord] = []
        try load { records.append($0) }
        return records
    }

    /// Creates the tables on first use, then streams every record in seq order: ranges of
    /// ``loadBatch`` records, each fetched as one value (the records joined by newlines, which
    /// compact JSON never holds), so the client handles a few hundred values instead of a row per
    /// record; each range is decoded on every core while the next is fetched and the one before
    /// is applied.
    public func load(into apply: (EventRecord) throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        try ensureSchema()
        let connection = try connected()
        _ = try query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        var lastSeq = 0
        do {
            // In the transaction's snapshot, like every range read after it.
            let total = try query("SELECT coalesce(max(seq), 0) FROM tenant_services_events").first!.decode(Int64.self)
            let batch = Self.loadBatch
            func fetch(after: Int64) -> EventLoopFuture<PostgresQueryResult> {
                var binds = PostgresBindings()
                binds.append(after)
                binds.append(after + batch)
                statements += 1
                return connection.send(
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT count(*)::bigint, coalesce(string_agg(record, E'\\n' ORDER BY seq), '')
                            FROM tenant_services_events WHERE seq > $1 AND seq <= $2
                            """, binds: binds), logger: logger, timeout: replyTimeout)
            }
            var after: Int64 = 0
            var next = total > 0 ? fetch(after: 0) : nil
            var decoding: DecodingBatch?
            defer { decoding?.wait() }  // nothing outlives the load
            while true {
                var range: DecodingBatch?
                if let pending = next {
                    let rows: PostgresQueryResult
                    do {
                        rows = try pending.wait()
                    } catch {
                        throw StoreError("\(location): cannot read the events: \(Self.reason(error))")
                    }
                    let first = Int(after) + 1
                    after += batch
                    next = after < total ? fetch(after: after) : nil
                    var cells = rows.first?.makeIterator()
                    guard let count = try? cells?.next()?.decode(Int64.self), let text = cells?.next()?.bytes else {
                        throw StoreError("\(location): the events from seq \(first) on could not be read")
                    }
                    range = DecodingBatch(text, count: Int(count), firstSeq: first)
                }
                // Decode this range while the one before is applied.
                let previous = decoding
                decoding = range
                if let previous {
                    for record in try previous.records() {
                        guard record.seq == lastSeq + 1 else {
                            throw StoreError(
                                "\(location): event \(lastSeq + 1) is missing from tenant_services_events (the next one has seq \(record.seq))"
                            )
                        }
                        try apply(record)
                        lastSeq = record.seq
                    }
                    onLoadProgress?(lastSeq, Int(total))
                }
                if decoding == nil { break }
            }
            guard lastSeq == total else {
                throw StoreError("\(location): event \(lastSeq + 1) is missing from tenant_services_events")
            }
            _ = try query("COMMIT")
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
        seenSeq = lastSeq
        bufferSeqEnd = lastSeq
        loaded = true
    }

    /// Decodes rows of (seq, record) on every core, in order.
    static func decode(_ rows: [PostgresRow]) throws -> [EventRecord] {
        try decodeInParallel(count: rows.count) { i throws(StoreError) in try Self.record(rows[i]) }
    }

    /// Runs `decodeOne` for 0..<count on every core (in one pass when there are few) and returns
    /// the records in order, or throws the first failure in that order.
    private static func decodeInParallel(
        count: Int, _ decodeOne: @escaping @Sendable (Int) throws(StoreError) -> EventRecord
    ) throws -> [EventRecord] {
        let results = UnsafeMutableBufferPointer<Result<EventRecord, StoreError>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        nonisolated(unsafe) let output = results
        let chunks = count < 256 ? 1 : ProcessInfo.processInfo.activeProcessorCount * 4
        let decodeRange = { @Sendable (range: Range<Int>) in
            for i in range { output[i] = Result { () throws(StoreError) -> EventRecord in try decodeOne(i) } }
        }
        if chunks == 1 {
            decodeRange(0..<count)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                decodeRange((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            }
        }
        return try results.map { try $0!.get() }
    }

    /// Decodes records joined by newlines (`count` of them, the first with seq `firstSeq`) on every core, in order.
    static func decode(joined bytes: UnsafeRawBufferPointer, count: Int, firstSeq: Int) throws -> [EventRecord] {
        var lines: [Range<Int>] = []
        lines.reserveCapacity(count)
        var start = 0
        while start <= bytes.count, count > 0 {
            let newline = start < bytes.count ? memchr(bytes.baseAddress! + start, 10, bytes.count - start) : nil
            let end = newline.map { bytes.baseAddress!.distance(to: UnsafeRawPointer($0)) } ?? bytes.count
            lines.append(start..<end)
            start = end + 1
        }
        guard lines.count == count else {
            throw StoreError("tenant_services_events from seq \(firstSeq): \(count) rows hold \(lines.count) records")
        }
        nonisolated(unsafe) let bytes = bytes
        let ranges = lines
        return try decodeInParallel(count: count) { i throws(StoreError) in
            do {
                return try RecordCodec.decode(UnsafeRawBufferPointer(rebasing: bytes[ranges[i]]))
            } catch {
                throw StoreError(
                    "tenant_services_events row \(firstSeq + i) (counting from \(firstSeq)) is not a valid event record: \(error)"
                )
            }
        }
    }

    private static func record(_ row: PostgresRow) throws(StoreError) -> EventRecord {
        var cells = row.makeIterator()
        guard let seqCell = cells.next(), let recordCell = cells.next(), let bytes = recordCell.bytes else {
            throw StoreError("a row of tenant_services_events has no record")
        }
        let seq = try? seqCell.decode(Int64.self)
        do {
            let record = try bytes.withUnsafeReadableBytes { try RecordCodec.decode($0) }
            guard seq == Int64(record.seq) else {
                throw StoreError("the row's seq \(seq.map(String.init) ?? "?") differs from its record's \(record.seq)")
            }
            return record
        } catch let error as StoreError {
            throw StoreError("tenant_services_events row \(seq.map(String.init) ?? "?"): \(error.message)")
        } catch {
            throw StoreError(
                "tenant_services_events row \(seq.map(String.init) ?? "?") is not a valid event record: \(error)")
        }
    }

    // MARK: Catching up

    public func catchUp(forWriting: Bool, unsettled: StorePosition?) throws -> [EventRecord] {
        condition.lock()
        defer { condition.unlock() }
        guard loaded else { throw StoreError("the store \(location) must be loaded before it is used") }
        if let failure {
            if let unsettled, unsettled.rawValue >= failure.from {
                throw StoreError("an earlier write failed and is being undone: \(failure.error.message)")
            }
            // Every failed write was undone: start afresh on a new session.
            self.failure = nil
            dropConnection()
            bufferSeqEnd = seenSeq
        }
        if holdsLock, connection?.isClosed ?? true, !committing {
            // The session, and with it the lock, is gone: what was buffered cannot be committed.
            if buffer.isEmpty {
                dropConnection()
            } else {
                let error = StoreError("\(location): the connection was lost; nothing was committed")
                fail(from: durable + 1, error)
                throw error
            }
        }
        if holdsLock {
            // Nobody else can have committed since this session took the lock.
            guard forWriting, ContinuousClock.now - lockedSince > fairnessInterval else {
                if forWriting { announcedWrite = true }
                return []
            }
            // Held long enough: commit what is buffered and let others in before writing again.
            while committing { condition.wait() }
            if let failure { throw StoreError("an earlier write failed: \(failure.error.message)") }
            try commitBuffered()
            if holdsLock { releaseLock() }
        }
        let rows: PostgresQueryResult
        var binds = PostgresBindings()
        binds.append(Int64(seenSeq))
        if forWriting {
            var tryBinds = binds
            tryBinds.append(identity)
            let tried = try query("SELECT seq, record FROM tenant_services_try_lock_and_read($1, $2)", tryBinds)
            if Self.lockWasTaken(tried) {
                // Another writer holds it and was asked to let it go: wait for it.
                rows = try query("SELECT seq, record FROM tenant_services_lock_and_read($1)", binds)
            } else {
                rows = tried
            }
            holdsLock = true
            announcedWrite = true
            lockWanted = false
            lockedSince = .now
            lastUse = .now
        } else {
            rows = try query("SELECT seq, record FROM tenant_services_events WHERE seq > $1 ORDER BY seq", binds)
        }
        if rows.rows.isEmpty { return [] }
        do {
            let records = try Self.decode(rows.rows)
            for (offset, record) in records.enumerated() where record.seq != seenSeq + 1 + offset {
                throw StoreError(
                    "\(location): event \(seenSeq + 1 + offset) is missing from tenant_services_events (the next one has seq \(record.seq))"
                )
            }
            seenSeq += records.count
            bufferSeqEnd = seenSeq
            return records
        } catch {
            announcedWrite = false
            if holdsLock { releaseLock() }
            throw error
        }
    }

    public func endWrite() {
        condition.lock()
        defer { condition.unlock() }
        announcedWrite = false
        if holdsLock, buffer.isEmpty, !committing { idle() } else { handOverIfWanted() }
    }

    /// Whether `tenant_services_try_lock_and_read` found the lock taken (its one row has seq -1).
    private static func lockWasTaken(_ rows: PostgresQueryResult) -> Bool {
        guard rows.rows.count == 1, var cells = rows.first?.makeIterator() else { return false }
        return (try? cells.next()?.decode(Int64.self)) == -1
    }

    /// The lock is held and nothing is being written: let it go at once if another writer asked
    /// for it, else after ``lingerInterval`` without use. Call with `condition` locked.
    private func idle() {
        lastUse = .now
        if lockWanted {
            releaseLock()
        } else if !releaseScheduled {
            releaseScheduled = true
            scheduleIdleCheck(after: lingerInterval)
        }
    }

    private func scheduleIdleCheck(after delay: Duration) {
        let nanoseconds = delay.components.seconds * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000
        lockQueue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [weak self] in
            self?.releaseIfIdle()
        }
    }

    /// Lets the lock go if it was not used for ``lingerInterval`` (or checks again later).
    private func releaseIfIdle() {
        condition.lock()
        defer { condition.unlock() }
        releaseScheduled = false
        guard holdsLock, buffer.isEmpty, !committing, !announcedWrite else { return }
        let unused = ContinuousClock.now - lastUse
        if unused >= lingerInterval {
            releaseLock()
        } else {
            releaseScheduled = true
            scheduleIdleCheck(after: lingerInterval - unused)
        }
    }

    /// Another writer waits for the lock: it goes at once if idle, else once the writes buffered
    /// or in flight are committed.
    private func lockWantedByAnother() {
        condition.lock()
        defer { condition.unlock() }
        guard holdsLock else { return }
        lockWanted = true
        handOverIfWanted()
    }

    /// If another writer asked for the lock: lets it go when nothing is buffered, else commits
    /// what is buffered first, on `lockQueue`, without waiting for a waiter (whose client may not
    /// read its replies for a long time: the lock would stay past the other writer's lock wait).
    /// Call with `condition` locked.
    private func handOverIfWanted() {
        guard holdsLock, lockWanted, !committing else { return }
        if !buffer.isEmpty {
            lockQueue.async { [weak self] in self?.commitForHandOver() }
        } else if !announcedWrite {
            releaseLock()
        }
    }

    /// Commits what is buffered because another writer wants the lock; a commit that succeeds
    /// lets the lock go (see ``idle()``), one that fails is recorded for the writes' waiters.
    private func commitForHandOver() {
        condition.lock()
        defer { condition.unlock() }
        guard holdsLock, lockWanted, !committing, !buffer.isEmpty, failure == nil else { return }
        try? commitBuffered()
    }

    /// Lets other writers in (without waiting for the reply; the next statement queues behind it).
    private func releaseLock() {
        holdsLock = false
        lockWanted = false
        guard let connection, !connection.isClosed else { return }
        statements += 1
        connection.send(
            PostgresQuery(unsafeSQL: "SELECT pg_advisory_unlock(\(Self.writeLockKey))"), logger: logger,
            timeout: replyTimeout
        ).whenComplete { _ in }
    }

    // MARK: Writing

    public func write(_ records: [EventRecord]) throws -> StorePosition {
        var encoded: [(seq: Int64, json: String)] = []
        do {
            for record in records {
                encoded.append((Int64(record.seq), String(decoding: try RecordCodec.encode(record), as: UTF8.self)))
            }
        } catch {
            throw StoreError("cannot encode the records: \(error)")
        }
        condition.lock()
        defer { condition.unlock() }
        announcedWrite = false
        if let failure { throw failure.error }
        guard holdsLock else {
            throw StoreError("a write to \(location) must follow catchUp(forWriting: true), which takes the write lock")
        }
        for (offset, record) in records.enumerated() where record.seq != bufferSeqEnd + 1 + offset {
            throw StoreError(
                "record seq \(record.seq) does not follow seq \(bufferSeqEnd + offset) in the global order")
        }
        buffer += encoded
        bufferSeqEnd += records.count
        written += 1
        handOverIfWanted()
        return StorePosition(written)
    }

    public func waitUntilDurable(_ position: StorePosition) throws {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let lost = failed.last(where: { $0.positions.contains(position.rawValue) }) { throw lost.error }
            if durable >= position.rawValue { return }
            if committing {
                condition.wait()
            } else if buffer.isEmpty {
                throw StoreError("\(location): write \(position.rawValue) was not made by this store")
            } else {
                try commitBuffered()
            }
        }
    }

    /// Commits everything buffered in one statement, or records the failure. Call with
    /// `condition` locked and no commit running; returns with it locked.
    private func commitBuffered() throws {
        guard !buffer.isEmpty else { return }
        if let failure { throw failure.error }
        committing = true
        let batch = buffer
        let target = written
        let first = durable + 1
        buffer.removeAll(keepingCapacity: true)
        var binds = PostgresBindings()
        binds.append(batch.map(\.seq))
        binds.append(batch.map(\.json))
        binds.append(" " + identity)
        // The procedure commits before it returns, so its reply is the commit's outcome.
        let statement = PostgresQuery(
            unsafeSQL: "CALL tenant_services_commit($1::bigint[], $2::text[], $3::text, NULL)", binds: binds)
        let outcome: Result<Void, StoreError>
        if let connection, !connection.isClosed, holdsLock {
            statements += 1
            condition.unlock()
            let result = Result { try connection.send(statement, logger: logger, timeout: replyTimeout).wait() }
            condition.lock()
            switch result {
            case .success(let rows):
                var cells = rows.first?.makeIterator()
                let count = try? cells?.next()?.decode(Int64.self)
                outcome =
                    count == Int64(batch.count)
                    ? .success(()) : .failure(StoreError("\(location): the insert reported \(count ?? 0) rows"))
            case .failure(let error):
                if Self.sessionEnded(connection, by: error) {
                    dropConnection()
                    // The reply was lost: the commit may have happened. Ask a new session.
                    switch committedMeanwhile(batch) {
                    case true?: outcome = .success(())
                    case false?:
                        outcome = .failure(StoreError("\(location): \(Self.reason(error)); nothing was committed"))
                    case nil:
                        outcome = .failure(
                            StoreError(
                                "\(location): \(Self.reason(error)) before the commit was confirmed, and the database cannot be asked now",
                                outcomeUnknown: true))
                    }
                } else {
                    outcome = .failure(StoreError("\(location): \(Self.reason(error)); nothing was committed"))
                }
            }
        } else {
            outcome = .failure(
                StoreError("\(location): the connection was lost (and with it the write lock); nothing was committed"))
        }
        committing = false
        defer { condition.broadcast() }
        switch outcome {
        case .success:
            commits += 1
            durable = target
            seenSeq = Int(batch.last!.seq)
            if !holdsLock || connection == nil {
                // The session that held the lock is gone: what was buffered after it is stale.
                if !buffer.isEmpty { fail(from: target + 1, StoreError("\(location): the connection was lost")) }
            } else if buffer.isEmpty, !announcedWrite {
                idle()
            } else {
                handOverIfWanted()
            }
        case .failure(let error):
            logger.warning("commit failed", metadata: ["reason": "\(error.message)"])
            fail(from: first, error)
            throw error
        }
    }

    /// Every write from position `from` on failed; the session is dropped (so is its lock).
    private func fail(from: Int64, _ error: StoreError) {
        failure = (from, error)
        if from <= written {
            failed.append((from...written, error))
            if failed.count > 64 { failed.removeFirst() }
        }
        buffer.removeAll()
        dropConnection()
    }

    /// After a lost reply: whether the batch is in the table (looked up by a new session once
    /// the old one's lock is free, so the old statement has ended one way or the other).
    private func committedMeanwhile(_ batch: [(seq: Int64, json: String)]) -> Bool? {
        guard let last = batch.last else { return false }
        do {
            _ = try query("SELECT pg_advisory_lock(\(Self.writeLockKey))")
            defer { _ = try? query("SELECT pg_advisory_unlock(\(Self.writeLockKey))") }
            var binds = PostgresBindings()
            binds.append(last.seq)
            let rows = try query("SELECT record FROM tenant_services_events WHERE seq = $1", binds)
            return try rows.first?.decode(String.self) == last.json
        } catch {
            return nil
        }
    }
}

extension PostgresConnection {
    /// What `send` fails with on a closed connection.
    static let closedError = StoreError("the connection to the database is closed")

    /// Runs `query`, failing at once if the connection is closed.
    ///
    /// postgres-nio drops a query written to a channel that closed in the meantime without ever
    /// answering it (a wait that never returns; a trap in debug builds). The query is therefore
    /// written from the connection's own event loop, where the channel cannot close between the
    /// check and the write.
    ///
    /// A reply that has not come within `timeout` closes the connection: the query fails with a
    /// message saying so (whether it took effect is unknown, as for any reply lost).
    func send(
        _ query: PostgresQuery, logger: Logger, timeout: Duration = PostgresStore.defaultReplyTimeout
    ) -> EventLoopFuture<PostgresQueryResult> {
        eventLoop.flatSubmit {
            guard !self.isClosed else { return self.eventLoop.makeFailedFuture(Self.closedError) }
            let reply = self.query(query, logger: logger)
            // Touched on the event loop only.
            nonisolated(unsafe) var timedOut = false
            let timer = self.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                timedOut = true
                PostgresStore.discard(self)
            }
            return reply.flatMapErrorThrowing { error in
                guard timedOut else { throw error }
                throw NoReply(timeout: timeout)
            }.always { _ in timer.cancel() }
        }
    }
}

/// A statement whose reply did not come in time; its connection was given up, and whether the
/// statement took effect (or still will, if the session runs on) is unknown.
struct NoReply: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "no reply from the database within \(timeout)" }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// One range of records being decoded in the background (on every core).
final class DecodingBatch: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    // Written by the decoding task before `done` is signalled, read after waiting for it.
    private var result: Result<[EventRecord], any Error> = .success([])
    private var waited = false

    /// Starts decoding `count` records joined by newlines, the first with seq `firstSeq`.
    init(_ text: ByteBuffer, count: Int, firstSeq: Int) {
        DispatchQueue.global().async { [self] in
            result = Result {
                try text.withUnsafeReadableBytes {
                    try PostgresStore.decode(joined: $0, count: count, firstSeq: firstSeq)
                }
            }
            done.signal()
        }
    }

    /// Waits until the batch is decoded.
    func wait() {
        guard !waited else { return }
        done.wait()
        waited = true
    }

    /// The decoded records, in order, once they are ready; the first failure is thrown.
    func records() throws -> [EventRecord] {
        wait()
        return try result.get()
    }
}

/// The newest seq a store has seen, shared with its listener.
final class SeenSeq: Sendable {
    let value = Atomic<Int>(0)
}

/// Keeps a `LISTEN` connection open (reopening it after a loss) and calls the handler, at most one
/// call at a time, when a commit with a seq beyond what the store has seen is announced.
final class CommitListener: @unchecked Sendable {
    private let configuration: PostgresConnection.Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let seen: SeenSeq
    private let identity: String
    /// Where `onLockWanted` runs (the store's), and where `handler` runs (this listener's own):
    /// serial queues, which get a thread even while the global queues are busy.
    private let lockQueue: DispatchQueue
    private let handlerQueue = DispatchQueue(label: "tenant-services.postgres.catch-up")
    private let handler: @Sendable () -> Void
    private let onLockWanted: @Sendable (String) -> Void
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var stopped = false
    private var connection: PostgresConnection?
    private var scheduled = false

    init(
        configuration: PostgresConnection.Configuration, group: any EventLoopGroup, logger: Logger, seen: SeenSeq,
        identity: String, lockQueue: DispatchQueue, handler: @escaping @Sendable () -> Void,
        onLockWanted: @escaping @Sendable (String) -> Void
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.seen = seen
        self.identity = identity
        self.lockQueue = lockQueue
        self.handler = handler
        self.onLockWanted = onLockWanted
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "tenant-services.postgres.listen"
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        let connection = self.connection
        condition.broadcast()
        condition.unlock()
        if let connection { PostgresStore.discard(connection) }
    }

    private func run() {
        while true {
            condition.lock()
            if stopped {
                condition.unlock()
                return
            }
            condition.unlock()
            do {
                let connection = try PostgresConnection.connect(
                    on: group.next(), configuration: configuration, id: 2, logger: logger
                ).wait()
                condition.lock()
                self.connection = connection
                let stop = stopped
                condition.unlock()
                if stop { break }
                // On the connection's event loop, like `send`: a listener handed to a channel that
                // closed meanwhile would be dropped unanswered.
                try connection.eventLoop.submit { [self] in
                    guard !connection.isClosed else { throw PostgresConnection.closedError }
                    connection.addListener(channel: PostgresStore.notificationChannel) { [self] _, notification in
                        // "seq identity"; a commit of this store is known to it already.
                        let fields = notification.payload.split(separator: " ", maxSplits: 1)
                        guard fields.count < 2 || fields[1] != identity else { return }
                        announce(fields.first.flatMap { Int($0) } ?? .max)
                    }
                    connection.addListener(channel: PostgresStore.lockWantedChannel) { [self] _, notification in
                        // Off the event loop: the store's lock may be held by a thread waiting on it.
                        let asker = notification.payload
                        lockQueue.async { [self] in onLockWanted(asker) }
                    }
                }.wait()
                _ = try connection.send(
                    PostgresQuery(unsafeSQL: "LISTEN \(PostgresStore.notificationChannel)"), logger: logger
                ).wait()
                _ = try connection.send(
                    PostgresQuery(unsafeSQL: "LISTEN \(PostgresStore.lockWantedChannel)"), logger: logger
                ).wait()
                // Whatever was committed while not listening.
                announce(.max)
                try connection.closeFuture.wait()
            } catch {
                logger.debug("listening failed", metadata: ["reason": "\(PostgresStore.reason(error))"])
            }
            condition.lock()
            // Closed before it is let go: postgres-nio requires it (a connection released
            // while its listeners are being cancelled would trap).
            if let connection { PostgresStore.discard(connection) }
            connection = nil
            if !stopped { _ = condition.wait(until: Date(timeIntervalSinceNow: 1)) }
            condition.unlock()
        }
        condition.lock()
        if let connection { PostgresStore.discard(connection) }
        condition.unlock()
    }

    private func announce(_ seq: Int) {
        guard seq > seen.value.load(ordering: .relaxed) else { return }
        condition.lock()
        defer { condition.unlock() }
        guard !scheduled, !stopped else { return }
        scheduled = true
        handlerQueue.async { [self] in
            condition.lock()
            scheduled = false
            condition.unlock()
            handler()
        }
    }
}
