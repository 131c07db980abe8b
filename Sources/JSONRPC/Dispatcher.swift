public import JanssonJSON

/// One method of a method table.
public struct Method: Sendable {
    /// What a handler receives: the params (object or array, nil when absent).
    public typealias Handler = @Sendable (_ params: JSONValue?) throws -> JSONValue
    /// The last phase of a prepared handler: waits if needed (for durability), then gives the
    /// result. The server calls it before sending the reply, after later requests that were
    /// already received have started. It may still throw.
    public typealias Completion = @Sendable () throws -> JSONValue
    /// A handler in three phases: preparing (pure, e.g. decoding; may run on another thread while
    /// earlier requests are still being applied), starting (in the order received), completing.
    public typealias Preparation = @Sendable (_ params: JSONValue?) throws -> Start
    /// The ordered phase of a prepared request; returns its completion.
    public typealias Start = @Sendable () throws -> Completion

    public var name: String
    /// Checked before the handler runs; a violation answers −32602 with `data.errors`.
    public var paramsSchema: JSONSchema?
    public var prepare: Preparation

    public init(_ name: String, paramsSchema: JSONSchema? = nil, handler: @escaping Handler) {
        self.name = name
        self.paramsSchema = paramsSchema
        self.prepare = { params in
            {
                let result = try handler(params)
                return { result }
            }
        }
    }

    public init(_ name: String, paramsSchema: JSONSchema? = nil, prepare: @escaping Preparation) {
        self.name = name
        self.paramsSchema = paramsSchema
        self.prepare = prepare
    }
}

/// A request that was parsed, checked and prepared, but not yet started.
public struct PreparedReply: Sendable {
    fileprivate let begin: @Sendable () -> PendingReply
    /// How many requests the frame holds (the elements of a batch; 1 otherwise), for the stream
    /// server's bound on work in flight.
    public let requestCount: Int

    fileprivate init(requestCount: Int = 1, _ begin: @escaping @Sendable () -> PendingReply) {
        self.requestCount = requestCount
        self.begin = begin
    }

    /// Starts the request (in the order requests were received) and returns its pending reply.
    public func start() -> PendingReply { begin() }
}

/// A reply whose result may still be waiting for its method's completion.
public struct PendingReply: Sendable {
    fileprivate let complete: @Sendable () -> [UInt8]?

    fileprivate init(_ complete: @escaping @Sendable () -> [UInt8]?) { self.complete = complete }

    fileprivate init(ready reply: [UInt8]?) { self.complete = { reply } }

    /// The reply as compact JSON, or nil when nothing is to be sent (notifications).
    public func finish() -> [UInt8]? { complete() }
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

    /// Parses, checks and prepares one frame without starting it; safe to run on another
    /// thread than the one that starts requests.
    public func prepare(_ frame: Frame) -> PreparedReply {
        switch frame {
        case .message(let bytes):
            return prepare(bytes)
        case .oversized(let limit):
            return Self.ready(
                Self.errorResponse(
                    JSONRPCError(
                        .limitExceeded, "message larger than \(limit) bytes; it was skipped",
                        data: JSONRPCError.details(
                            "limit-exceeded", [("limit", "maxMessageBytes"), ("max", JSONValue(limit))])),
                    id: .null
                ).serialized())
        case .badHeader(let problem):
            return Self.ready(
                Self.errorResponse(
                    JSONRPCError(
                        .parseError, "unusable message header: \(problem)", data: JSONRPCError.details("parse-error")),
                    id: .null
                ).serialized())
        }
    }

    /// The reply to one message, as compact JSON, or nil when nothing is to be sent.
    public func handle(_ message: [UInt8]) -> [UInt8]? { prepare(message).start().finish() }

