public import Foundation

/// Where the library gets "now" from; inject a fixed clock in tests.
public protocol Clock: Sendable {
    /// The current instant.
    func now() -> Date
}
