public import Foundation
public import Logging
public import TenantServices

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which chunks of a parallel decoding are handed out and done.
private final class ChunkBoard: @unchecked Sendable {
    // Every member is guarded by `condition`.
    private let condition = NSCondition()
    private var done: [Bool]
    private var failures: [Int: StoreError] = [:]
    private var nextChunk = 0
    private var cancelled = false
    private var itemsDone = 0
    /// How many chunks were consumed, and how far past them chunks are handed out: the results
    /// waiting for the consumer (and the file's pages they came from) stay few even when it
    /// falls behind.
    private var consumed = 0
    private let window: Int

    init(chunks: Int, window: Int = 64) {
        done = Array(repeating: false, count: chunks)
        self.window = window
    }

    /// The next chunk to work on (waiting while too many wait for the consumer), or nil when
    /// none is left.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, nextChunk < done.count, nextChunk >= consumed + window { condition.wait() }
        guard !cancelled, nextChunk < done.count else { return nil }
        nextChunk += 1
        return nextChunk - 1
    }

    /// Notes that the consumer is done with the chunks up to `chunk`.
    func consumed(upTo chunk: Int) {
        condition.lock()
        consumed = chunk + 1
        condition.broadcast()
        condition.unlock()
    }

    /// Marks a chunk done; returns how many items are done in all.
    func finish(_ chunk: Int, failure: StoreError?, items: Int) -> Int {
        condition.lock()
        defer { condition.unlock() }
        done[chunk] = true
        failures[chunk] = failure
        itemsDone += items
        condition.broadcast()
        return itemsDone
    }

    /// Waits until a chunk is done; throws its failure.
    func wait(for chunk: Int) throws {
        condition.lock()
        defer { condition.unlock() }
        while !done[chunk] { condition.wait() }
        if let failure = failures[chunk] { throw failure }
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// A store in a directory: `snapshot.json` (the history up to some event) and `journal.jsonl`
/// (the events after it), both checksummed, plus a `lock` file naming the process that writes.
///
/// - A write is durable when ``waitUntilDurable(_:)`` returns: the journal was flushed with
///   `fdatasync`. Writes that arrive while a flush runs share the next one (group commit).
/// - When the journal grows past the snapshot threshold, a snapshot is written in the background
///   (temporary file, flushed, renamed, directory flushed) and the journal is cut to what follows it.
/// - Opening cuts a torn last operation (a crash in the middle of a write), logging what it cut,
///   and refuses any other damage, naming the file and byte offset.
/// - A failed write leaves the files as they were. A failed flush cuts the journal back to the
///   last durable point (so the writes it reports as failed never come back) and stops the store
///   from accepting writes until it is opened again; nothing after that point is ever reported
///   durable, and no snapshot rewrites the journal.
/// - A failed write whose partial bytes cannot be removed, or a directory that cannot be flushed
///   after a snapshot renamed the new journal into place, stops the store from accepting writes;
///   the writes before it stay whole and are still made durable (a snapshot flushes the writes it
///   copies before the rename, so neither journal leaves one in doubt).
/// - Every file is opened with `O_NOFOLLOW`: a symbolic link in the directory is refused.
/// - Every failed flush, failed snapshot and cut is logged, with the call and error number.
public final class FileStore: Store, @unchecked Sendable {
    /// Whether the store may change its files.
    public enum Mode: Sendable {
        /// Takes the directory's lock; creates the directory and files if missing.
        case readWrite
        /// Reads what is there without locking or changing anything (views, exports).
        case readOnly
    }

    /// The directory of the store.
    public let directory: URL
    /// The mode the store was opened in.
    public let mode: Mode
    /// Journal size, in bytes, past which a snapshot is taken.
    public let snapshotThreshold: Int64

    private let calls: StorageCalls
    private let logger: Logger
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var lockFile: StorageFile?
    private var journalFile: StorageFile?
    private var loaded = false
    /// End of the journal file, in bytes.
    private var fileEnd: Int64 = 0
    /// Positions are logical: file offset + `base`, so they keep growing across journal rewrites.
    private var base: Int64 = 0
    /// Logical end of what was written.
    private var written: Int64 { fileEnd + base }
    private var writtenSeq = 0
    private var durable: Int64 = 0
    private var durableSeq = 0
    private var flushing = false
    private var snapshotting = false
    private var nextSnapshotAt: Int64
    private var failure: StoreError?
    /// Why new writes are refused while what was written before them can still be flushed: a
    /// failed write whose partial bytes could not be removed (past `fileEnd`, a torn write that
    /// opening cuts). Unlike `failure`, it fails no waiter.
    private var refusal: StoreError?
    private var snapshotFailure: StoreError?
    private var snapshotFailuresInARow = 0
    private var flushes = 0

    /// Why a store opened for writing can only be read (its directory or journal is not
    /// writable); every write then fails with this error. Nil when the store is writable.
    public private(set) var readOnlyReason: StoreError?

    private var writable: Bool { mode == .readWrite && readOnlyReason == nil }

    static let journalName = "journal.jsonl"
    static let snapshotName = "snapshot.json"
    static let lockName = "lock"

    /// Reports how far ``load()`` has come: the file being read, records done, records in it.
    public typealias LoadProgress = @Sendable (_ file: String, _ done: Int, _ total: Int) -> Void

    private let onLoadProgress: LoadProgress?

    /// Opens (and in ``Mode/readWrite`` creates and locks) the store in `directory`.
    ///
    /// - Parameters:
    ///   - onLoadProgress: called from any thread while ``load()`` decodes records.
    ///   - logger: where cuts of torn writes, failed flushes and failed snapshots are logged.
    /// - Throws: ``StoreError`` naming the holder's process ID when another process has the
    ///   directory open for writing, or the reason the directory cannot be used.
    public convenience init(
        directory: URL, mode: Mode = .readWrite, snapshotThreshold: Int64 = 64 << 20,
        onLoadProgress: LoadProgress? = nil, logger: Logger = Logger(label: "tenant-services.store")
    ) throws {
        try self.init(
            directory: directory, mode: mode, snapshotThreshold: snapshotThreshold, onLoadProgress: onLoadProgress,
            logger: logger, faults: nil)
    }

    /// Opens the store with storage calls that fail as `faults` decides (fault-injection tests).
    package init(
        directory: URL, mode: Mode = .readWrite, snapshotThreshold: Int64 = 64 << 20,
        onLoadProgress: LoadProgress? = nil, logger: Logger = Logger(label: "tenant-services.store"),
        faults: StorageFaultInjector?
    ) throws {
        self.onLoadProgress = onLoadProgress
        self.directory = directory
        self.mode = mode
        self.snapshotThreshold = snapshotThreshold
        self.nextSnapshotAt = snapshotThreshold
        self.calls = StorageCalls(injector: faults)
        self.logger = logger
        guard mode == .readWrite else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the store directory \(directory.path): \(Self.reason(error))")
        }
        if let reason = Self.notWritable(directory.path) {
            // Serve what is there so people can still look things up; refuse every change.
            readOnlyReason = StoreError(
                "the store directory \(directory.path) is not writable (\(reason)); changes cannot be saved",
                kind: .notWritable)
            return
        }
        lockFile = try Self.lock(directory, calls: calls)
        for name in [Self.journalName, Self.snapshotName] { calls.unlink(path(name + ".tmp"), for: .open) }
    }

    /// A fault injector that kills the process with SIGKILL at the `n`th storage call of snapshots
    /// (counted from 1 over all snapshots of the process): the crash points of a snapshot.
    package static func crashing(atSnapshotCall n: Int) -> StorageFaultInjector {
        let count = Locked(0)
        return { call in
            guard call.activity == .snapshot else { return nil }
            return count.withLock {
                $0 += 1
                return $0 == n ? .crash : nil
            }
        }
    }

    deinit {
        if let journalFile { calls.close(journalFile) }
        if let lockFile { calls.close(lockFile) }
    }

    /// Waits for a running snapshot, flushes the writes not yet durable (their waiters are then
    /// told durable, or failed if the flush fails), then closes the files and releases the lock;
    /// later writes fail.
    public func close() {
        condition.lock()
        defer { condition.unlock() }
        while snapshotting || flushing { condition.wait() }
        if let journalFile, failure == nil, durable < written {
            // They are in the file: answered failed, they would still come back after a restart.
            do {
                try calls.fdatasync(journalFile, for: .flush)
                flushes += 1
                durable = written
                durableSeq = writtenSeq
            } catch {
                failFlush(error, of: journalFile)
            }
            condition.broadcast()
        }
        if let journalFile { calls.close(journalFile) }
        if let lockFile { calls.close(lockFile) }
        journalFile = nil
        lockFile = nil
        failure = failure ?? StoreError("the store \(directory.path) was closed")
    }

    /// How many times the journal was flushed since the store was opened (one per group commit).
    public var flushCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return flushes
    }

    /// How many snapshots in a row have failed (0 after one succeeds).
    public var consecutiveSnapshotFailures: Int {
        condition.lock()
        defer { condition.unlock() }
        return snapshotFailuresInARow
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    // MARK: Lock

    private static func lock(_ directory: URL, calls: StorageCalls) throws -> StorageFile {
        let path = directory.appendingPathComponent(lockName).path
        let file: StorageFile
        do {
            file = try calls.open(path, O_RDWR | O_CREAT, for: .open)
        } catch {
            throw error.storeError("cannot open the lock file \(path)")
        }
        let locked: Bool
        do {
            locked = try calls.lock(file, for: .open)
        } catch {
            calls.close(file)
            throw error.storeError("cannot lock \(path)")
        }
        guard locked else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = (try? buffer.withUnsafeMutableBytes { try calls.read(file, into: $0, at: 0, for: .open) }) ?? 0
            calls.close(file)
            let holder = String(decoding: buffer.prefix(n), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw StoreError(
                "the store \(directory.path) is in use by process \(holder.isEmpty ? "(unknown)" : holder) (lock file \(path)); stop that process or use another directory",
                kind: .locked(pid: Int32(holder)))
        }
        let pid = Array("\(getpid())\n".utf8)
        // Only informative (named to a second writer): a failure here changes nothing else.
        try? calls.truncate(file, to: 0, for: .open)
        try? pid.withUnsafeBytes { try calls.write(file, $0, at: 0, for: .open) }
        return file
    }

    // MARK: Load

    public func load() throws -> [EventRecord] {
        var records: [EventRecord] = []
        try load(expecting: { records.reserveCapacity(records.count + $0) }, into: { records.append($0) })
        return records
    }

    /// Reads the snapshot and the journal, checking every record, and hands the records to
    /// `apply` in order while later ones are still being decoded on the other cores.
    public func load(into apply: (EventRecord) throws -> Void) throws {
        try load(expecting: { _ in }, into: apply)
    }

    /// Like ``load(into:)``; before the records of each file, tells `expect` how many there are at
    /// most (the lines of the file).
    public func load(expecting expect: (Int) -> Void, into apply: (EventRecord) throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        let files = try readFiles()
        var (journal, snapshot) = (files.journal?.data, files.snapshot?.data)
        var snapshotSeq = 0
        var lastSeq = 0
        if let snapshot {
            try Self.decodeSnapshot(
                snapshot, file: path(Self.snapshotName), progress: onLoadProgress,
                releasingPages: files.snapshot?.mapped ?? false, expecting: expect
            ) { record in
                try apply(record)
                snapshotSeq = record.seq
            }
            lastSeq = snapshotSeq
        }
        if readOnlyReason == nil, mode == .readWrite, journal != nil,
            let reason = Self.notWritable(path(Self.journalName))
        {
            readOnlyReason = StoreError(
                "\(path(Self.journalName)) is not writable (\(reason)); changes cannot be saved", kind: .notWritable)
        }
        if journal == nil, writable { journal = Data(try createJournal()) }
        if let journal {
            let file = path(Self.journalName)
            let end = try Self.decodeJournal(
                journal, file: file, after: snapshotSeq, progress: onLoadProgress,
                releasingPages: files.journal?.mapped ?? false, expecting: expect
            ) { record in
                try apply(record)
                lastSeq = record.seq
            }
            if end.validEnd < Int64(journal.count) {
                var metadata: Logger.Metadata = [
                    "file": "\(file)", "offset": "\(end.validEnd)", "bytes": "\(Int64(journal.count) - end.validEnd)",
                    "seqs": "\(end.tornSeqs.map { "\($0.lowerBound)-\($0.upperBound)" } ?? "none readable")",
                ]
                if !writable {
                    metadata["cut"] = "no (read-only)"
                    logger.notice("ignoring a torn write at the end of the journal", metadata: metadata)
                } else {
                    // A torn last operation: it was never acknowledged, so cutting it loses nothing.
                    logger.warning("cutting a torn write at the end of the journal", metadata: metadata)
                }
            }
            if writable {
                let journalFile = try openJournalForWriting()
                self.journalFile = journalFile
                if end.validEnd < Int64(journal.count) {
                    do {
                        try calls.truncate(journalFile, to: end.validEnd, for: .load)
                        try calls.fdatasync(journalFile, for: .load)
                    } catch {
                        throw error.storeError("cannot cut the torn end of \(file) at byte \(end.validEnd)")
                    }
                }
                fileEnd = end.validEnd
            }
        }
        durable = written
        writtenSeq = lastSeq
        durableSeq = writtenSeq
        loaded = true
    }

    private func openJournalForWriting() throws -> StorageFile {
        do {
            return try calls.open(path(Self.journalName), O_RDWR, for: .load)
        } catch {
            throw error.storeError("cannot open \(path(Self.journalName)) for writing")
        }
    }

    /// The journal and the snapshot, each nil when missing.
    ///
    /// The journal is opened first: a server snapshotting meanwhile renames the new snapshot into
    /// place before the new journal, so a journal opened earlier always continues a snapshot
    /// opened later (it may repeat some of its records, which are skipped). The other order could
    /// pair an old snapshot with a newer journal and report healthy files as damaged.
    private func readFiles() throws -> (journal: FileBytes?, snapshot: FileBytes?) {
        let journal = try read(Self.journalName)
        return (journal, try read(Self.snapshotName))
    }

    /// A file's bytes, and whether they are a mapping of it (whose pages can be given back once read).
    struct FileBytes {
        var data: Data
        var mapped: Bool
    }

    /// The whole of a file of the store, or nil when it does not exist. Without the lock it is
    /// read with `pread`, never mapped: a writer cutting the file meanwhile (a server starting and
    /// cutting a torn write) would turn a mapping into SIGBUS; a read just comes back shorter.
    private func read(_ name: String) throws -> FileBytes? {
        let path = self.path(name)
        let file: StorageFile
        do {
            file = try calls.open(path, O_RDONLY, for: .load)
        } catch {
            if error.errno.rawValue == ENOENT { return nil }
            throw error.storeError("cannot read \(path)")
        }
        defer { calls.close(file) }
        do {
            let size = try calls.size(file, for: .load)
            if lockFile != nil, size > 0, let mapped = calls.map(file, size: Int(size)) {
                // Nobody else writes while we hold the lock: a mapping is safe, and spares a copy.
                return FileBytes(data: mapped, mapped: true)
            }
            var data = Data(count: Int(size))
            let n = try data.withUnsafeMutableBytes { try calls.read(file, into: $0, at: 0, for: .load) }
            // A file cut meanwhile (a server starting and cutting a torn write) reads shorter.
            if n < data.count { data.count = n }
            return FileBytes(data: data, mapped: false)
        } catch let error as StorageCallError {
            throw error.storeError("cannot read \(path)")
        }
    }

    /// Creates an empty journal; returns its bytes.
    private func createJournal() throws -> [UInt8] {
        let header = StoreFormat.sealed(StoreFormat.journalHeader)
        calls.close(try replaceFile(Self.journalName, with: header, for: .load))
        try syncDirectory(for: .load)
        return header
    }

    /// Writes `bytes` to a temporary file, flushes it and renames it over `name`; returns the open
    /// file. The rename is durable only after ``syncDirectory(for:)``.
    private func replaceFile(_ name: String, with bytes: [UInt8], for activity: StorageActivity) throws
        -> StorageFile
    {
        let temporary = path(name + ".tmp")
        let file: StorageFile
        do {
            file = try calls.open(temporary, O_RDWR | O_CREAT | O_TRUNC, for: activity)
        } catch {
            throw error.storeError("cannot create \(temporary)")
        }
        do {
            try bytes.withUnsafeBytes { try calls.write(file, $0, at: 0, for: activity) }
            try calls.fsync(file, for: activity)
            try calls.rename(temporary, to: path(name), for: activity)
        } catch {
            calls.close(file)
            calls.unlink(temporary, for: activity)
            let error = error as? StorageCallError ?? StorageCallError(operation: .pwrite, errno: .ioError, path: "")
            switch error.operation {
            case .rename: throw error.storeError("cannot rename \(temporary) to \(name)")
            case .fsync: throw error.storeError("cannot flush \(temporary)")
            default: throw error.storeError("cannot write to \(temporary)")
            }
        }
        return file
    }

    private func syncDirectory(for activity: StorageActivity) throws {
        do {
            let file = try calls.open(directory.path, O_RDONLY | O_DIRECTORY, followingLinks: true, for: activity)
            defer { calls.close(file) }
            try calls.fsync(file, for: activity)
        } catch {
            throw error.storeError("cannot flush the directory \(directory.path)")
        }
    }

    // MARK: Write

    public func write(_ records: [EventRecord]) throws -> StorePosition {
        var bytes: [UInt8] = []
        do {
            for (i, record) in records.enumerated() {
                bytes += try StoreFormat.journalLine(record, index: i + 1, count: records.count)
            }
        } catch {
            throw StoreError("cannot encode the records: \(error)")
        }
        condition.lock()
        defer { condition.unlock() }
        guard mode == .readWrite else { throw StoreError("the store \(directory.path) was opened read-only") }
        if let readOnlyReason { throw readOnlyReason }
        guard loaded else { throw StoreError("the store \(directory.path) must be loaded before it is written") }
        if let failure { throw failure }
        if let refusal { throw refusal }
        guard let journalFile else { throw StoreError("the store \(directory.path) was closed") }
        do {
            try bytes.withUnsafeBytes { try calls.write(journalFile, $0, at: fileEnd, for: .write) }
        } catch {
            let error = error as? StorageCallError ?? StorageCallError(operation: .pwrite, errno: .ioError, path: "")
            // Leave the file exactly as it was; if even that fails, stop writing.
            do {
                try calls.truncate(journalFile, to: fileEnd, for: .write)
            } catch let cut {
                // The writes before it are whole and may still be flushed (their waiters must not
                // be told they failed: they would come back after a restart); the partial bytes
                // after them are a torn write, which opening the store cuts.
                let refusal = error.storeError(
                    "cannot write to \(journalFile.path)",
                    "; the partial write could not be removed (\(cut.operation): \(cut.errno)), so the store accepts no more writes until it is opened again"
                )
                self.refusal = refusal
                logger.error(
                    "journal write failed and its partial write could not be removed; refusing further writes",
                    metadata: Self.metadata(error, ["cutErrno": "\(cut.errno.rawValue)"]))
                throw refusal
            }
            logger.warning("journal write failed; nothing was written", metadata: Self.metadata(error))
            throw error.storeError("cannot write to \(journalFile.path)", "; nothing was written")
        }
        fileEnd += Int64(bytes.count)
        writtenSeq = records.last?.seq ?? writtenSeq
        return StorePosition(written)
    }

    public func waitUntilDurable(_ position: StorePosition) throws {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if durable >= position.rawValue { return }
            if let failure { throw failure }
            if flushing {
                condition.wait()
                continue
            }
            guard let file = journalFile else { throw StoreError("the store \(directory.path) was closed") }
            // Lead a flush of everything written so far; writers arriving meanwhile join the next one.
            flushing = true
            let (target, targetSeq) = (written, writtenSeq)
            condition.unlock()
            var flushError: StorageCallError?
            do { try calls.fdatasync(file, for: .flush) } catch { flushError = error }
            condition.lock()
            flushing = false
            flushes += 1
            if let flushError {
                failFlush(flushError, of: file)
            } else {
                durable = max(durable, target)
                durableSeq = max(durableSeq, targetSeq)
            }
            condition.broadcast()
        }
    }

    /// After a failed flush (with `condition` held): cuts the journal back to the durable point,
    /// so that what was not made durable cannot come back after a restart (the kernel may keep
    /// it in the page cache and write it later), and stops accepting writes.
    private func failFlush(_ error: StorageCallError, of file: StorageFile) {
        let cutAt = durable - base
        let metadata = Self.metadata(
            error,
            [
                "durableOffset": "\(cutAt)", "bytes": "\(fileEnd - cutAt)",
                "seqs": "\(durableSeq + 1)-\(writtenSeq)",
            ])
        do {
            try calls.truncate(file, to: cutAt, for: .flush)
            try calls.fdatasync(file, for: .flush)
        } catch let cut {
            failure = StoreError(
                "cannot flush \(file.path): \(error.errno); removing the changes that were not made durable failed too (\(cut.operation): \(cut.errno)), so they may or may not be there after a restart; the store accepts no more writes until it is opened again",
                kind: .io(operation: error.operation, errno: error.errno), outcomeUnknown: true)
            logger.critical(
                "journal flush failed and the writes not made durable could not be removed; refusing further writes",
                metadata: metadata.merging(["cutOperation": "\(cut.operation)", "cutErrno": "\(cut.errno.rawValue)"]) {
                    $1
                })
            return
        }
        fileEnd = cutAt
        writtenSeq = durableSeq
        failure = error.storeError(
            "cannot flush \(file.path)",
            "; the changes not yet durable were removed from the journal, and the store accepts no more writes until it is opened again"
        )
        logger.error(
            "journal flush failed; the writes not made durable were removed, refusing further writes",
            metadata: metadata)
    }

    static func metadata(_ error: StorageCallError, _ extra: Logger.Metadata = [:]) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "file": "\(error.path)", "operation": "\(error.operation)", "errno": "\(error.errno.rawValue)",
            "error": "\(error.errno)",
        ]
        metadata.merge(extra) { $1 }
        return metadata
    }

    // MARK: Snapshots

    public var wantsSnapshot: Bool {
        condition.lock()
        defer { condition.unlock() }
        return writable && loaded && failure == nil && refusal == nil && !snapshotting && fileEnd >= nextSnapshotAt
    }

    /// Starts a snapshot of the durable prefix of `history` on a background thread.
    public func compact(history: [EventRecord]) {
        guard let job = beginSnapshot(history: history) else { return }
        Thread.detachNewThread { [self] in
            do {
                try finishSnapshot(job)
                noteSnapshotEnded()
            } catch { noteSnapshotFailure(error) }
        }
    }

    /// Writes a snapshot of the durable prefix of `history` now and cuts the journal after it.
    public func snapshot(history: [EventRecord]) throws {
        condition.lock()
        while snapshotting { condition.wait() }
        condition.unlock()
        guard let job = beginSnapshot(history: history) else { return }
        do {
            try finishSnapshot(job)
            noteSnapshotEnded()
        } catch {
            noteSnapshotFailure(error)
            throw error
        }
    }

    /// Waits for a snapshot running in the background; returns its failure, if it failed.
    @discardableResult
    public func waitForSnapshot() -> StoreError? {
        condition.lock()
        defer { condition.unlock() }
        while snapshotting { condition.wait() }
        return snapshotFailure
    }

    private struct SnapshotJob {
        var events: ArraySlice<EventRecord>
        var lastSeq: Int
        var cut: Int64
    }

    private func beginSnapshot(history: [EventRecord]) -> SnapshotJob? {
        condition.lock()
        defer { condition.unlock() }
        guard writable, loaded, failure == nil, refusal == nil, !snapshotting else { return nil }
        let lastSeq = durableSeq
        let events = history.prefix { $0.seq <= lastSeq }
        guard events.last?.seq ?? 0 == lastSeq, events.count == lastSeq else { return nil }
        snapshotting = true
        snapshotFailure = nil
        // Try again only after the journal has grown by another threshold.
        nextSnapshotAt = fileEnd + snapshotThreshold
        return SnapshotJob(events: events, lastSeq: lastSeq, cut: durable)
    }

    private func noteSnapshotEnded() {
        condition.lock()
        defer { condition.unlock() }
        snapshotting = false
        condition.broadcast()
    }

    private func noteSnapshotFailure(_ error: any Error) {
        condition.lock()
        snapshotting = false
        let failure = (error as? StoreError) ?? StoreError("\(error)")
        snapshotFailure = failure
        snapshotFailuresInARow += 1
        var metadata: Logger.Metadata = [
            "error": "\(failure.message)", "consecutiveFailures": "\(snapshotFailuresInARow)",
        ]
        if case .io(let operation, let errno) = failure.kind {
            metadata["operation"] = "\(operation)"
            metadata["errno"] = "\(errno.rawValue)"
        }
        logger.error("snapshot failed; the journal keeps growing until one succeeds", metadata: metadata)
        condition.broadcast()
        condition.unlock()
    }

    private func finishSnapshot(_ job: SnapshotJob) throws {
        let bytes = try Self.encodeSnapshot(job.events, lastSeq: job.lastSeq)
        calls.close(try replaceFile(Self.snapshotName, with: bytes, for: .snapshot))
        try syncDirectory(for: .snapshot)
        // The snapshot is in place; a crash from here on loads it and skips the journal's older records.
        // The snapshot ends (`snapshotting` false) only with its outcome recorded, in
        // noteSnapshotEnded or noteSnapshotFailure: a waiter must never see it ended and not failed.
        condition.lock()
        defer { condition.unlock() }
        while flushing { condition.wait() }
        if let failure {
            // A flush failed meanwhile: what follows the durable point was cut or is in doubt, and
            // must never be copied into a new journal and reported durable.
            throw StoreError(
                "the snapshot was written but the journal was not rewritten, since a flush failed: \(failure.message)",
                kind: failure.kind)
        }
        guard let journalFile else { throw StoreError("the store \(directory.path) was closed") }
        if durable < written {
            // Flush the writes the new journal will copy first: until the directory is flushed
            // after the rename, either journal may be the one found after a crash, so both must
            // hold them durably (else a failed directory flush would leave them in doubt).
            do {
                try calls.fdatasync(journalFile, for: .snapshot)
            } catch {
                failFlush(error, of: journalFile)
                condition.broadcast()
                throw error.storeError(
                    "cannot flush \(journalFile.path) before rewriting it", "; the journal was not rewritten")
            }
            flushes += 1
            durable = written
            durableSeq = writtenSeq
            condition.broadcast()
        }
        let cutOffset = job.cut - base
        let tailLength = Int(fileEnd - cutOffset)
        var tail = [UInt8](repeating: 0, count: tailLength)
        do {
            let n = try tail.withUnsafeMutableBytes {
                try calls.read(journalFile, into: $0, at: cutOffset, for: .snapshot)
            }
            guard n == tailLength else {
                throw StorageCallError(operation: .pread, errno: .ioError, path: journalFile.path)
            }
        } catch let error as StorageCallError {
            throw error.storeError("cannot read \(journalFile.path) to cut it")
        }
        let header = StoreFormat.sealed(StoreFormat.journalHeader)
        // Renamed into place: from here on the new file is the journal.
        let newFile = try replaceFile(Self.journalName, with: header + tail, for: .snapshot)
        calls.close(journalFile)
        self.journalFile = newFile
        base += cutOffset - Int64(header.count)
        fileEnd = Int64(header.count + tailLength)
        nextSnapshotAt = fileEnd + snapshotThreshold
        do {
            try syncDirectory(for: .snapshot)
        } catch {
            // The rename may or may not survive a crash. Both journals hold every write so far
            // durably, so none is in doubt; but a later write to the new one would be lost with
            // the rename, so the store takes no more writes.
            let error = error as? StoreError ?? StoreError("\(error)")
            refusal = StoreError(
                "\(error.message) after renaming the rewritten journal into place, so the store accepts no more writes until it is opened again",
                kind: error.kind)
            logger.error(
                "directory flush after a journal rewrite failed; refusing further writes",
                metadata: ["error": "\(error.message)", "file": "\(path(Self.journalName))"])
            throw error
        }
        snapshotFailuresInARow = 0
        logger.debug(
            "snapshot written",
            metadata: ["lastSeq": "\(job.lastSeq)", "bytes": "\(bytes.count)", "tail": "\(tailLength)"])
    }

    static func encodeSnapshot(_ events: ArraySlice<EventRecord>, lastSeq: Int) throws -> [UInt8] {
        var body = StoreFormat.snapshotHeaderPrefix
        body += Array("\(StoreFormat.version),\"lastSeq\":\(lastSeq),\"events\":[\n".utf8)
        for (i, event) in events.enumerated() {
            body += try RecordWriter.json(event)
            body += Array((i == events.count - 1 ? "\n" : ",\n").utf8)
        }
        body.append(UInt8(ascii: "]"))
        return StoreFormat.sealed(body)
    }

    // MARK: Decoding

    static func damaged(_ file: String, at offset: Int, _ problem: String) -> StoreError {
        StoreError(
            "\(file) is damaged at byte \(offset): \(problem). The store was not opened and nothing was changed; restore the file from a backup",
            kind: .damaged(file: file, offset: offset))
    }

    static func decodeSnapshot(
        _ data: Data, file: String, progress: LoadProgress? = nil, releasingPages: Bool = false,
        expecting expect: (Int) -> Void = { _ in }, into apply: (EventRecord) throws -> Void
    ) throws {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws in
            guard bytes.count > 0, bytes[bytes.count - 1] == UInt8(ascii: "\n"),
                let body = StoreFormat.unsealed(UnsafeRawBufferPointer(rebasing: bytes[0..<bytes.count - 1]))
            else {
                throw damaged(file, at: 0, "its checksum does not match its content (or it is incomplete)")
            }
            guard body.starts(with: StoreFormat.snapshotHeaderPrefix), let firstNewline = body.firstIndex(of: 10) else {
                throw damaged(file, at: 0, "it does not start with a tenant-services-snapshot header")
            }
            let header = String(decoding: UnsafeRawBufferPointer(rebasing: body[0..<firstNewline]), as: UTF8.self)
            let pattern = #/^\{"format":"tenant-services-snapshot","version":(\d+),"lastSeq":(\d+),"events":\[$/#
            guard let match = header.wholeMatch(of: pattern), let version = Int(match.1), let lastSeq = Int(match.2)
            else { throw damaged(file, at: 0, "its header is not readable") }
            guard version == StoreFormat.version else {
                throw StoreError(
                    "\(file) has format version \(version); this build reads version \(StoreFormat.version). Use a matching build of tenant-services"
                )
            }
            // One event a line, each but the last followed by a comma.
            let (found, start) = completeLines(body, from: firstNewline + 1)
            let lines = found.map { line in
                line.count > 0 && body[line.upperBound - 1] == UInt8(ascii: ",")
                    ? line.lowerBound..<line.upperBound - 1 : line
            }
            guard start == body.count - 1, body[start] == UInt8(ascii: "]") else {
                throw damaged(file, at: start, "the event list does not end with ]")
            }
            guard lines.count == lastSeq else {
                throw damaged(file, at: 0, "the header says \(lastSeq) events, the file holds \(lines.count)")
            }
            nonisolated(unsafe) let events = body
            let ranges = lines
            var pages = releasingPages ? PageRelease(bytes) : nil
            expect(ranges.count)
            try inParallel(ranges.count, progress: counting(progress, file: file, total: ranges.count)) {
                try record(
                    UnsafeRawBufferPointer(rebasing: events[ranges[$0]]), file: file, offset: ranges[$0].lowerBound)
            } consume: { i, record in
                guard record.seq == i + 1 else {
                    throw damaged(file, at: lines[i].lowerBound, "event \(i + 1) has seq \(record.seq)")
                }
                pages?.release(upTo: events.baseAddress! + lines[i].lowerBound)
                try apply(record)
            }
        }
    }

    /// Where the complete operations of a journal end, and what follows them.
    struct JournalEnd {
        /// The byte offset after the last complete operation; anything after it is a torn write.
        var validEnd: Int64
        /// The seqs of the records of a torn operation whose parts were readable.
        var tornSeqs: ClosedRange<Int>?
    }

    /// Checks and decodes the journal, handing every record after `snapshotSeq` of every complete
    /// operation to `apply` in order; returns where the last complete operation ends (anything
    /// after it is a torn write).
    static func decodeJournal(
        _ data: Data, file: String, after snapshotSeq: Int, progress: LoadProgress? = nil,
        releasingPages: Bool = false, expecting expect: (Int) -> Void = { _ in },
        into apply: (EventRecord) throws -> Void
    ) throws -> JournalEnd {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> JournalEnd in
            let headerEnd = try journalHeaderEnd(bytes, file: file)
            let (lines, linesEnd) = completeLines(bytes, from: headerEnd + 1)
            var operations = JournalOperations(file: file, after: snapshotSeq, linesEnd: linesEnd)
            nonisolated(unsafe) let bytes = bytes
            var pages = releasingPages ? PageRelease(bytes) : nil
            expect(lines.count)
            try inParallel(lines.count, progress: counting(progress, file: file, total: lines.count)) {
                try journalPart(
                    UnsafeRawBufferPointer(rebasing: bytes[lines[$0]]), file: file, at: lines[$0].lowerBound)
            } consume: { n, part in
                try operations.take(part, at: lines[n].lowerBound, into: apply)
                pages?.release(upTo: bytes.baseAddress! + lines[n].lowerBound)
            }
            return operations.end
        }
    }

    /// Checks the journal's sealed header line; returns the offset of its newline.
    static func journalHeaderEnd(_ bytes: UnsafeRawBufferPointer, file: String) throws -> Int {
        guard let headerEnd = bytes.firstIndex(of: 10),
            let header = StoreFormat.unsealed(UnsafeRawBufferPointer(rebasing: bytes[0..<headerEnd]))
        else { throw damaged(file, at: 0, "its header line is missing or its checksum does not match") }
        guard header.elementsEqual(StoreFormat.journalHeader) else {
            let text = String(decoding: header, as: UTF8.self)
            throw StoreError(
                "\(file) has the header \(text); this build reads {\"format\":\"tenant-services-journal\",\"version\":\(StoreFormat.version)}"
            )
        }
        return headerEnd
    }

    /// Every complete line from `start` on (without its newline), and the offset after the last
    /// one: bytes after the last newline are a torn write.
    ///
    /// A large file is split at newlines into parts that are searched on every core at once.
    static func completeLines(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (lines: [Range<Int>], end: Int) {
        let parts = bytes.count - start >= 4 << 20 ? ProcessInfo.processInfo.activeProcessorCount : 1
        guard parts > 1 else { return completeLines(bytes, from: start, to: bytes.count) }
        // Part k runs from the first line that starts at or after its share of the bytes.
        var bounds = [start]
        for k in 1..<parts {
            let share = max(bounds[k - 1], start + (bytes.count - start) / parts * k)
            let newline = share < bytes.count ? memchr(bytes.baseAddress! + share, 10, bytes.count - share) : nil
            bounds.append(newline.map { bytes.baseAddress!.distance(to: UnsafeRawPointer($0)) + 1 } ?? bytes.count)
        }
        bounds.append(bytes.count)
        nonisolated(unsafe) let found = UnsafeMutableBufferPointer<(lines: [Range<Int>], end: Int)>.allocate(
            capacity: parts)
        defer { found.deallocate() }
        let limits = bounds
        nonisolated(unsafe) let all = bytes
        DispatchQueue.concurrentPerform(iterations: parts) { k in
            (found.baseAddress! + k).initialize(to: completeLines(all, from: limits[k], to: limits[k + 1]))
        }
        defer { found.baseAddress!.deinitialize(count: parts) }
        // Each part ends just after a newline, except the one that holds the end of the bytes
        // (the parts after it are empty): there a torn write may follow its last line.
        var lines: [Range<Int>] = []
        lines.reserveCapacity(found.reduce(0) { $0 + $1.lines.count })
        for part in found { lines += part.lines }
        let torn = (0..<parts).first { found[$0].end < limits[$0 + 1] }
        return (lines, torn.map { found[$0].end } ?? bytes.count)
    }

    /// The complete lines from `start` to `limit` (at a line start or the end of the bytes).
    static func completeLines(_ bytes: UnsafeRawBufferPointer, from start: Int, to limit: Int) -> (
        lines: [Range<Int>], end: Int
    ) {
        var lines: [Range<Int>] = []
        var start = start
        while start < limit,
            let newline = memchr(bytes.baseAddress! + start, 10, limit - start)
        {
            let end = bytes.baseAddress!.distance(to: UnsafeRawPointer(newline))
            lines.append(start..<end)
            start = end + 1
        }
        return (lines, start)
    }

    /// The record part a journal line starting at byte `lineStart` holds, or nil when its
    /// checksum or layout is wrong; a line that is sound but holds no valid event is damage.
    static func journalPart(_ line: UnsafeRawBufferPointer, file: String, at lineStart: Int) throws -> JournalPart? {
        guard let body = StoreFormat.unsealed(line), let part = StoreFormat.parseRecordBody(body) else { return nil }
        let offset = lineStart + line.baseAddress!.distance(to: part.event.baseAddress!)
        return JournalPart(
            index: part.index, count: part.count, record: try record(part.event, file: file, offset: offset))
    }

    /// Gives the pages of a mapped file back to the system once they were decoded, in steps of
    /// a few MiB, so that loading does not keep the whole file resident beside the state it builds
    /// (the pages are read again from the file should anything touch them later).
    struct PageRelease {
        static let step = 8 << 20
        static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        private var released: UnsafeRawPointer

        init(_ mapping: UnsafeRawBufferPointer) { released = mapping.baseAddress! }

        /// Releases the whole pages before `address` (everything before it was decoded).
        mutating func release(upTo address: UnsafeRawPointer) {
            guard released.distance(to: address) >= Self.step else { return }
            let end = UnsafeRawPointer(bitPattern: UInt(bitPattern: address) & ~UInt(Self.pageSize - 1))!
            madvise(UnsafeMutableRawPointer(mutating: released), released.distance(to: end), MADV_DONTNEED)
            released = end
        }
    }

    /// A progress report of records done in `file`, or nil.
    static func counting(_ progress: LoadProgress?, file: String, total: Int) -> (@Sendable (Int) -> Void)? {
        guard let progress else { return nil }
        return { done in progress(file, done, total) }
    }

    /// One event: the fast reader, else `JSONDecoder` (which names what is wrong).
    static func record(_ bytes: UnsafeRawBufferPointer, file: String, offset: Int) throws -> EventRecord {
        if let record = try? RecordReader.record(bytes) { return record }
        do {
            return try JSONDecoder().decode(EventRecord.self, from: Data(bytes))
        } catch {
            throw damaged(file, at: offset, "the record there is not a valid event: \(error)")
        }
    }

    /// Computes `body(i)` for every `i` in `0..<count` on every core, and hands the results to
    /// `consume` in order on the calling thread while later ones are still being computed. The
    /// first error in that order is thrown (by `body` or `consume`).
    ///
    /// The work goes in chunks, each with a buffer of its own results that is freed once they were
    /// consumed: only the results between the consumer and the workers are held at any time.
    static func inParallel<T: Sendable>(
        _ count: Int, progress: (@Sendable (Int) -> Void)? = nil, _ body: @escaping @Sendable (Int) throws -> T,
        consume: (Int, T) throws -> Void
    ) throws {
        let chunks = max(1, min(512, count / 128))
        let range = { @Sendable (chunk: Int) in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) }
        // Chunk n's results (nil from a failure on), written by its worker before it tells the
        // board the chunk is done, and taken by the consumer once it is.
        typealias Results = UnsafeMutableBufferPointer<T?>
        let buffers = UnsafeMutableBufferPointer<Results?>.allocate(capacity: chunks)
        buffers.initialize(repeating: nil)
        let board = ChunkBoard(chunks: chunks)
        let workers = DispatchGroup()
        func free(_ results: Results) {
            _ = results.deinitialize()
            results.deallocate()
        }
        defer {
            // The workers write into `buffers`: stop them and wait before it goes.
            board.cancel()
            workers.wait()
            for chunk in 0..<chunks {
                if let results = buffers[chunk] { free(results) }
            }
            _ = buffers.deinitialize()
            buffers.deallocate()
        }
        nonisolated(unsafe) let output = buffers
        for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
            DispatchQueue.global().async(group: workers) {
                while let chunk = board.next() {
                    var failure: StoreError?
                    let items = range(chunk)
                    let results = Results.allocate(capacity: items.count)
                    results.initialize(repeating: nil)
                    for i in items {
                        do {
                            results[i - items.lowerBound] = try body(i)
                        } catch {
                            failure = error as? StoreError ?? StoreError("\(error)")
                            break
                        }
                    }
                    output[chunk] = results
                    let done = board.finish(chunk, failure: failure, items: items.count)
                    progress?(done)
                }
            }
        }
        for chunk in 0..<chunks {
            try board.wait(for: chunk)
            let results = buffers[chunk]!
            buffers[chunk] = nil
            defer { free(results) }
            let first = range(chunk).lowerBound
            for k in results.indices { try consume(first + k, results[k].take()!) }
            board.consumed(upTo: chunk)
        }
    }

    // MARK: Errors

    /// Why `path` cannot be written (read-only file system, permission denied), or nil.
    static func notWritable(_ path: String) -> String? {
        guard access(path, W_OK) != 0, [EROFS, EACCES, EPERM].contains(errno) else { return nil }
        return Errno.current.description
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? CocoaError, let underlying = error.underlying as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        return (error as NSError).localizedDescription
    }
}
