import JanssonJSON

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

    /// Appends one outgoing message, serialized compactly and framed, to `buffer`.
    func write(_ message: JSONValue, appendingTo buffer: inout [UInt8]) {
        switch self {
        case .ndjson:
            message.serialize(appendingTo: &buffer)
            buffer.append(0x0A)
        case .lsp:
            buffer += frame(message.serialized())
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
/// partial messages until they are complete, and looks at each byte once (a long line arriving
/// in many chunks costs time linear in its length).
///
/// It stays in sync whatever arrives:
/// - an NDJSON line over the size limit is skipped to its newline;
/// - an LSP body over the size limit is skipped by its `Content-Length`;
/// - an LSP header block with a bad line is answered as ``Frame/badHeader(_:)``; if it still has
///   one usable `Content-Length`, that many body bytes are skipped, otherwise (no, a bad or more
///   than one `Content-Length`, or a block longer than 8 KiB) the reader skips to the next
///   `Content-Length:` (any case) in the stream, which starts the next frame. The body of the
///   bad frame is skipped on the way; a `Content-Length:` text inside it would be taken for the
///   next header, which then gets its own answer, and the reader resynchronizes again.
/// - at end of input (``finish()``), a last NDJSON line without a newline is a message.
public struct FrameReader: Sendable {
    public private(set) var framing: Framing?
    let maxMessageBytes: Int
    let maxHeaderBytes = 8192
    private var buffer: [UInt8] = []
    private var start = 0
    /// NDJSON: the bytes from `start` to here hold no newline (so no byte is scanned twice).
    private var scanned = 0
    /// Bytes of an oversized message still to skip (LSP), skipping to the next newline (NDJSON),
    /// or to the next `Content-Length:` (LSP, after an unusable header block).
    private var skipping: Skip = .none

    private enum Skip: Sendable, Equatable {
        case none, bytes(Int), line, toHeader
    }

    /// Length of an LSP body whose header was read; `start` is at the body.
    private var awaitingBody: Int?

    static let contentLength = Array("content-length:".utf8)

    public init(framing: Framing? = nil, maxMessageBytes: Int = Limits().maxMessageBytes) {
        self.framing = framing
        self.maxMessageBytes = maxMessageBytes
    }

    /// Adds bytes read from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 65536 && start > buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a complete frame.
    public var pendingByteCount: Int { buffer.count - start }

    /// The input has ended: the last frame, if the bytes left make one (an NDJSON line without a
    /// final newline), or nil. An LSP frame cut short by the end of input is dropped.
    public mutating func finish() -> Frame? {
        if let frame = next() { return frame }
        guard framing == .ndjson, skipping == .none, start < buffer.count else { return nil }
        let frame = line(start..<buffer.count)
        start = buffer.count
        scanned = start
        return frame
    }

    /// The next complete frame, or nil if more bytes are needed.
    public mutating func next() -> Frame? {
        while true {
            scanned = max(scanned, start)
            guard skipPending() else { return nil }
            guard let framing = framing ?? detectFraming() else { return nil }
            scanned = max(scanned, start)
            switch framing == .ndjson ? nextLine() : nextLSPFrame() {
            case .frame(let frame): return frame
            case .needsMoreBytes: return nil
            case .readOn: continue
            }
        }
    }

    /// What one step of reading found.
    private enum Step {
        case frame(Frame)
        /// Nothing complete yet: wait for more bytes.
        case needsMoreBytes
        /// Something was consumed (a blank line, an LSP header): read on.
        case readOn
    }

    /// Skips what an oversized or unusable frame left behind; false when that needs more bytes.
    private mutating func skipPending() -> Bool {
        switch skipping {
        case .bytes(let n):
            let available = buffer.count - start
            if available < n {
                start = buffer.count
                skipping = .bytes(n - available)
                return false
            }
            start += n
            skipping = .none
        case .line:
            guard let newline = buffer[scanned...].firstIndex(of: 0x0A) else {
                start = buffer.count
                return false
            }
            start = newline + 1
            skipping = .none
        case .toHeader:
            guard let header = nextHeaderStart() else { return false }
            start = header
            skipping = .none
        case .none:
            break
        }
        return true
    }

    /// Detects the framing from the first non-blank byte; nil while only blank bytes have come.
    private mutating func detectFraming() -> Framing? {
        // Blank bytes before the first message carry nothing: drop them as they come.
        while start < buffer.count && Self.isBlank(buffer[start]) { start += 1 }
        guard start < buffer.count else { return nil }
        let first = buffer[start]
        let detected: Framing = first == UInt8(ascii: "C") || first == UInt8(ascii: "c") ? .lsp : .ndjson
        framing = detected
        scanned = start
        return detected
    }

    /// NDJSON: the next line; a line over the size limit is skipped to its newline.
    private mutating func nextLine() -> Step {
        guard let newline = buffer[scanned...].firstIndex(of: 0x0A) else {
            scanned = buffer.count
            if buffer.count - start > maxMessageBytes {
                start = buffer.count
                skipping = .line
                return .frame(.oversized(limit: maxMessageBytes))
            }
            return .needsMoreBytes
        }
        let range = start..<newline
        start = newline + 1
        scanned = start
        if let frame = line(range) { return .frame(frame) }
        return .readOn
    }

    /// LSP: the body of a header read before, or the next header block (which sets up its body,
    /// or what to skip).
    private mutating func nextLSPFrame() -> Step {
        if let length = awaitingBody {
            guard buffer.count - start >= length else { return .needsMoreBytes }
            awaitingBody = nil
            let body = Array(buffer[start..<(start + length)])
            start += length
            return .frame(.message(body))
        }
        // Skip blank bytes between frames.
        while start < buffer.count && Self.isBlank(buffer[start]) { start += 1 }
        guard let end = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: buffer, from: start) else {
            if buffer.count - start > maxHeaderBytes {
                start += 1
                skipping = .toHeader
                return .frame(.badHeader("header block longer than \(maxHeaderBytes) bytes without an empty line"))
            }
            return .needsMoreBytes
        }
        guard end - start <= maxHeaderBytes else {
            start += 1
            skipping = .toHeader
            return .frame(.badHeader("header block longer than \(maxHeaderBytes) bytes"))
        }
        let header = Self.contentLengths(in: String(decoding: buffer[start..<end], as: UTF8.self))
        start = end + 4
        var problem = header.problem
        if header.lengths.count > 1 {
            problem = problem ?? "the header has \(header.lengths.count) Content-Length lines"
        }
        guard header.lengths.count == 1, let length = header.lengths.first, length >= 0 else {
            // The body's length is unknown: resynchronize at the next header.
            skipping = .toHeader
            return .frame(.badHeader(problem ?? "the header has no Content-Length"))
        }
        if length > maxMessageBytes {
            skipping = .bytes(length)
            if problem == nil { return .frame(.oversized(limit: maxMessageBytes)) }
        }
        if let problem {
            // The length is known: skip exactly this frame's body.
            skipping = .bytes(length)
            return .frame(.badHeader(problem))
        }
        awaitingBody = length
        return .readOn
    }

    /// The `Content-Length` values of an LSP header block (-1 for one that is not a
    /// non-negative integer) and the first problem with its lines.
    private static func contentLengths(in header: String) -> (lengths: [Int], problem: String?) {
        var lengths: [Int] = []
        var problem: String?
        for line in header.split(separator: "\r\n", omittingEmptySubsequences: false) {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else {
                problem = problem ?? "header line '\(line)' is not 'Name: value'"
                continue
            }
            if parts[0].lowercased() == "content-length" {
                let text = parts[1].trimmingCharacters(in: " \t")
                if let n = Int(text), n >= 0, text.allSatisfy(\.isNumber) {
                    lengths.append(n)
                } else {
                    problem = problem ?? "Content-Length '\(text)' is not a non-negative integer"
                    lengths.append(-1)
                }
            }
        }
        return (lengths, problem)
    }

    /// An NDJSON line as a frame (nil when blank); `range` excludes the newline.
    private func line(_ range: Range<Int>) -> Frame? {
        var line = buffer[range]
        if line.last == 0x0D { line = line.dropLast() }
        if line.allSatisfy(Self.isBlank) { return nil }
        if line.count > maxMessageBytes { return .oversized(limit: maxMessageBytes) }
        return .message(Array(line))
    }

    /// Where the next `Content-Length:` starts (any case), or nil when the bytes so far hold
    /// none; then `start` moves past what cannot begin one, so no byte is looked at twice.
    private mutating func nextHeaderStart() -> Int? {
        let needle = Self.contentLength
        var i = start
        while i < buffer.count {
            if Self.lowercased(buffer[i]) == needle[0] {
                var j = 0
                while j < needle.count && i + j < buffer.count && Self.lowercased(buffer[i + j]) == needle[j] {
                    j += 1
                }
                if j == needle.count { return i }
                if i + j == buffer.count {
                    // A possible start cut off by the end of the bytes so far: wait for more.
                    start = i
                    return nil
                }
            }
            i += 1
        }
        start = buffer.count
        return nil
    }

    static func lowercased(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
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
