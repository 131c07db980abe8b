import Synchronization

/// The writes a portal applied in memory whose records are not yet durable, oldest first, each
/// with what undoes it.
struct PendingWrites: Sendable {
    /// One write: where the store put it, what undoes it, and the seqs of its records.
    private struct Write: Sendable {
        var position: StorePosition
        var undo: [PortalState.Undo]
        var seqs: ClosedRange<Int>
        var mark: UndoMark
    }

    /// A pending write as the responses that wait for it hold it: its position in the store, and
    /// the mark set if it is undone.
    struct Ticket: Sendable {
        var position: StorePosition
        var mark: UndoMark
    }

    /// Set when a write is undone, with the failure that undid it. A response that waits for the
    /// write checks it after the store said durable: the store keeps only the newest few
    /// failures, so a waiter that comes long after its write failed with an earlier one would
    /// otherwise be told durable.
    final class UndoMark: Sendable {
        private let failure = Mutex<StoreError?>(nil)
        /// The failure that undid the write, if it was undone.
        var undoneBy: StoreError? { failure.withLock { $0 } }
        fileprivate func set(_ error: StoreError) { failure.withLock { if $0 == nil { $0 = error } } }
    }

    private var writes: [Write] = []

    /// Adds the newest write, of the records with `seqs`.
    mutating func append(_ position: StorePosition, undo: [PortalState.Undo], seqs: ClosedRange<Int>) -> Ticket {
        let mark = UndoMark()
        writes.append(Write(position: position, undo: undo, seqs: seqs, mark: mark))
        return Ticket(position: position, mark: mark)
    }

    /// Forgets the writes at or before `durable`: they are durable now.
    mutating func removeDurable(upTo durable: Int64) {
        guard let first = writes.first, first.position.rawValue <= durable else { return }
        writes.removeAll { $0.position.rawValue <= durable }
    }

    /// The position of the newest write, if it is after `durable`.
    func newest(after durable: Int64) -> StorePosition? {
        newestTicket(after: durable)?.position
    }

    /// The newest write, if it is after `durable`.
    func newestTicket(after durable: Int64) -> Ticket? {
        guard let newest = writes.last, newest.position.rawValue > durable else { return nil }
        return Ticket(position: newest.position, mark: newest.mark)
    }

    /// The pending write that holds the record `seq`, if any (none when it is durable: a later
    /// write still pending must not be waited for, nor fail it).
    func ticket(holding seq: Int) -> Ticket? {
        writes.first { $0.seqs.contains(seq) }.map { Ticket(position: $0.position, mark: $0.mark) }
    }

    /// Undoes in `state` the write at `position` and every later one, newest first, and forgets
    /// them, marking each undone by `failure`. Does nothing if `position` is not pending: a
    /// failed write that an earlier waiter already undid leaves alone the writes that came after
    /// the store recovered.
    mutating func undo(from position: StorePosition, in state: inout PortalState, failure: StoreError) {
        guard let first = writes.firstIndex(where: { $0.position == position }) else { return }
        for write in writes[first...].reversed() {
            state.undoLog = write.undo
            state.rollBack()
            write.mark.set(failure)
        }
        writes.removeSubrange(first...)
    }
}
