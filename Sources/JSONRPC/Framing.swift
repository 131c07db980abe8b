/// How messages are delimited on the byte stream.
public enum Framing: String, Sendable, CaseIterable {
    /// One JSON message per line (newline-delimited JSON).
    case ndjson
    /// LSP-style `Content-Length: N\r\n\r\n` headers before each message.
    case lsp

    /// Frames one outgoing message.
    public func frame(_ message: [UInt8]) -> [UInt8] {
        switch self {
        case .ndjson: message + [0x0A]
        case .lsp: Array("Content-Length: \(message.count)\r\n\r\n".utf8) + message
        }
    }
}

/// What the frame reader found next in the byte stream.
public enum Frame: Equatable, Sendable {
    /// One complete message body.
    case message([UInt8])
    /// A message over the size limit was skipped (the reader stays in sync).
    case oversized(limit: Int)
    /// A header block that cannot be used (missing or bad `Content-Length`); it was skipped.
    case badHeader(String)
}

/// Splits a byte stream into messages. Detects the framing from the first non-blank byte
/// (`{` or `[`: NDJSON, `C`: Content-Length) unless one is given. Feed it any chunks; it keeps
/// partial messages until they are complete.
public struct FrameReader: Sendable {
    public private(set) var framing: Framing?
    let maxMessageBytes: Int
    let maxHeaderBytes = 8192
    private var buffer: [UInt8] = []
    private var start = 0
    /// Bytes of an oversized message still to skip (LSP), or skipping to the next newline (NDJSON).
    private var skipping: Skip = .none

    private enum Skip: Sendable, Equatable {
        case none, bytes(Int), line
    }

    /// Length of an LSP body whose header was read; `start` is at the body.
    private var awaitingBody: Int?

    public init(framing: Framing? = nil, maxMessageBytes: Int = Limits().maxMessageBytes) {
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 65536 && start > buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a complete frame.
    public var pendingByteCount: Int { buffer.count - start }

    /// The next complete frame, or nil if more bytes are needed.
    public mutating func next() -> Frame? {
        while true {
            switch skipping {
            case .bytes(let n):
                let available = buffer.count - start
                if available < n {
                    start = buffer.count
                    skipping = .bytes(n - available)
                    return nil
                }
                start += n
                skipping = .none
            case .line:
                guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
                    start = buffer.count
                    return nil
                }
                start = newline + 1
                skipping = .none
            case .none:
                break
            }
            if framing == nil {
                guard let first = buffer[start...].first(where: { !Self.isBlank($0) }) else { return nil }
                framing = first == UInt8(ascii: "C") || first == UInt8(ascii: "c") ? .lsp : .ndjson
            }
            switch framing! {
            case .ndjson:
                guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
                    if buffer.count - start > maxMessageBytes {
                        start = buffer.count
                        skipping = .line
                        return .oversized(limit: maxMessageBytes)
                    }
                    return nil
                }
                var line = buffer[start..<newline]
                start = newline + 1
                if line.last == 0x0D { line = line.dropLast() }
                if line.allSatisfy(Self.isBlank) { continue }
                if line.count > maxMessageBytes { return .oversized(limit: maxMessageBytes) }
                return .message(Array(line))
            case .lsp:
                if let length = awaitingBody {
                    guard buffer.count - start >= length else { return nil }
                    awaitingBody = nil
                    defer { start += length }
                    return .message(Array(buffer[start..<(start + length)]))
                }
                // Skip blank bytes between frames.
                while start < buffer.count && Self.isBlank(buffer[start]) { start += 1 }
                guard let end = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: buffer, from: start) else {
                    if buffer.count - start > maxHeaderBytes {
                        start = buffer.count
                        return .badHeader("header block longer than \(maxHeaderBytes) bytes without an empty line")
                    }
                    return nil
                }
                let header = String(decoding: buffer[start..<end], as: UTF8.self)
                let bodyStart = end + 4
                var length: Int?
                var problem: String?
                for line in header.split(separator: "\r\n") {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2 else {
                        problem = "header line '\(line)' is not 'Name: value'"
                        continue
                    }
                    if parts[0].lowercased() == "content-length" {
                        let text = parts[1].trimmingCharacters(in: " \t")
                        if let n = Int(text), n >= 0, text.allSatisfy(\.isNumber) {
                            length = n
                        } else {
                            problem = "Content-Length '\(text)' is not a non-negative integer"
                        }
                    }
                }
                start = bodyStart
                if let problem { return .badHeader(problem) }
                guard let length else { return .badHeader("the header has no Content-Length") }
                if length > maxMessageBytes {
                    skipping = .bytes(length)
                    return .oversized(limit: maxMessageBytes)
                }
                awaitingBody = length
            }
        }
    }

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard haystack.count - from >= needle.count else { return nil }
        var i = from
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] && haystack[i + 1] == needle[1] && haystack[i + 2] == needle[2]
                && haystack[i + 3] == needle[3]
            {
                return i
            }
            i += 1
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
