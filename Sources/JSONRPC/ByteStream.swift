import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a stream server reads its requests: a file descriptor
/// (``StreamServer/run(input:output:framing:dispatcher:onReply:)``) or, in tests, an
/// ``InMemoryStream``.
public protocol ByteSource: Sendable {
    /// Waits for bytes and copies at most `buffer.count` of them into `buffer`.
    /// - Returns: how many bytes were copied; 0 at the end of the input; nil once
    ///   ``stopReading()`` was called (then nothing more is read, not even what is left).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int?

    /// The server's output has gone away: a read that waits returns nil, and so does every later
    /// one. Called from another thread than the reads.
    func stopReading()
}

/// Where a stream server writes its replies: a file descriptor or, in tests, an ``InMemoryStream``.
/// Only one thread writes.
public protocol ByteSink: Sendable {
    /// Writes every byte, waiting while the sink is full.
    /// - Returns: false when the reader of the sink has gone away (the server then stops).
    func write(_ bytes: [UInt8]) throws(StreamError) -> Bool
}

// The C calls, by names that the `read`/`write` methods below do not shadow.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, bytes, count)
}

/// A file descriptor to read from, waited on with `poll` (so non-blocking descriptors work),
/// with a pipe that wakes a waiting read when the server stops.
final class DescriptorSource: ByteSource {
    private let fd: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(_ fd: Int32) throws(StreamError) {
        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else { throw StreamError(operation: "pipe", errno: errno) }
        self.fd = fd
        (wakeRead, wakeWrite) = (wake[0], wake[1])
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int? {
        while true {
            var fds = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                throw StreamError(operation: "poll", errno: errno)
            }
            if fds[1].revents != 0 { return nil }
            let n = systemRead(fd, buffer.baseAddress, buffer.count)
            if n < 0 {
                // A non-blocking input (or one shared with another reader) may have nothing
                // after all: poll again.
                if errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK { continue }
                throw StreamError(operation: "read", errno: errno)
            }
            return n
        }
    }

    func stopReading() {
        var byte: UInt8 = 1
        _ = systemWrite(wakeWrite, &byte, 1)
    }
}

/// A file descriptor to write to; waits (`poll`) when it is non-blocking and full.
struct DescriptorSink: ByteSink {
    let fd: Int32

    /// Writes every byte; false when the reader has gone away (EPIPE).
    func write(_ bytes: [UInt8]) throws(StreamError) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return false }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&ready, 1, -1) < 0 && errno != EINTR {
                        throw StreamError(operation: "poll", errno: errno)
                    }
                    continue
                }
                throw StreamError(operation: "write", errno: errno)
            }
            offset += n
        }
        return true
    }
}

/// An in-memory twin of a pair of descriptors, as NIO's `EmbeddedChannel` is of a channel: the
/// input is given (at once or in parts), the replies collect in ``output``. A test runs
/// ``StreamServer/run(source:sink:framing:dispatcher:onReply:)`` on it with no descriptors and
/// no threads of its own:
///
/// ```swift
/// let stream = InMemoryStream(input: Array(#"{"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2]}"#.utf8) + [0x0A])
/// try StreamServer.run(source: stream, sink: stream, dispatcher: dispatcher)
/// // stream.output holds the reply; run returned at the end of the input.
/// ```
public final class InMemoryStream: ByteSource, ByteSink, @unchecked Sendable {
    // Every member but `readSize` is guarded by `condition`.
    private let condition = NSCondition()
    private var input: [UInt8]
    private var inputOffset = 0
    private var inputEnded: Bool
    private var stopped = false
    private var written: [UInt8] = []
    private var outputClosed = false
    private let readSize: Int

    /// - Parameters:
    ///   - input: the bytes the server reads.
    ///   - endOfInput: whether the input ends after them; if not, reads wait for ``send(_:)`` or
    ///     ``endInput()``.
    ///   - readSize: most bytes one read gives (1 feeds the server byte by byte).
    public init(input: [UInt8] = [], endOfInput: Bool = true, readSize: Int = 1 << 16) {
        precondition(readSize > 0, "readSize must be at least 1")
        self.input = input
        self.inputEnded = endOfInput
        self.readSize = readSize
    }

    /// More input (before ``endInput()``).
    public func send(_ bytes: [UInt8]) {
        condition.lock()
        precondition(!inputEnded, "send(_:) after the end of the input")
        input += bytes
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the input: once it is read, reads give 0 (end of input).
    public func endInput() {
        condition.lock()
        inputEnded = true
        condition.broadcast()
        condition.unlock()
    }

    /// Everything the server wrote so far.
    public var output: [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        return written
    }

    /// The reader of the output goes away: writes from now on report it (as EPIPE does).
    public func closeOutput() {
        condition.lock()
        outputClosed = true
        condition.unlock()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(StreamError) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && inputOffset == input.count && !inputEnded { condition.wait() }
        guard !stopped else { return nil }
        let n = min(buffer.count, readSize, input.count - inputOffset)
        guard n > 0 else { return 0 }
        input.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + inputOffset, byteCount: n) }
        inputOffset += n
        return n
    }

    public func stopReading() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    public func write(_ bytes: [UInt8]) throws(StreamError) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !outputClosed else { return false }
        written += bytes
        return true
    }
}
