public import Foundation

/// A clock that stands still until it is set or advanced (tests, demos, `--clock`).
public final class ManualClock: InstantSource {
    private let instant: Locked<Date>

    public init(_ start: Date) { instant = Locked(start) }

    public func now() -> Date { instant.withLock { $0 } }

    /// Moves the clock to an instant.
    public func set(_ date: Date) { instant.withLock { $0 = date } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) { instant.withLock { $0 += seconds } }
}
