/// The writes a portal applied in memory whose records are not yet durable, oldest first, each
/// with what undoes it.
struct PendingWrites: Sendable {
    /// One write: where the store put it, what undoes it, and the seq of its last record.
    private struct Write: Sendable {
        var position: StorePosition
        var undo: [PortalState.Undo]
        var lastSeq: Int
    }

    private var writes: [Write] = []

    /// Adds the newest write.
    mutating func append(_ position: StorePosition, undo: [PortalState.Undo], lastSeq: Int) {
        writes.append(Write(position: position, undo: undo, lastSeq: lastSeq))
    }

    /// Forgets the writes at or before `durable`: they are durable now.
    mutating func removeDurable(upTo durable: Int64) {
        guard let first = writes.first, first.position.rawValue <= durable else { return }
        writes.removeAll { $0.position.rawValue <= durable }
    }

    /// The position of the newest write, if it is after `durable`.
    func newest(after durable: Int64) -> StorePosition? {
        guard let newest = writes.last?.position, newest.rawValue > durable else { return nil }
        return newest
    }

    /// The position of the oldest write still pending whose records reach `seq`, if any.
    func position(holding seq: Int) -> StorePosition? {
        writes.first { $0.lastSeq >= seq }?.position
    }

    /// Undoes in `state` the write at `position` and every later one, newest first, and forgets
    /// them. Does nothing if `position` is not pending: a failed write that an earlier waiter
    /// already undid leaves alone the writes that came after the store recovered.
    mutating func undo(from position: StorePosition, in state: inout PortalState) {
        guard let first = writes.firstIndex(where: { $0.position == position }) else { return }
        for write in writes[first...].reversed() {
            state.undoLog = write.undo
            state.rollBack()
        }
        writes.removeSubrange(first...)
    }
}
