public import Foundation

/// Where the library gets "now" from; inject a fixed clock in tests.
public protocol InstantSource: Sendable {
    /// The current instant.
    func now() -> Date
}
