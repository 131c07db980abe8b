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
    /// Every frame already received is started before the replies of earlier ones are
    /// finished, so pipelined writes share one flush of the store (group commit); replies are
    /// then written together.
    ///
    /// - Parameter onReply: called after each reply is written (for logging).
    public static func run(
        input: Int32, output: Int32, framing: Framing? = nil, dispatcher: Dispatcher,
        onReply: (Int) -> Void = { _ in }
    ) throws(StreamError) {
        var reader = FrameReader(framing: framing, maxMessageBytes: dispatcher.limits.maxMessageBytes)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StreamError(operation: "read", errno: errno)
            }
            if n == 0 { return }
            reader.append(chunk[0..<n])
            var started: [PendingReply] = []
            while let frame = reader.next() {
                started.append(dispatcher.begin(frame))
                if started.count == maxStarted {
                    guard try finish(started, framing: reader.framing ?? .ndjson, output: output, onReply: onReply)
                    else { return }
                    started.removeAll(keepingCapacity: true)
                }
            }
            guard try finish(started, framing: reader.framing ?? .ndjson, output: output, onReply: onReply) else {
                return
            }
        }
    }

    /// Most frames started before their replies are written.
    static let maxStarted = 256

    /// Finishes started replies in order and writes them with one call; false when the reader has gone away.
    private static func finish(
        _ started: [PendingReply], framing: Framing, output: Int32, onReply: (Int) -> Void
    ) throws(StreamError) -> Bool {
        var buffer: [UInt8] = []
        for pending in started {
            guard let reply = pending.finish() else { continue }
            let framed = framing.frame(reply)
            buffer += framed
            onReply(framed.count)
        }
        return buffer.isEmpty ? true : try writeAll(output, buffer)
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

/// Reading or writing the stream failed.
public struct StreamError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation) failed: \(String(cString: strerror(errno)))" }
}
