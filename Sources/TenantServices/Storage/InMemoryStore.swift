/// A store that keeps records in memory only (tests, demos); every write is durable at once.
public final class InMemoryStore: Store {
    private let records = Locked<[EventRecord]>([])

    public init() {}

    public func load() -> [EventRecord] { records.withLock { $0 } }

    public func write(_ batch: [EventRecord]) -> StorePosition {
        records.withLock {
            $0 += batch
            return StorePosition(Int64($0.count))
        }
    }

    public func waitUntilDurable(_ position: StorePosition) {}
}
