import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves a dispatcher over a byte source and sink: a pair of file descriptors (stdin/stdout),
/// or an ``InMemoryStream`` in tests.
public enum StreamServer {
    /// Reads frames from a descriptor until end of input, answering each in the same framing and
    /// in the order received on another; returns at EOF after every reply is written, or when
    /// the output is closed. Descriptors in non-blocking mode are waited on (`poll`) when they
    /// would block. See ``run(source:sink:framing:dispatcher:onReply:)``.
    ///
    /// - Parameter onReply: called after each reply is written (for logging), on the thread that
    ///   wrote it, one reply at a time.
    public static func run(
        input: Int32, output: Int32, framing: Framing? = nil, dispatcher: Dispatcher,
        onReply: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws(StreamError) {
        try run(
            source: try DescriptorSource(input), sink: DescriptorSink(fd: output), framing: framing,
            dispatcher: dispatcher, onReply: onReply)
    }

    /// Reads frames until end of input, answering each in the same framing and in the order
    /// received; returns at the end of the input after every reply is written, or when the
    /// sink's reader has gone away.
    ///
    /// Under load, four threads share the work, each in the order requests arrived: this one
    /// reads, parses, checks and prepares them; a second starts them (applies changes); a third
    /// finishes the replies (waiting for durability, encoding); a fourth writes them. So requests
    /// keep being prepared and started while earlier ones wait for their flush, and pipelined
    /// writes share one flush of the store (group commit). A frame that is the last one read
    /// while nothing else is queued or in flight (a client in lock-step) is answered on this
    /// thread from start to end, with no hand-over between threads.
    ///
    /// Memory stays bounded whatever the client does: the bytes in flight (requests read and not
    /// yet finished, counted as their message bytes, plus replies not yet written) are bounded by
    /// ``Limits/maxBytesInFlight``, and at most twice ``Limits/maxRequestsInFlight`` requests
    /// (or one batch) wait between each stage and the next, so parsed requests and unencoded
    /// results are bounded too. At the bound this thread stops reading until replies
    /// drain, so a client that never reads its replies blocks itself, not the server's memory.
    ///
    /// - Parameter onReply: called after each reply is written (for logging), on the thread that
    ///   wrote it, one reply at a time.
    public static func run(
        source: some ByteSource, sink: some ByteSink, framing: Framing? = nil, dispatcher: Dispatcher,
        onReply: @escaping @Sendable (Int) -> Void = { _ in }
    ) throws(StreamError) {
        let limits = dispatcher.limits
        let budget = FlightBudget(limit: limits.maxBytesInFlight)
        typealias Weighed<R> = (reply: R, framing: Framing, bytes: Int)
        let prepared = Handoff<Weighed<PreparedReply>>(limit: limits.maxRequestsInFlight)
        let started = Handoff<Weighed<PendingReply>>(limit: limits.maxRequestsInFlight)
        // Bounded by the budget (the encoder waits for room), not by a count.
        let outgoing = Handoff<[UInt8]>(limit: .max)
        let failure = Mutex<StreamError?>(nil)
        let threads = DispatchGroup()
        threads.enter()
        Thread {
            defer { threads.leave() }
            while let batch = prepared.take() {
                for item in batch {
                    let pending = item.reply.start()
                    guard started.push((pending, item.framing, item.bytes), weight: item.reply.requestCount) else {
                        prepared.abandon()
                        return
                    }
                }
            }
            started.close()
        }.start()
        threads.enter()
        Thread {
            defer { threads.leave() }
            while let batch = started.take() {
                for item in batch {
                    // Replies wait for room before they are encoded, so a client that does not
                    // read holds at most the bound in encoded replies.
                    guard budget.waitForReplyRoom() else {
                        started.abandon()
                        return
                    }
                    var reply: [UInt8] = []
                    _ = item.reply.finish(framing: item.framing, appendingTo: &reply)
                    budget.finished(requestBytes: item.bytes, replyBytes: reply.count)
                    if !reply.isEmpty && !outgoing.push(reply) {
                        started.abandon()
                        return
                    }
                }
            }
            outgoing.close()
        }.start()
        threads.enter()
        Thread {
            defer { threads.leave() }
            do throws(StreamError) {
                try writeReplies(outgoing, to: sink, budget: budget, onReply: onReply)
            } catch {
                failure.withLock { $0 = error }
            }
            // The output is gone or failed (or all is done): stop the others, and the reading
            // of a client that keeps its input open.
            outgoing.abandon()
            started.abandon()
            prepared.abandon()
            budget.abandon()
            source.stopReading()
        }.start()

        var reader = FrameReader(framing: framing, maxMessageBytes: limits.maxMessageBytes)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        /// Hands a frame on once the bound allows; false when the output has gone away.
        func admit(_ frame: Frame) -> Bool {
            let bytes: Int
            if case .message(let body) = frame { bytes = body.count } else { bytes = 64 }
            guard budget.admit(requestBytes: bytes) else { return false }
            let reply = dispatcher.prepare(frame)
            return prepared.push((reply, reader.framing ?? .ndjson, bytes), weight: reply.requestCount)
        }
        var inlineReply: [UInt8] = []
        /// Answers a frame on this thread (the others are idle); false when the output has gone away.
        func answerInline(_ frame: Frame) throws(StreamError) -> Bool {
            inlineReply.removeAll(keepingCapacity: inlineReply.capacity <= 1 << 20)
            let pending = dispatcher.prepare(frame).start()
            guard pending.finish(framing: reader.framing ?? .ndjson, appendingTo: &inlineReply) else { return true }
            guard try sink.write(inlineReply) else { return false }
            onReply(inlineReply.count)
            return true
        }
        reading: while true {
            let outcome = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(StreamError) in try source.read(into: buffer) }
            }
            let n: Int
            switch outcome {
            case .success(nil):
                // Stopped: the output has gone away.
                break reading
            case .success(let count?):
                n = count
            case .failure(let error):
                prepared.close()
                threads.wait()
                throw error
            }
            if n == 0 {
                // End of input: a last NDJSON line without a newline is a message too.
                while let frame = reader.finish() {
                    guard admit(frame) else { break reading }
                }
                break
            }
            reader.append(chunk[0..<n])
            var next = reader.next()
            while let frame = next {
                next = reader.next()
                if next == nil && budget.isIdle {
                    // The last frame read, and nothing queued or in flight (lock-step): answered
                    // here, with no hand-over between threads.
                    do throws(StreamError) {
                        guard try answerInline(frame) else { break reading }
                    } catch {
                        failure.withLock { $0 = error }
                        break reading
                    }
                } else {
                    guard admit(frame) else { break reading }
                }
            }
        }
        prepared.close()
        threads.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// The writing thread: writes replies in order, what is ready in one call (up to 1 MiB),
    /// until the input is done (returns) or the reader of the output has gone away (returns early).
    private static func writeReplies(
        _ outgoing: Handoff<[UInt8]>, to sink: some ByteSink, budget: FlightBudget, onReply: (Int) -> Void
    ) throws(StreamError) {
        var buffer: [UInt8] = []
        var sizes: [Int] = []
        func flush() throws(StreamError) -> Bool {
            guard !buffer.isEmpty else { return true }
            guard try sink.write(buffer) else { return false }
            for size in sizes { onReply(size) }
            budget.written(replyBytes: buffer.count, replies: sizes.count)
            buffer.removeAll(keepingCapacity: buffer.count <= 1 << 20)
            sizes.removeAll(keepingCapacity: true)
            return true
        }
        while let batch = outgoing.take() {
            for reply in batch {
                buffer += reply
                sizes.append(reply.count)
                if buffer.count >= 1 << 20 {
                    guard try flush() else { return }
                }
            }
            guard try flush() else { return }
        }
    }

