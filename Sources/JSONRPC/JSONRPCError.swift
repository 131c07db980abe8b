public import JanssonJSON

/// A JSON-RPC error code: the reserved codes of the specification, server errors in
/// −32000…−32099, and application codes outside the reserved range.
public struct ErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let parseError = ErrorCode(rawValue: -32700)
    public static let invalidRequest = ErrorCode(rawValue: -32600)
    public static let methodNotFound = ErrorCode(rawValue: -32601)
    public static let invalidParams = ErrorCode(rawValue: -32602)
    public static let internalError = ErrorCode(rawValue: -32603)
    /// A message, batch or nesting over a configured limit.
    public static let limitExceeded = ErrorCode(rawValue: -32001)

    public var description: String { String(rawValue) }
}

/// An error answer: code, message and optional structured data.
public struct JSONRPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    public var data: JSONValue?

    public init(_ code: ErrorCode, _ message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// The error object of a response.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("code", JSONValue(code.rawValue)), ("message", JSONValue(message))]
        if let data { members.append(("data", data)) }
        return .object(members)
    }

    /// `data` with `reason` first, then the given details.
    public static func details(_ reason: String, _ more: [(String, JSONValue)] = []) -> JSONValue {
        .object([("reason", JSONValue(reason))] + more)
    }
}

extension JSONRPCError {
    /// The one way to build a limit-exceeded error (−32001): `data` names the limit (a member
    /// of ``Limits``) and its value.
    public static func limitExceeded(_ message: String, limit: String, max: Int) -> JSONRPCError {
        JSONRPCError(
            .limitExceeded, message,
            data: details("limit-exceeded", [("limit", JSONValue(limit)), ("max", JSONValue(max))])
        )
    }
}

extension JSONRPCError {
    /// The one way to build an invalid-request error (−32600): like every error it names its
    /// case in `data.reason` (`invalid-request`).
    public static func invalidRequest(_ message: String) -> JSONRPCError {
        JSONRPCError(.invalidRequest, message, data: details("invalid-request"))
    }
}

/// One reason params are invalid, as listed in `data.errors` of an invalid-params error.
public struct ParamError: Sendable, Equatable {
    /// JSON pointer of the failing value in the params (`""` is the params object).
    public var path: String
    /// The schema keyword (or decoding step) that failed.
    public var keyword: String
    /// What is wrong, in words.
    public var message: String

    public init(path: String, keyword: String, message: String) {
        self.path = path
        self.keyword = keyword
        self.message = message
    }
}

extension JSONRPCError {
    /// Most entries of `data.errors` in one reply; `data.total` gives the number found.
    public static let maxParamErrors = 100

    /// The one way to build an invalid-params error (−32602): `data.errors` lists at most
    /// ``maxParamErrors`` of the errors and `data.total` says how many were found in all.
    /// - Parameters:
    ///   - errors: the errors found, at least one (only the first ``maxParamErrors`` are kept).
    ///   - total: how many were found; at least `errors.count` (the default).
    ///   - message: the error message; by default it names the first error and how many more there are.
    ///   - more: further members of `data`, after `errors` and `total`.
    public static func invalidParams(
        _ errors: [ParamError], total: Int? = nil, message: String? = nil, more: [(String, JSONValue)] = []
    ) -> JSONRPCError {
        let total = max(total ?? errors.count, errors.count)
        let kept = errors.prefix(maxParamErrors)
        let list = JSONValue.array(
            kept.map {
                .object([
                    ("path", JSONValue($0.path)), ("keyword", JSONValue($0.keyword)),
                    ("message", JSONValue($0.message)),
                ])
            })
        var text = "invalid params"
        if let first = errors.first {
            text += ": \(first.path.isEmpty ? "params" : first.path) \(first.message)"
            if total > 1 { text += " (and \(total - 1) more)" }
        }
        return JSONRPCError(
            .invalidParams, message ?? text,
            data: details("invalid-params", [("errors", list), ("total", JSONValue(total))] + more))
    }
}
