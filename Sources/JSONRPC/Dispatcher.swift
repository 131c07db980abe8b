import JanssonJSON

/// A frame (one request or a batch) that was parsed, checked and prepared, and has not started.
struct PreparedReply: Sendable {
    private let begin: @Sendable () -> PendingReply
    /// How many requests the frame holds (the elements of a batch; 1 otherwise), for the stream
    /// server's bound on work in flight.
    let requestCount: Int

    init(requestCount: Int = 1, start: @escaping @Sendable () -> PendingReply) {
        self.requestCount = requestCount
        self.begin = start
    }

    /// A reply known without running anything (an error found while checking).
    static func ready(_ response: JSONValue?) -> PreparedReply {
        let pending = PendingReply { response }
        return PreparedReply { pending }
    }

    /// Starts the requests (in the order requests were received) and returns the pending reply.
    func start() -> PendingReply { begin() }
}

/// A reply whose results may still be waiting for their methods.
struct PendingReply: Sendable {
    private let response: @Sendable () -> JSONValue?

    init(_ response: @escaping @Sendable () -> JSONValue?) { self.response = response }

    /// Waits for the results and gives the response (an object, or an array for a batch), or
    /// nil when nothing is to be sent (notifications).
    func wait() -> JSONValue? { response() }

    /// The response as compact JSON, or nil when nothing is to be sent.
    func finish() -> [UInt8]? { wait()?.serialized() }

    /// Appends the response, compact and framed, to `buffer`; false when nothing is to be sent.
    func finish(framing: Framing, appendingTo buffer: inout [UInt8]) -> Bool {
        guard let response = wait() else { return false }
        framing.write(response, appendingTo: &buffer)
        return true
    }
}

/// Applies JSON-RPC 2.0 to messages for any method table: envelope rules, batches,
/// notifications, limits and schema-checked params. Knows nothing of transports.
public struct Dispatcher: Sendable {
    public let limits: Limits
    private let methods: [String: Method]
    /// Called for an error that is not a `JSONRPCError` (a bug); the answer is −32603.
    private let onInternalError: @Sendable (String, any Error) -> Void