    /// Makes the standard descriptors safe for a protocol stream, in this order: opens
    /// `/dev/null` on any of 0, 1 and 2 that is closed (so a later `open` or `dup` cannot land
    /// there and send log lines into the protocol stream); keeps the real standard output for
    /// protocol messages; points descriptor 1 at standard error, so a stray `print` cannot
    /// corrupt the stream; ignores SIGPIPE. Returns the descriptor to write protocol messages to.
    public static func protectStandardOutput() -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            // open returns the lowest free descriptor, which is this one.
            let opened = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if opened >= 0 && opened != fd {
                dup2(opened, fd)
                close(opened)
            }
        }
        let protocolOutput = dup(1)
        dup2(2, 1)
        return protocolOutput
    }
}

/// The bytes in flight through the stream server: requests read and not yet finished, and
/// replies encoded and not yet written. The reader waits while the total is at the limit; the
/// thread that encodes replies waits while the replies alone are.
final class FlightBudget: @unchecked Sendable {
    // Every member is guarded by `condition`.
    private let condition = NSCondition()
    private let limit: Int
    private var requestBytes = 0
    private var replyBytes = 0
    /// Frames admitted whose replies are not yet written (or that turned out to have none).
    private var frames = 0
    private var abandoned = false

    init(limit: Int) { self.limit = limit }

    /// Counts a request read; first waits while the bytes in flight are at the limit (unless
    /// nothing is in flight). False once abandoned.
    func admit(requestBytes bytes: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while requestBytes + replyBytes >= limit && requestBytes + replyBytes > 0 && !abandoned { condition.wait() }
        guard !abandoned else { return false }
        requestBytes += bytes
        frames += 1
        return true
    }

    /// Whether nothing is in flight: every frame admitted so far has its reply written (and the
    /// output has not gone away). Only the reading thread admits frames, so for it this stays
    /// true until it admits another.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return frames == 0 && !abandoned
    }

    /// Waits while the replies not yet written are at the limit; false once abandoned.
    func waitForReplyRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while replyBytes >= limit && !abandoned { condition.wait() }
        return !abandoned
    }

    /// A request is finished: its bytes are done with, its reply waits to be written.
    func finished(requestBytes request: Int, replyBytes reply: Int) {
        condition.lock()
        requestBytes -= request
        replyBytes += reply
        if reply == 0 { frames -= 1 }
        condition.broadcast()
        condition.unlock()
    }

    /// Replies were written.
    func written(replyBytes bytes: Int, replies: Int) {
        condition.lock()
        replyBytes -= bytes
        frames -= replies
        condition.broadcast()
        condition.unlock()
    }

    /// The output has gone away: every wait ends.
    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Items on their way from one thread to the next, in order, with a bound on how many wait.
final class Handoff<Item: Sendable>: @unchecked Sendable {
    // Every member is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [(item: Item, weight: Int)] = []
    private var weight = 0
    private var closed = false
    private var abandoned = false
    /// Most weight waiting; the producer waits beyond it (an item is taken when none waits).
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Hands an item on; false when the consumer has gone away.
    func push(_ item: Item, weight: Int = 1) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while self.weight > 0 && weight > limit - self.weight && !abandoned { condition.wait() }
        guard !abandoned else { return false }
        items.append((item, weight))
        self.weight += weight
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
        weight = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Every waiting item, in order; waits for one; nil once closed and empty or abandoned.
    func take() -> [Item]? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed && !abandoned { condition.wait() }
        guard !items.isEmpty, !abandoned else { return nil }
        let batch = items.map(\.item)
        items.removeAll(keepingCapacity: true)
        weight = 0
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
