import Foundation
package import TenantServices

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The system calls under names of their own, so the methods below can share theirs.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemPread(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pread(fd, buffer, count, offset)
}
private func systemPwrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int, _ offset: off_t) -> Int {
    pwrite(fd, buffer, count, offset)
}
private func systemFdatasync(_ fd: Int32) -> Int32 { fdatasync(fd) }
private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func systemFtruncate(_ fd: Int32, _ size: off_t) -> Int32 { ftruncate(fd, size) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
private func systemUnlink(_ path: String) -> Int32 { unlink(path) }
private func systemFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }

/// A storage system call that failed: which call, on which file, and why.
struct StorageCallError: Error {
    var operation: StorageOperation
    var errno: Errno
    var path: String

    /// A ``StoreError`` of kind `io` whose message starts with `what` (`cannot flush FILE`).
    func storeError(_ what: String, _ consequence: String = "") -> StoreError {
        // O_NOFOLLOW's error, said plainly.
        let link =
            operation == .open && errno.rawValue == ELOOP
            ? " (it is a symbolic link, which the store never follows)" : ""
        return StoreError("\(what): \(errno)\(link)\(consequence)", kind: .io(operation: operation, errno: errno))
    }
}

/// What a fault-injection test makes a storage call do instead of the real call.
package enum StorageFault: Sendable {
    /// Fail with this error number, doing nothing.
    case fail(Errno)
    /// For `pwrite`: write only the first `bytes` bytes (a short write, as on a filling disk; 0:
    /// the call returns 0, no progress).
    case shortWrite(bytes: Int)
    /// Kill the process with SIGKILL before the call (crash-point tests).
    case crash
}

/// Which part of the store makes a call, so a fault can target, say, the calls of a snapshot.
package enum StorageActivity: Sendable {
    case open, load, write, flush, snapshot
}

/// One storage call as a fault injector sees it.
package struct StorageCall: Sendable {
    package var operation: StorageOperation
    package var path: String
    package var activity: StorageActivity
}

/// Decides, for each storage call, whether it fails (tests); nil lets it run.
package typealias StorageFaultInjector = @Sendable (StorageCall) -> StorageFault?

/// An open file of the store, with the path its errors name.
struct StorageFile: Sendable {
    var fd: Int32
    var path: String
}

/// The storage system calls of ``FileStore``, all in one place, so that tests can make any of
/// them fail (the Nth `fdatasync`, half a write, a rename) and every failure names its call and
/// error number.
struct StorageCalls: Sendable {
    let injector: StorageFaultInjector?

    init(injector: StorageFaultInjector? = nil) { self.injector = injector }

    /// The injected fault for a call, if any; `.crash` never returns.
    @inline(__always)
    private func fault(_ operation: StorageOperation, _ path: String, _ activity: StorageActivity) -> StorageFault? {
        guard let injector else { return nil }
        let fault = injector(StorageCall(operation: operation, path: path, activity: activity))
        if case .crash = fault {
            kill(getpid(), SIGKILL)
            while true { pause() }
        }
        return fault
    }

    private func check(
        _ result: some BinaryInteger, _ operation: StorageOperation, _ path: String
    ) throws(StorageCallError) {
        if result < 0 { throw StorageCallError(operation: operation, errno: .current, path: path) }
    }

