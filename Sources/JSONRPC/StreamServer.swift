import Foundation

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
    /// Two threads share the work: this one reads, checks and starts each request; a second one
    /// finishes the replies in order (waiting for durability, encoding) and writes them. So
    /// requests keep being started while earlier ones wait for their flush, and pipelined writes
    /// share one flush of the store (group commit).
    ///
    /// - Parameter onReply: called after each reply is written (for logging), on the writing thread.
    public static func run(
        input: Int32, output: Int32, framing: Framing? = nil, dispatcher: Dispatcher,
        onReply: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws(StreamError) {
        let queue = ReplyQueue()
        let writer = Thread { queue.drain(to: output, onReply: onReply) }
        writer.start()
        defer { queue.finishAndWait() }
        var reader = FrameReader(framing: framing, maxMessageBytes: dispatcher.limits.maxMessageBytes)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamError(operation: "read", errno: errno)
            }
            if n == 0 { break }
            reader.append(chunk[0..<n])
            while let frame = reader.next() {
                guard queue.push(dispatcher.begin(frame), framing: reader.framing ?? .ndjson) else { return }
            }
        }
        queue.finishAndWait()
        if let failure = queue.failure { throw failure }
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

/// Started replies on their way from the reading thread to the writing thread, in order.
private final class ReplyQueue: @unchecked Sendable {
    // Every member is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [(reply: PendingReply, framing: Framing)] = []
    private var inputEnded = false
    private var writerDone = false
    private var outputGone = false
    private(set) var failure: StreamError?
    /// Most replies started but not yet written; the reader waits beyond it.
    private let limit = 1024

    /// Queues a started reply; false when the output is closed and reading should stop.
    func push(_ reply: PendingReply, framing: Framing) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= limit && !outputGone { condition.wait() }
        guard !outputGone else { return false }
        items.append((reply, framing))
        condition.broadcast()
        return true
    }

    /// Marks the end of input and waits until every queued reply is written.
    func finishAndWait() {
        condition.lock()
        defer { condition.unlock() }
        inputEnded = true
        condition.broadcast()
        while !writerDone { condition.wait() }
    }

    /// The writing thread: finishes replies in order and writes what is ready in one call.
    func drain(to output: Int32, onReply: @Sendable (Int) -> Void) {
        while true {
            condition.lock()
            while items.isEmpty && !inputEnded { condition.wait() }
            let batch = items
            items.removeAll(keepingCapacity: true)
            let done = batch.isEmpty && inputEnded
            condition.broadcast()
            condition.unlock()
            if done { break }
            var buffer: [UInt8] = []
            var sizes: [Int] = []
            for item in batch {
                guard let reply = item.reply.finish() else { continue }
                let framed = item.framing.frame(reply)
                buffer += framed
                sizes.append(framed.count)
            }
            let written: Bool
            do throws(StreamError) {
                written = buffer.isEmpty ? true : try StreamServer.writeAll(output, buffer)
            } catch {
                stop(failure: error)
                break
            }
            guard written else {
                stop(failure: nil)
                break
            }
            for size in sizes { onReply(size) }
        }
        condition.lock()
        writerDone = true
        condition.broadcast()
        condition.unlock()
    }

    private func stop(failure: StreamError?) {
        condition.lock()
        outputGone = true
        self.failure = failure
        // Replies still queued are dropped: nobody reads them. Their work was done; finish them
        // so that writes waiting for durability are not left behind.
        let rest = items
        items.removeAll()
        condition.broadcast()
        condition.unlock()
        for item in rest { _ = item.reply.finish() }
    }
}

/// Reading or writing the stream failed.
public struct StreamError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}