    public init(
        methods: [Method], limits: Limits = Limits(),
        onInternalError: @escaping @Sendable (String, any Error) -> Void = { _, _ in }
    ) {
        self.methods = Dictionary(methods.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        self.limits = limits
        self.onInternalError = onInternalError
    }

    /// The method names, sorted.
    public var methodNames: [String] { methods.keys.sorted() }

    /// The reply to one frame, as compact JSON, or nil when nothing is to be sent (notifications).
    public func reply(to frame: Frame) -> [UInt8]? { prepare(frame).start().finish() }

    /// The reply to one message, as compact JSON, or nil when nothing is to be sent.
    public func reply(to message: [UInt8]) -> [UInt8]? { prepare(message).start().finish() }

    /// Parses, checks and prepares one frame without starting it; safe to run on another
    /// thread than the one that starts requests.
    func prepare(_ frame: Frame) -> PreparedReply {
        switch frame {
        case .message(let bytes):
            return prepare(bytes)
        case .oversized(let limit):
            return Self.refused(
                .limitExceeded(
                    "message larger than \(limit) bytes; it was skipped", limit: "maxMessageBytes", max: limit))
        case .badHeader(let problem):
            return Self.refused(
                JSONRPCError(
                    .parseError, "unusable message header: \(problem)", data: JSONRPCError.details("parse-error")))
        }
    }

    /// Parses, checks and prepares one message; see `prepare(_:)` of a frame.
    func prepare(_ message: [UInt8]) -> PreparedReply {
        // Limits are checked on the bytes, before parsing: a message over one costs no more
        // memory than its bytes.
        let shape = Self.prescan(message)
        if shape.deepest > limits.maxDepth {
            return Self.refused(
                .limitExceeded(
                    "message nested deeper than \(limits.maxDepth) levels (found \(shape.deepest))", limit: "maxDepth",
                    max: limits.maxDepth))
        }
        if let elements = shape.batchElements, elements > limits.maxBatchSize {
            return Self.refused(
                .limitExceeded(
                    "batch of \(elements) requests is over the limit of \(limits.maxBatchSize); it was not parsed",
                    limit: "maxBatchSize", max: limits.maxBatchSize))
        }
        let options = JSONParseOptions(rejectDuplicateKeys: true, allowNUL: true)
        let value: JSONValue
        do {
            value = try JSONValue.parse(message, options: options)
        } catch {
            // Valid JSON with a number the engine cannot hold: refused request by request, each with its id.
            if error.reason == .numberOutOfRange, let marked = OutOfRangeNumbers.marking(message),
                let value = try? JSONValue.parse(marked, options: options)
            {
                return prepare(parsed: value, numbersOutOfRange: true)
            }
            return Self.refused(
                JSONRPCError(
                    .parseError, "parse error: \(error)",
                    data: JSONRPCError.details(
                        "parse-error",
                        [
                            ("line", JSONValue(error.line)), ("column", JSONValue(error.column)),
                            ("offset", JSONValue(error.offset)),
                        ])))
        }
        return prepare(parsed: value, numbersOutOfRange: false)
    }

    /// Prepares a parsed message: one request, or a batch. `numbersOutOfRange`: the message held
    /// numbers out of range, replaced by ``OutOfRangeNumbers/marker``.
    private func prepare(parsed value: JSONValue, numbersOutOfRange: Bool) -> PreparedReply {
        if value.kind == .array {
            guard value.count > 0 else {
                return Self.refused(JSONRPCError.invalidRequest("invalid request: an empty batch"))
            }
            let prepared = value.elements.map { respond(to: $0, numbersOutOfRange: numbersOutOfRange) }
            return PreparedReply(requestCount: prepared.count) {
                let started = prepared.map { $0.start() }
                return PendingReply {
                    let replies = started.compactMap { $0.wait() }
                    // Not `nil` in a conditional: JSONValue is a nil literal too (JSON null).
                    if replies.isEmpty { return Optional<JSONValue>.none }
                    return JSONValue.array(replies)
                }
            }
        }
        return respond(to: value, numbersOutOfRange: numbersOutOfRange)
    }

    /// The answer to a frame refused before any request in it was read (so its id is null).
    private static func refused(_ error: JSONRPCError) -> PreparedReply {
        .ready(errorResponse(error, id: .null))
    }

    private static let envelopeMembers: Set<String> = ["jsonrpc", "method", "params", "id"]

    /// Checks and prepares one request now; its pending reply gives its response object, or nil
    /// for a notification.
    func respond(to request: JSONValue, numbersOutOfRange: Bool = false) -> PreparedReply {
        guard request.kind == .object else {
            return .ready(
                Self.errorResponse(
                    JSONRPCError.invalidRequest("invalid request: a request must be an object"), id: .null))
        }
        let id = request["id"]
        if numbersOutOfRange, id?.stringValue == OutOfRangeNumbers.marker {
            return .ready(
                Self.errorResponse(
                    JSONRPCError.invalidRequest(
                        "invalid request: the id is a number beyond the range this server reads (\(OutOfRangeNumbers.range)), so it cannot be echoed"
                    ), id: .null))
        }
        let validID = id.map { [.string, .integer, .real, .null].contains($0.kind) } ?? true
        let replyID = validID ? (id ?? .null) : .null
        func invalid(_ message: String) -> PreparedReply {
            .ready(Self.errorResponse(JSONRPCError.invalidRequest("invalid request: " + message), id: replyID))
        }
        guard validID else { return invalid("id must be a string, a number or null") }
        guard request["jsonrpc"]?.stringValue == "2.0" else { return invalid("jsonrpc must be \"2.0\"") }
        guard let name = request["method"]?.stringValue, !numbersOutOfRange || name != OutOfRangeNumbers.marker
        else { return invalid("method must be a string") }
        let params = request["params"]
        if let params, params.kind != .object && params.kind != .array {
            return invalid("params must be an object or an array")
        }
        if let unknown = request.keys.first(where: { !Self.envelopeMembers.contains($0) }) {
            return invalid("unknown member '\(unknown)'; a request has only jsonrpc, method, params and id")
        }
        let isNotification = id == nil
        if numbersOutOfRange {
            let paths = OutOfRangeNumbers.paths(in: params)
            if !paths.isEmpty {
                if isNotification { return .ready(nil) }
                let message = "is a number beyond the range this server reads (\(OutOfRangeNumbers.range))"
                let error = JSONRPCError.invalidParams(
                    paths.map { ParamError(path: $0, keyword: "range", message: message) })
                return .ready(Self.errorResponse(error, id: replyID))
            }
        }
        let prepared = call(name, params)
        return PreparedReply {
            let started = prepared.flatMap { call in self.run(name) { try call.start() } }
            return PendingReply {
                let outcome = started.flatMap { pending in self.run(name) { try pending.wait() } }
                if isNotification { return Optional<JSONValue>.none }
                switch outcome {
                case .success(let result):
                    return .object([("jsonrpc", "2.0"), ("result", result), ("id", replyID)])
                case .failure(let error):
                    return Self.errorResponse(error, id: replyID)
                }
            }
        }
    }

    private func call(_ name: String, _ params: JSONValue?) -> Result<PreparedCall, JSONRPCError> {
        guard let method = methods[name] else {
            return .failure(
                JSONRPCError(
                    .methodNotFound, "method '\(name)' does not exist", data: JSONRPCError.details("method-not-found")))
        }
        if let schema = method.paramsSchema {
            let report = schema.validate(params ?? .object([]), keepingAtMost: JSONRPCError.maxParamErrors)
            if report.total > 0 {
                return .failure(
                    .invalidParams(
                        report.errors.map {
                            ParamError(path: $0.instancePath, keyword: $0.keyword, message: $0.message)
                        }, total: report.total))
            }
        }
        return run(name) { try method.prepare(params) }
    }

    /// Runs one phase of a method; an error that is not a `JSONRPCError` is a bug (−32603).
    private func run<T>(_ name: String, _ body: () throws -> T) -> Result<T, JSONRPCError> {
        do {
            return .success(try body())
        } catch let error as JSONRPCError {
            return .failure(error)
        } catch {
            onInternalError(name, error)
            return .failure(
                JSONRPCError(.internalError, "internal error in \(name)", data: JSONRPCError.details("internal-error")))
        }
    }

    static func errorResponse(_ error: JSONRPCError, id: JSONValue) -> JSONValue {
        .object([("jsonrpc", "2.0"), ("error", error.json), ("id", id)])
    }

    /// What the byte pre-scan found: the deepest nesting, and the number of top-level elements
    /// when the message is an array (a batch).
    struct Shape: Equatable {
        var deepest = 0
        var batchElements: Int?
    }

    /// Scans the bytes once, outside strings, for nesting and batch size. A batch's elements are
    /// counted as the values that start at the top level of the array, so malformed JSON may
    /// count differently than a parser would; it is refused either way.
    static func prescan(_ bytes: [UInt8]) -> Shape {
        var shape = Shape()
        var depth = 0
        var strings = StringTracker()
        var isBatch = false
        var elements = 0
        var expectingElement = false
        for b in bytes {
            if strings.isInsideString(b) { continue }
            if expectingElement && depth == 1 && !FrameReader.isBlank(b) && b != UInt8(ascii: "]")
                && b != UInt8(ascii: ",")
            {
                elements += 1
                expectingElement = false
            }
            switch b {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                if depth == 0 && shape.deepest == 0 && b == UInt8(ascii: "[") {
                    isBatch = true
                    expectingElement = true
                }
                depth += 1
                shape.deepest = max(shape.deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 && isBatch { expectingElement = true }
            default: break
            }
        }
        if isBatch { shape.batchElements = elements }
        return shape
    }
}

/// Follows JSON text byte by byte to tell which bytes lie inside strings, for the scans of a
/// message's bytes before it is parsed.
struct StringTracker {
    private var inString = false
    private var escaped = false

    /// Notes `byte`, the next one: true when it lies inside a string after the opening quote (the
    /// closing quote included); an opening quote gives false and starts the string.
    mutating func isInsideString(_ byte: UInt8) -> Bool {
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            return true
        }
        if byte == UInt8(ascii: "\"") { inString = true }
        return false
    }
}