    /// Opens `path` with `O_CLOEXEC` and, unless `followingLinks` (the directory itself),
    /// `O_NOFOLLOW`: the store never follows a symbolic link to one of its files.
    func open(
        _ path: String, _ flags: Int32, _ mode: mode_t = 0o644, followingLinks: Bool = false,
        for activity: StorageActivity
    ) throws(StorageCallError) -> StorageFile {
        if case .fail(let code) = fault(.open, path, activity) {
            throw StorageCallError(operation: .open, errno: code, path: path)
        }
        let fd = systemOpen(path, flags | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW), mode)
        try check(fd, .open, path)
        return StorageFile(fd: fd, path: path)
    }

    func close(_ file: StorageFile) { _ = systemClose(file.fd) }

    /// The size of an open file.
    func size(_ file: StorageFile, for activity: StorageActivity) throws(StorageCallError) -> Int64 {
        if case .fail(let code) = fault(.fstat, file.path, activity) {
            throw StorageCallError(operation: .fstat, errno: code, path: file.path)
        }
        var info = stat()
        try check(fstat(file.fd, &info), .fstat, file.path)
        return Int64(info.st_size)
    }

    /// The first `size` bytes of the file, mapped read-only; nil when it cannot be mapped (the
    /// caller then reads it). Only for files nobody else changes meanwhile.
    func map(_ file: StorageFile, size: Int) -> Data? {
        if case .fail = fault(.mmap, file.path, .load) { return nil }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, file.fd, 0), address != MAP_FAILED else {
            return nil
        }
        return Data(bytesNoCopy: address, count: size, deallocator: .custom { address, size in munmap(address, size) })
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(
        _ file: StorageFile, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, for activity: StorageActivity
    ) throws(StorageCallError) -> Int {
        var done = 0
        while done < buffer.count {
            if case .fail(let code) = fault(.pread, file.path, activity) {
                throw StorageCallError(operation: .pread, errno: code, path: file.path)
            }
            let n = systemPread(file.fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageCallError(operation: .pread, errno: .current, path: file.path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes` at `offset` (retrying short writes); on failure some may be written.
    func write(
        _ file: StorageFile, _ bytes: UnsafeRawBufferPointer, at offset: Int64, for activity: StorageActivity
    ) throws(StorageCallError) {
        var done = 0
        while done < bytes.count {
            var length = bytes.count - done
            switch fault(.pwrite, file.path, activity) {
            case .fail(let code): throw StorageCallError(operation: .pwrite, errno: code, path: file.path)
            case .shortWrite(let limit): length = min(length, max(0, limit))
            case .crash, nil: break
            }
            let n = systemPwrite(file.fd, bytes.baseAddress! + done, length, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageCallError(operation: .pwrite, errno: .current, path: file.path)
            }
            // No progress at all: retrying would spin for ever (holding the store's lock).
            if n == 0 { throw StorageCallError(operation: .pwrite, errno: .noSpace, path: file.path) }
            done += n
        }
    }

    func fdatasync(_ file: StorageFile, for activity: StorageActivity) throws(StorageCallError) {
        if case .fail(let code) = fault(.fdatasync, file.path, activity) {
            throw StorageCallError(operation: .fdatasync, errno: code, path: file.path)
        }
        try check(systemFdatasync(file.fd), .fdatasync, file.path)
    }

    func fsync(_ file: StorageFile, for activity: StorageActivity) throws(StorageCallError) {
        if case .fail(let code) = fault(.fsync, file.path, activity) {
            throw StorageCallError(operation: .fsync, errno: code, path: file.path)
        }
        try check(systemFsync(file.fd), .fsync, file.path)
    }

    func truncate(_ file: StorageFile, to size: Int64, for activity: StorageActivity) throws(StorageCallError) {
        if case .fail(let code) = fault(.ftruncate, file.path, activity) {
            throw StorageCallError(operation: .ftruncate, errno: code, path: file.path)
        }
        try check(systemFtruncate(file.fd, off_t(size)), .ftruncate, file.path)
    }

    func rename(_ from: String, to: String, for activity: StorageActivity) throws(StorageCallError) {
        if case .fail(let code) = fault(.rename, from, activity) {
            throw StorageCallError(operation: .rename, errno: code, path: from)
        }
        try check(systemRename(from, to), .rename, from)
    }

    /// Removes `path` if it is there (never follows a link: it removes the link).
    func unlink(_ path: String, for activity: StorageActivity) {
        if case .fail = fault(.unlink, path, activity) { return }
        _ = systemUnlink(path)
    }

    /// Takes an exclusive lock without waiting; false when another process holds it.
    func lock(_ file: StorageFile, for activity: StorageActivity) throws(StorageCallError) -> Bool {
        if case .fail(let code) = fault(.flock, file.path, activity) {
            if code.rawValue == EWOULDBLOCK { return false }
            throw StorageCallError(operation: .flock, errno: code, path: file.path)
        }
        if systemFlock(file.fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK { return false }
        throw StorageCallError(operation: .flock, errno: .current, path: file.path)
    }
}
