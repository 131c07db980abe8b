import TenantServices

/// One record of a journal line: its place among the records of its operation.
struct JournalPart: Sendable {
    /// The part's number, from 1.
    var index: Int
    /// How many parts the operation has.
    var count: Int
    var record: EventRecord
}

/// Reassembles a journal's lines, taken in order, into whole operations (parts 1…n) and hands
/// on the records of each complete one; what follows the last complete operation is a torn write.
///
/// A line whose checksum or layout is wrong may only be followed by other such lines, or by later
/// parts of the same operation (a torn write: a power loss may keep a later page of a write and
/// lose an earlier one). The records of an operation are handed on once its last part is read,
/// and only if every part was readable, so a torn last operation never is.
struct JournalOperations {
    let file: String
    /// The last seq the snapshot holds: older records are checked, not handed on.
    let snapshotSeq: Int
    /// Where the readable journal ends, so far.
    private var validEnd: Int
    /// Where the first unreadable line starts, and its number (from 0).
    private var firstBad: Int?
    private var firstBadLine = 0
    /// The number of the line being taken (from 0), and of the first line of the operation being read.
    private var line = -1
    private var operationStartLine = 0
    /// The torn operation the unreadable lines belong to, once a readable part after them named
    /// it: where it starts, how many parts it has, and the last readable part's number.
    private var torn: (offset: Int, count: Int, lastIndex: Int)?
    /// The records read so far of the operation being read.
    private var operation: [EventRecord] = []
    /// Where the operation being read starts, and how many parts it has.
    private var operationStart = 0
    private var operationSize = 0
    /// The seq of the last record handed on or checked.
    private var previous: Int?

    /// - Parameter linesEnd: the offset after the journal's last complete line.
    init(file: String, after snapshotSeq: Int, linesEnd: Int) {
        self.file = file
        self.snapshotSeq = snapshotSeq
        self.validEnd = linesEnd
    }

    /// Takes the next line's part (nil if unreadable), which starts at byte `offset`.
    mutating func take(_ part: JournalPart?, at offset: Int, into apply: (EventRecord) throws -> Void) throws {
        line += 1
        guard let part else {
            if firstBad == nil {
                firstBad = offset
                firstBadLine = line
                validEnd = operation.isEmpty ? offset : operationStart
            }
            return
        }
        if let firstBad {
            try takeAfterUnreadable(part, at: offset, firstBad: firstBad)
            return
        }
        if part.index == 1 {
            operationStart = offset
            operationStartLine = line
            operationSize = part.count
        }
        if part.count == 1, operation.isEmpty {
            // An operation of one record (the usual case): handed on without collecting it.
            try hand(part.record, into: apply)
            return
        }
        guard part.index == operation.count + 1, part.count == operationSize else {
            throw FileStore.damaged(
                file, at: offset,
                "record part \(part.index) of \(part.count) does not continue the operation before it")
        }
        operation.append(part.record)
        guard part.index == part.count else { return }
        try completeOperation(into: apply)
    }

    /// Takes a readable part after an unreadable line: only a later part of the operation the
    /// unreadable line belongs to (which then is a torn write, cut whole) may follow it. A lost
    /// page may join lines (its newlines are gone too), never split them: a part lies at most
    /// its number of parts after its operation's first line.
    private mutating func takeAfterUnreadable(_ part: JournalPart, at offset: Int, firstBad: Int) throws {
        let (start, startOffset) =
            operation.isEmpty ? (firstBadLine, firstBad) : (operationStartLine, operationStart)
        let count = torn?.count ?? (operation.isEmpty ? part.count : operationSize)
        let previous = torn?.lastIndex ?? operation.count
        guard part.index > 1, part.count == count, part.index > previous, line - start <= part.index - 1 else {
            throw FileStore.damaged(
                file, at: firstBad,
                "the record there is unreadable (its checksum does not match) but complete records follow it at byte \(offset), so it is not a torn write"
            )
        }
        torn = (startOffset, count, part.index)
        validEnd = startOffset
    }

    /// Checks that the complete operation's seqs continue the journal, and hands on those after
    /// the snapshot.
    private mutating func completeOperation(into apply: (EventRecord) throws -> Void) throws {
        for record in operation { try hand(record, into: apply) }
        operation.removeAll(keepingCapacity: true)
    }

    /// Checks that a record of a complete operation continues the journal, and hands it on if it
    /// follows the snapshot.
    private mutating func hand(_ record: EventRecord, into apply: (EventRecord) throws -> Void) throws {
        let expected = (previous ?? (record.seq - 1)) + 1
        if previous == nil, record.seq > snapshotSeq + 1 {
            throw FileStore.damaged(
                file, at: operationStart,
                "its first record has seq \(record.seq) but the snapshot ends at \(snapshotSeq): records are missing"
            )
        }
        guard record.seq == expected else {
            throw FileStore.damaged(file, at: operationStart, "seq \(record.seq) follows seq \(expected - 1)")
        }
        previous = record.seq
        if record.seq > snapshotSeq { try apply(record) }
    }

    /// Where the complete operations end, and the seqs of a torn last one whose parts were readable.
    var end: FileStore.JournalEnd {
        if let torn, operation.isEmpty {
            return FileStore.JournalEnd(validEnd: Int64(torn.offset), tornSeqs: nil)
        }
        guard let first = operation.first, let last = operation.last else {
            return FileStore.JournalEnd(validEnd: Int64(validEnd), tornSeqs: nil)
        }
        return FileStore.JournalEnd(validEnd: Int64(operationStart), tornSeqs: first.seq...last.seq)
    }
}
