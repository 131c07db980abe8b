public import Foundation

/// The machine's wall clock.
public struct SystemClock: InstantSource {
    public init() {}
    public func now() -> Date { Date() }
}
