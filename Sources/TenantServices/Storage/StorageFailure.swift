#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A system call the file store makes, as named in a ``StoreError`` (and in fault injection).
public enum StorageOperation: String, Sendable, CaseIterable {
    case open, close, fstat, mmap, pread, pwrite, fdatasync, fsync, ftruncate, rename, unlink, flock
}

/// An error number of a failed system call (`EIO`, `ENOSPC`, …), shown by its system text.
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// The system's text for the error (`Input/output error`).
    public var description: String { String(cString: strerror(rawValue)) }

    /// The error number of the last failed call on this thread.
    package static var current: Errno { Errno(rawValue: errno) }

    /// An I/O error of the device.
    public static let ioError = Errno(rawValue: EIO)
    /// No space left on the device.
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// A symbolic link where the store expects a file.
    public static let tooManySymbolicLinks = Errno(rawValue: ELOOP)
}
