import Foundation

/// A value guarded by a lock.
///
/// The lock is a pthread mutex (`NSLock`) rather than `Synchronization.Mutex`: on Linux the latter
/// hands a contended lock over inside the kernel (a priority-inheritance futex), which
/// ThreadSanitizer cannot see, so it would report races that are not there.
package final class Locked<Value: Sendable>: @unchecked Sendable {
    // Invariant for @unchecked Sendable: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
