import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves a dispatcher over a pair of file descriptors (stdin/stdout, pipes in tests).
public enum StreamServer {
    /// Reads frames until end of input, answering each in the same framing and in the order
    /// received; returns at EOF after every reply is written, or when the output is closed.
    ///
    /// Three threads share the work, each in the order requests arrived: this one reads, parses,
    /// checks and prepares them; a second starts them (applies changes); a third finishes the
    /// replies (waiting for durability, encoding) and writes them. So requests keep being
    /// prepared and started while earlier ones wait for their flush, and pipelined writes share
    /// one flush of the store (group commit).
    ///
    /// - Parameter onReply: called after each reply is written (for logging), on the writing thread.
    public static func run(
        input: Int32, output: Int32, framing: Framing? = nil, dispatcher: Dispatcher,
        onReply: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws(StreamError) {
        let prepared = Handoff<(reply: PreparedReply, framing: Framing)>()
        let started = Handoff<(reply: PendingReply, framing: Framing)>()
        let failure = Mutex<StreamError?>(nil)
        // The writing thread wakes the reading one through this pipe when the output goes away,
        // so a reader blocked on quiet input stops too.
        var wake: [Int32] = [-1, -1]
        guard pipe(&wake) == 0 else { throw StreamError(operation: "pipe", errno: errno) }
        let (wakeRead, wakeWrite) = (wake[0], wake[1])
        defer {
            close(wakeRead)
            close(wakeWrite)
        }
        let threads = DispatchGroup()
        threads.enter()
        Thread {
            defer { threads.leave() }
            while let batch = prepared.take() {
                for item in batch where !started.push((item.reply.start(), item.framing)) {
                    prepared.abandon()
                    return
                }
            }
            started.close()
        }.start()
        threads.enter()
        Thread {
            defer { threads.leave() }
            do throws(StreamError) {
                try writeReplies(started, to: output, onReply: onReply)
            } catch {
                failure.withLock { $0 = error }
            }
            // The output is gone or failed (or all is done): stop the others.
            started.abandon()
            prepared.abandon()
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }.start()

        var reader = FrameReader(framing: framing, maxMessageBytes: dispatcher.limits.maxMessageBytes)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        reading: while true {
            var fds = [
                pollfd(fd: input, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
            ]
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                prepared.close()
                threads.wait()
                throw StreamError(operation: "poll", errno: errno)
            }
            if fds[1].revents != 0 { break }
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                prepared.close()
                threads.wait()
                throw StreamError(operation: "read", errno: errno)
            }
            if n == 0 { break }
            reader.append(chunk[0..<n])
            while let frame = reader.next() {
                guard prepared.push((dispatcher.prepare(frame), reader.framing ?? .ndjson)) else { break reading }
            }
        }
        prepared.close()
        threads.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// The writing thread: finishes replies in order and writes what is ready in one call, until
    /// the input is done (returns) or the reader of the output has gone away (returns early).
    private static func writeReplies(
        _ started: Handoff<(reply: PendingReply, framing: Framing)>, to output: Int32, onReply: (Int) -> Void
    ) throws(StreamError) {
        while let batch = started.take() {
            var buffer: [UInt8] = []
            var sizes: [Int] = []
            for item in batch {
                guard let reply = item.reply.finish() else { continue }
                let framed = item.framing.frame(reply)
                buffer += framed
                sizes.append(framed.count)
            }
            if !buffer.isEmpty {
                guard try writeAll(output, buffer) else { return }
            }
            for size in sizes { onReply(size) }
        }
    }

    /// Writes every byte; false when the reader has gone away (EPIPE).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(StreamError) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return false }
                throw StreamError(operation: "write", errno: errno)
            }
            offset += n
        }
        return true
    }

    /// Keeps the real standard output for protocol messages and points file descriptor 1 at
    /// standard error, so a stray `print` cannot corrupt the stream; ignores SIGPIPE.
    /// Returns the descriptor to write protocol messages to.
    public static func protectStandardOutput() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        let protocolOutput = dup(1)
        dup2(2, 1)
        return protocolOutput
    }
}

/// Items on their way from one thread to the next, in order, with a bound on how many wait.
final class Handoff<Item: Sendable>: @unchecked Sendable {
    // Every member is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Item] = []
    private var closed = false
    private var abandoned = false
    /// Most items waiting; the producer waits beyond it.
    private let limit = 1024

    /// Hands an item on; false when the consumer has gone away.
    func push(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= limit && !abandoned { condition.wait() }
        guard !abandoned else { return false }
        items.append(item)
        if items.count == 1 { condition.broadcast() }
        return true
    }

    /// The producer is done: the consumer takes what is left, then gets nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The consumer is gone: the producer's pushes fail from now on.
    func abandon() {
        condition.lock()
        abandoned = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Every waiting item, in order; waits for one; nil once closed and empty or abandoned.
    func take() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed && !abandoned { condition.wait() }
        guard !items.isEmpty, !abandoned else { return nil }
        let batch = items
        items.removeAll(keepingCapacity: true)
        condition.broadcast()
        return batch
    }
}

/// Reading or writing the stream failed.
public struct StreamError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}