    /// Parses, checks and prepares one message; see ``prepare(_:)-(Frame)``.
    public func prepare(_ message: [UInt8]) -> PreparedReply {
        // Limits are checked on the bytes, before parsing: a message over one costs no more
        // memory than its bytes.
        let shape = Self.prescan(message)
        if shape.deepest > limits.maxDepth {
            return Self.ready(
                Self.errorResponse(
                    JSONRPCError(
                        .limitExceeded, "message nested deeper than \(limits.maxDepth) levels (found \(shape.deepest))",
                        data: JSONRPCError.details(
                            "limit-exceeded", [("limit", "maxDepth"), ("max", JSONValue(limits.maxDepth))])),
                    id: .null
                ).serialized())
        }
        if let elements = shape.batchElements, elements > limits.maxBatchSize {
            return Self.ready(
                Self.errorResponse(
                    JSONRPCError(
                        .limitExceeded,
                        "batch of \(elements) requests is over the limit of \(limits.maxBatchSize); it was not parsed",
                        data: JSONRPCError.details(
                            "limit-exceeded", [("limit", "maxBatchSize"), ("max", JSONValue(limits.maxBatchSize))])),
                    id: .null
                ).serialized())
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(message, options: JSONParseOptions(rejectDuplicateKeys: true, allowNUL: true))
        } catch {
            return Self.ready(
                Self.errorResponse(
                    JSONRPCError(
                        .parseError, "parse error: \(error)",
                        data: JSONRPCError.details(
                            "parse-error",
                            [
                                ("line", JSONValue(error.line)), ("column", JSONValue(error.column)),
                                ("offset", JSONValue(error.offset)),
                            ])),
                    id: .null
                ).serialized())
        }
        if value.kind == .array {
            guard value.count > 0 else {
                return Self.ready(
                    Self.errorResponse(
                        JSONRPCError(.invalidRequest, "invalid request: an empty batch"), id: .null
                    ).serialized())
            }
            let prepared = value.elements.map(respond(to:))
            return PreparedReply(requestCount: prepared.count) {
                let started = prepared.map { $0() }
                return PendingReply {
                    let replies = started.compactMap { $0() }
                    return replies.isEmpty ? nil : JSONValue.array(replies).serialized()
                }
            }
        }
        let prepared = respond(to: value)
        return PreparedReply {
            let started = prepared()
            return PendingReply { started()?.serialized() }
        }
    }

    private static func ready(_ reply: [UInt8]?) -> PreparedReply {
        let pending = PendingReply(ready: reply)
        return PreparedReply { pending }
    }

    private static let envelopeMembers: Set<String> = ["jsonrpc", "method", "params", "id"]

    /// Gives the response object of one request, or nil for a notification.
    typealias Finish = @Sendable () -> JSONValue?
    /// Starts one prepared request and returns how to finish it.
    typealias Start = @Sendable () -> Finish

    /// Checks and prepares one request now; the returned closure starts it, and the closure
    /// that one returns gives its response.
    func respond(to request: JSONValue) -> Start {
        guard request.kind == .object else {
            let reply = Self.errorResponse(
                JSONRPCError(.invalidRequest, "invalid request: a request must be an object"), id: .null)
            return { { reply } }
        }
        let id = request["id"]
        let validID = id.map { [.string, .integer, .real, .null].contains($0.kind) } ?? true
        let replyID = validID ? (id ?? .null) : .null
        func invalid(_ message: String) -> Start {
            let reply = Self.errorResponse(JSONRPCError(.invalidRequest, "invalid request: " + message), id: replyID)
            return { { reply } }
        }
        guard validID else { return invalid("id must be a string, a number or null") }
        guard request["jsonrpc"]?.stringValue == "2.0" else { return invalid("jsonrpc must be \"2.0\"") }
        guard let name = request["method"]?.stringValue else { return invalid("method must be a string") }
        let params = request["params"]
        if let params, params.kind != .object && params.kind != .array {
            return invalid("params must be an object or an array")
        }
        if let unknown = request.keys.first(where: { !Self.envelopeMembers.contains($0) }) {
            return invalid("unknown member '\(unknown)'; a request has only jsonrpc, method, params and id")
        }
        let isNotification = id == nil
        let prepared = call(name, params)
        return {
            let started = prepared.flatMap { start in self.run(name, start) }
            return {
                let outcome = started.flatMap { completion in self.run(name, completion) }
                if isNotification { return nil }
                switch outcome {
                case .success(let result):
                    return .object([("jsonrpc", "2.0"), ("result", result), ("id", replyID)])
                case .failure(let error):
                    return Self.errorResponse(error, id: replyID)
                }
            }
        }
    }

    private func call(_ name: String, _ params: JSONValue?) -> Result<Method.Start, JSONRPCError> {
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

    /// Runs a handler or a completion; an error that is not a `JSONRPCError` is a bug (−32603).
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
        var inString = false
        var escaped = false
        var isBatch = false
        var elements = 0
        var expectingElement = false
        for b in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            if expectingElement && depth == 1 && !FrameReader.isBlank(b) && b != UInt8(ascii: "]")
                && b != UInt8(ascii: ",")
            {
                elements += 1
                expectingElement = false
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
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
