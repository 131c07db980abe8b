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
