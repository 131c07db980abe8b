public import Foundation
public import TenantServices

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
        _ = Glibc.close(fd)
    #else
        _ = Darwin.close(fd)
    #endif
}

/// Which chunks of a parallel decoding are handed out and done.
private final class ChunkBoard: @unchecked Sendable {
    // Every member is guarded by `condition`.
    private let condition = NSCondition()
    private var done: [Bool]
    private var failures: [Int: StoreError] = [:]
    private var nextChunk = 0
    private var cancelled = false
    private var itemsDone = 0

    init(chunks: Int) { done = Array(repeating: false, count: chunks) }

    /// The next chunk to work on, or nil when none is left.
    func next() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard !cancelled, nextChunk < done.count else { return nil }
        nextChunk += 1
        return nextChunk - 1
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
/// - Opening cuts a torn last operation (a crash in the middle of a write) and refuses any other
///   damage, naming the file and byte offset; nothing is ever dropped silently.
/// - A failed write leaves the files as they were; a failed flush stops the store from accepting
///   writes until it is opened again, since the kernel may have dropped the unflushed data.
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

    private let condition = NSCondition()
    // Guarded by `condition`:
    private var lockFD: Int32 = -1
    private var journalFD: Int32 = -1
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
    private var snapshotFailure: StoreError?
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
    /// - Parameter onLoadProgress: called from any thread while ``load()`` decodes records.
    /// - Throws: ``StoreError`` naming the holder's process ID when another process has the
    ///   directory open for writing, or the reason the directory cannot be used.
    public init(
        directory: URL, mode: Mode = .readWrite, snapshotThreshold: Int64 = 64 << 20,
        onLoadProgress: LoadProgress? = nil
    ) throws {
        self.onLoadProgress = onLoadProgress
        self.directory = directory
        self.mode = mode
        self.snapshotThreshold = snapshotThreshold
        self.nextSnapshotAt = snapshotThreshold
        guard mode == .readWrite else { return }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the store directory \(directory.path): \(Self.reason(error))")
        }
        if let reason = Self.notWritable(directory.path) {
            // Serve what is there so people can still look things up; refuse every change.
            readOnlyReason = StoreError(
                "the store directory \(directory.path) is not writable (\(reason)); changes cannot be saved")
            return
        }
        lockFD = try Self.lock(directory)
        for name in [Self.journalName, Self.snapshotName] { unlink(path(name + ".tmp")) }
    }

    deinit {
        if journalFD >= 0 { closeDescriptor(journalFD) }
        if lockFD >= 0 { closeDescriptor(lockFD) }
    }

    /// Waits for a running snapshot, then closes the files and releases the lock; later writes fail.
    public func close() {
        condition.lock()
        defer { condition.unlock() }
        while snapshotting || flushing { condition.wait() }
        if journalFD >= 0 { closeDescriptor(journalFD) }
        if lockFD >= 0 { closeDescriptor(lockFD) }
        journalFD = -1
        lockFD = -1
        failure = failure ?? StoreError("the store \(directory.path) was closed")
    }

    /// How many times the journal was flushed since the store was opened (one per group commit).
    public var flushCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return flushes
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    // MARK: Lock

    private static func lock(_ directory: URL) throws -> Int32 {
        let path = directory.appendingPathComponent(lockName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot open the lock file \(path): \(errnoText())") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            closeDescriptor(fd)
            guard code == EWOULDBLOCK else {
                throw StoreError("cannot lock \(path): \(String(cString: strerror(code)))")
            }
            let holder = String(decoding: buffer.prefix(max(n, 0)), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw StoreError(
                "the store \(directory.path) is in use by process \(holder.isEmpty ? "(unknown)" : holder) (lock file \(path)); stop that process or use another directory"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    // MARK: Load

    public func load() throws -> [EventRecord] {
        var records: [EventRecord] = []
        try load { records.append($0) }
        return records
    }

    /// Reads the snapshot and the journal, checking every record, and hands the records to
    /// `apply` in order while later ones are still being decoded on the other cores.
    public func load(into apply: (EventRecord) throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        var snapshotSeq = 0
        var lastSeq = 0
        if let data = try read(Self.snapshotName) {
            try Self.decodeSnapshot(data, file: path(Self.snapshotName), progress: onLoadProgress) { record in
                try apply(record)
                snapshotSeq = record.seq
            }
            lastSeq = snapshotSeq
        }
        var journal = try read(Self.journalName)
        if readOnlyReason == nil, mode == .readWrite, journal != nil,
            let reason = Self.notWritable(path(Self.journalName))
        {
            readOnlyReason = StoreError(
                "\(path(Self.journalName)) is not writable (\(reason)); changes cannot be saved")
        }
        if journal == nil, writable { journal = Data(try createJournal()) }
        if let journal {
            let validEnd = try Self.decodeJournal(
                journal, file: path(Self.journalName), after: snapshotSeq, progress: onLoadProgress
            ) { record in
                try apply(record)
                lastSeq = record.seq
            }
            if writable {
                journalFD = open(path(Self.journalName), O_RDWR | O_CLOEXEC)
                guard journalFD >= 0 else {
                    throw StoreError("cannot open \(path(Self.journalName)) for writing: \(Self.errnoText())")
                }
                if validEnd < Int64(journal.count) {
                    // A torn last operation: it was never acknowledged, so cutting it loses nothing.
                    guard ftruncate(journalFD, off_t(validEnd)) == 0, fdatasync(journalFD) == 0 else {
                        throw StoreError(
                            "cannot cut the torn end of \(path(Self.journalName)) at byte \(validEnd): \(Self.errnoText())"
                        )
                    }
                }
                fileEnd = validEnd
            }
        }
        durable = written
        writtenSeq = lastSeq
        durableSeq = writtenSeq
        loaded = true
    }

    private func read(_ name: String) throws -> Data? {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw StoreError("cannot read \(url.path): \(Self.reason(error))")
        }
    }

    /// Creates an empty journal; returns its bytes.
    private func createJournal() throws -> [UInt8] {
        let header = StoreFormat.sealed(StoreFormat.journalHeader)
        closeDescriptor(try replaceFile(Self.journalName, with: header))
        try syncDirectory()
        return header
    }

    /// Writes `bytes` to a temporary file, flushes it and renames it over `name`; returns the open
    /// descriptor of the new file. The rename is durable only after ``syncDirectory()``.
    private func replaceFile(_ name: String, with bytes: [UInt8]) throws -> Int32 {
        let temporary = path(name + ".tmp")
        let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError("cannot create \(temporary): \(Self.errnoText())") }
        do {
            try Self.writeAll(fd, bytes, at: 0, file: temporary)
            guard fsync(fd) == 0 else { throw StoreError("cannot flush \(temporary): \(Self.errnoText())") }
            guard rename(temporary, path(name)) == 0 else {
                throw StoreError("cannot rename \(temporary) to \(name): \(Self.errnoText())")
            }
        } catch {
            closeDescriptor(fd)
            unlink(temporary)
            throw error
        }
        return fd
    }

    private func syncDirectory() throws {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0, fsync(fd) == 0 else {
            let text = Self.errnoText()
            if fd >= 0 { closeDescriptor(fd) }
            throw StoreError("cannot flush the directory \(directory.path): \(text)")
        }
        closeDescriptor(fd)
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
        do {
            try Self.writeAll(journalFD, bytes, at: fileEnd, file: path(Self.journalName))
        } catch {
            // Leave the file exactly as it was; if even that fails, stop writing.
            if ftruncate(journalFD, off_t(fileEnd)) != 0 {
                failure = StoreError(
                    "\(error); the partial write could not be removed (\(Self.errnoText())), so the store accepts no more writes until it is opened again"
                )
            }
            throw error
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
            // Lead a flush of everything written so far; writers arriving meanwhile join the next one.
            flushing = true
            let (target, targetSeq, fd) = (written, writtenSeq, journalFD)
            condition.unlock()
            let ok = fdatasync(fd) == 0
            let text = ok ? "" : Self.errnoText()
            condition.lock()
            flushing = false
            flushes += 1
            if ok {
                durable = max(durable, target)
                durableSeq = max(durableSeq, targetSeq)
            } else {
                failure = StoreError(
                    "cannot flush \(path(Self.journalName)): \(text); the store accepts no more writes until it is opened again"
                )
            }
            condition.broadcast()
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, file: String) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError("cannot write to \(file): \(errnoText()); nothing was written")
            }
            done += n
        }
    }

    // MARK: Snapshots

    public var wantsSnapshot: Bool {
        condition.lock()
        defer { condition.unlock() }
        return writable && loaded && failure == nil && !snapshotting && fileEnd >= nextSnapshotAt
    }

    /// Starts a snapshot of the durable prefix of `history` on a background thread.
    public func compact(history: [EventRecord]) {
        guard let job = beginSnapshot(history: history) else { return }
        Thread.detachNewThread { [self] in
            do { try finishSnapshot(job) } catch { noteSnapshotFailure(error) }
        }
    }

    /// Writes a snapshot of the durable prefix of `history` now and cuts the journal after it.
    public func snapshot(history: [EventRecord]) throws {
        condition.lock()
        while snapshotting { condition.wait() }
        condition.unlock()
        guard let job = beginSnapshot(history: history) else { return }
        do { try finishSnapshot(job) } catch {
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
        guard writable, loaded, failure == nil, !snapshotting else { return nil }
        let lastSeq = durableSeq
        let events = history.prefix { $0.seq <= lastSeq }
        guard events.last?.seq ?? 0 == lastSeq, events.count == lastSeq else { return nil }
        snapshotting = true
        snapshotFailure = nil
        // Try again only after the journal has grown by another threshold.
        nextSnapshotAt = fileEnd + snapshotThreshold
        return SnapshotJob(events: events, lastSeq: lastSeq, cut: durable)
    }

    private func noteSnapshotFailure(_ error: any Error) {
        condition.lock()
        snapshotting = false
        snapshotFailure = (error as? StoreError) ?? StoreError("\(error)")
        condition.broadcast()
        condition.unlock()
    }

    private func finishSnapshot(_ job: SnapshotJob) throws {
        let bytes = try Self.encodeSnapshot(job.events, lastSeq: job.lastSeq)
        closeDescriptor(try replaceFile(Self.snapshotName, with: bytes))
        try syncDirectory()
        // The snapshot is in place; a crash from here on loads it and skips the journal's older records.
        condition.lock()
        defer {
            snapshotting = false
            condition.broadcast()
            condition.unlock()
        }
        while flushing { condition.wait() }
        let cutOffset = job.cut - base
        let tailLength = Int(fileEnd - cutOffset)
        var tail = [UInt8](repeating: 0, count: tailLength)
        let n = tail.withUnsafeMutableBytes { pread(journalFD, $0.baseAddress, tailLength, off_t(cutOffset)) }
        guard n == tailLength else {
            throw StoreError("cannot read \(path(Self.journalName)) to cut it: \(Self.errnoText())")
        }
        let header = StoreFormat.sealed(StoreFormat.journalHeader)
        // Renamed into place: from here on the new file is the journal.
        let newFD = try replaceFile(Self.journalName, with: header + tail)
        closeDescriptor(journalFD)
        journalFD = newFD
        base += cutOffset - Int64(header.count)
        fileEnd = Int64(header.count + tailLength)
        nextSnapshotAt = fileEnd + snapshotThreshold
        do {
            try syncDirectory()
        } catch {
            // The rename may or may not survive a crash: stop writing rather than risk losing writes.
            failure = StoreError("\(error); the store accepts no more writes until it is opened again")
            throw error
        }
        // The new file was flushed whole.
        durable = written
        durableSeq = writtenSeq
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
            "\(file) is damaged at byte \(offset): \(problem). The store was not opened and nothing was changed; restore the file from a backup"
        )
    }

    static func decodeSnapshot(
        _ data: Data, file: String, progress: LoadProgress? = nil, into apply: (EventRecord) throws -> Void
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
            var lines: [Range<Int>] = []
            var start = firstNewline + 1
            while let newline = body[start...].firstIndex(of: 10) {
                var end = newline
                if end > start, body[end - 1] == UInt8(ascii: ",") { end -= 1 }
                lines.append(start..<end)
                start = newline + 1
            }
            guard start == body.count - 1, body[start] == UInt8(ascii: "]") else {
                throw damaged(file, at: start, "the event list does not end with ]")
            }
            guard lines.count == lastSeq else {
                throw damaged(file, at: 0, "the header says \(lastSeq) events, the file holds \(lines.count)")
            }
            nonisolated(unsafe) let events = body
            let ranges = lines
            try inParallel(ranges.count, progress: counting(progress, file: file, total: ranges.count)) {
                try record(
                    UnsafeRawBufferPointer(rebasing: events[ranges[$0]]), file: file, offset: ranges[$0].lowerBound)
            } consume: { i, record in
                guard record.seq == i + 1 else {
                    throw damaged(file, at: lines[i].lowerBound, "event \(i + 1) has seq \(record.seq)")
                }
                try apply(record)
            }
        }
    }

    /// Checks and decodes the journal, handing every record after `snapshotSeq` of every complete
    /// operation to `apply` in order; returns where the last complete operation ends (anything
    /// after it is a torn write).
    static func decodeJournal(
        _ data: Data, file: String, after snapshotSeq: Int, progress: LoadProgress? = nil,
        into apply: (EventRecord) throws -> Void
    ) throws -> Int64 {
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) throws -> Int64 in
            guard let headerEnd = bytes.firstIndex(of: 10),
                let header = StoreFormat.unsealed(UnsafeRawBufferPointer(rebasing: bytes[0..<headerEnd]))
            else { throw damaged(file, at: 0, "its header line is missing or its checksum does not match") }
            guard header.elementsEqual(StoreFormat.journalHeader) else {
                let text = String(decoding: header, as: UTF8.self)
                throw StoreError(
                    "\(file) has the header \(text); this build reads {\"format\":\"tenant-services-journal\",\"version\":\(StoreFormat.version)}"
                )
            }
            // Every complete line; bytes after the last newline are a torn write.
            var lines: [Range<Int>] = []
            var start = headerEnd + 1
            while start < bytes.count,
                let newline = memchr(bytes.baseAddress! + start, 10, bytes.count - start)
            {
                let end = bytes.baseAddress!.distance(to: UnsafeRawPointer(newline))
                lines.append(start..<end)
                start = end + 1
            }
            // A line whose checksum or layout is wrong may only be followed by other such lines
            // (a torn write). Whole operations only: parts 1…n in order; the records of an
            // operation are applied once its last part is read, so a torn last one never is.
            var validEnd = start
            var firstBad: Int?
            var operation: [EventRecord] = []
            var operationStart = 0
            var operationSize = 0
            var previous: Int?
            nonisolated(unsafe) let bytes = bytes
            let ranges = lines
            try inParallel(ranges.count, progress: counting(progress, file: file, total: ranges.count)) {
                n -> (index: Int, count: Int, record: EventRecord)? in
                let line = UnsafeRawBufferPointer(rebasing: bytes[ranges[n]])
                guard let body = StoreFormat.unsealed(line), let part = StoreFormat.parseRecordBody(body) else {
                    return nil
                }
                let offset = ranges[n].lowerBound + line.baseAddress!.distance(to: part.event.baseAddress!)
                return (part.index, part.count, try record(part.event, file: file, offset: offset))
            } consume: { n, entry in
                guard let entry else {
                    if firstBad == nil {
                        firstBad = lines[n].lowerBound
                        validEnd = lines[n].lowerBound
                    }
                    return
                }
                if let firstBad {
                    throw damaged(
                        file, at: firstBad,
                        "the record there is unreadable (its checksum does not match) but complete records follow it at byte \(lines[n].lowerBound), so it is not a torn write"
                    )
                }
                if entry.index == 1 {
                    operationStart = n
                    operationSize = entry.count
                }
                guard entry.index == operation.count + 1, entry.count == operationSize else {
                    throw damaged(
                        file, at: lines[n].lowerBound,
                        "record part \(entry.index) of \(entry.count) does not continue the operation before it")
                }
                operation.append(entry.record)
                guard entry.index == entry.count else { return }
                for record in operation {
                    let expected = (previous ?? (record.seq - 1)) + 1
                    if previous == nil, record.seq > snapshotSeq + 1 {
                        throw damaged(
                            file, at: lines[operationStart].lowerBound,
                            "its first record has seq \(record.seq) but the snapshot ends at \(snapshotSeq): records are missing"
                        )
                    }
                    guard record.seq == expected else {
                        throw damaged(
                            file, at: lines[operationStart].lowerBound, "seq \(record.seq) follows seq \(expected - 1)")
                    }
                    previous = record.seq
                    if record.seq > snapshotSeq { try apply(record) }
                }
                operation.removeAll(keepingCapacity: true)
            }
            if !operation.isEmpty { validEnd = lines[operationStart].lowerBound }
            return Int64(validEnd)
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
    static func inParallel<T: Sendable>(
        _ count: Int, progress: (@Sendable (Int) -> Void)? = nil, _ body: @escaping @Sendable (Int) throws -> T,
        consume: (Int, T) throws -> Void
    ) throws {
        let chunks = max(1, min(512, count / 128))
        let range = { @Sendable (chunk: Int) in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) }
        let results = UnsafeMutableBufferPointer<T?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        let board = ChunkBoard(chunks: chunks)
        let workers = DispatchGroup()
        defer {
            // The workers write into `results`: stop them and wait before it goes.
            board.cancel()
            workers.wait()
            _ = results.deinitialize()
            results.deallocate()
        }
        nonisolated(unsafe) let output = results
        for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
            DispatchQueue.global().async(group: workers) {
                while let chunk = board.next() {
                    var failure: StoreError?
                    for i in range(chunk) {
                        do {
                            output[i] = try body(i)
                        } catch {
                            failure = error as? StoreError ?? StoreError("\(error)")
                            break
                        }
                    }
                    let done = board.finish(chunk, failure: failure, items: range(chunk).count)
                    progress?(done)
                }
            }
        }
        for chunk in 0..<chunks {
            try board.wait(for: chunk)
            for i in range(chunk) { try consume(i, results[i].take()!) }
        }
    }

    // MARK: Errors

    /// Why `path` cannot be written (read-only file system, permission denied), or nil.
    static func notWritable(_ path: String) -> String? {
        guard access(path, W_OK) != 0, [EROFS, EACCES, EPERM].contains(errno) else { return nil }
        return errnoText()
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func reason(_ error: any Error) -> String {
        if let error = error as? CocoaError, let underlying = error.underlying as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        return (error as NSError).localizedDescription
    }
}
