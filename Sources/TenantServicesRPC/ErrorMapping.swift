import JSONRPC
import JanssonJSON
import TenantServices

/// The wire vocabulary of refusals: the domain names each kind of ``PortalError`` (its
/// `data.reason`); this binding gives it a JSON-RPC code and says, for the OpenRPC document,
/// what it means.
enum PortalErrorCodes {
    /// The JSON-RPC code and meaning of every kind of refusal.
    static let table: [PortalError.Code: (number: ErrorCode, meaning: String)] = [
        .notFound: (ErrorCode(rawValue: 1000), "unknown ID, or one the actor may not see"),
        .permissionDenied: (ErrorCode(rawValue: 1001), "role missing (data.required lists the roles that would do)"),
        .conflict: (ErrorCode(rawValue: 1002), "version mismatch, domain already booked, service already live"),
        .dependencyViolation: (ErrorCode(rawValue: 1003), "data.violations as in the check report"),
        .invalidTransition: (ErrorCode(rawValue: 1004), "step not allowed from the current status"),
        .dateRule: (ErrorCode(rawValue: 1005), "end date too early or otherwise invalid (data.earliest)"),
        .requestKeyReused: (ErrorCode(rawValue: 1006), "same requestKey, different params"),
        .invalidDomain: (ErrorCode(rawValue: 1007), "not a valid host name, or a free-mail domain"),
        // Answered as JSON-RPC's own invalid params, with data.errors; described with it.
        .invalidArgument: (.invalidParams, ""),
        .storageFailure: (ErrorCode(rawValue: -32000), "the store could not persist; nothing was applied"),
    ]

    /// The JSON-RPC code a refusal of this kind is answered with.
    static func number(of code: PortalError.Code) -> ErrorCode {
        guard let entry = table[code] else { preconditionFailure("no JSON-RPC code for \(code)") }
        return entry.number
    }

    /// The errors every method may answer, as OpenRPC error objects (component name, code,
    /// message): the refusals of the domain in its order, then the protocol's limit and
    /// invalid-params errors.
    static var openRPCErrors: [(name: String, code: Int, message: String)] {
        var errors: [(name: String, code: Int, message: String)] = []
        for code in PortalError.Code.allCases {
            guard let entry = table[code], entry.number != .invalidParams else { continue }
            errors.append((camelCased(code.name), entry.number.rawValue, code.name + ": " + entry.meaning))
        }
        errors.append(
            (
                "limitExceeded", ErrorCode.limitExceeded.rawValue,
                "limit-exceeded: message size, nesting or batch size over the limit (data.limit)"
            ))
        errors.append(
            (
                "invalidParams", ErrorCode.invalidParams.rawValue,
                "invalid params: data.errors lists {path, keyword, message}, at most \(JSONRPCError.maxParamErrors); data.total is how many were found"
            ))
        return errors
    }

    /// `not-found` → `notFound`.
    private static func camelCased(_ name: String) -> String {
        let words = name.split(separator: "-")
        return words.prefix(1).joined() + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// The one place where domain errors become JSON-RPC errors: the code, the message, and `data`
/// with `reason` and the case's details.
func rpcError(_ error: PortalError) -> JSONRPCError {
    let d = error.details
    var more: [(String, JSONValue)] = []
    if let violations = d.violations {
        more.append(("violations", (try? JSONValueEncoder().encode(violations)) ?? .array([])))
    }
    if let required = d.required { more.append(("required", .array(required.map { JSONValue($0.rawValue) }))) }
    if let earliest = d.earliest { more.append(("earliest", JSONValue(earliest.description))) }
    if let latest = d.latest { more.append(("latest", JSONValue(latest))) }
    if let version = d.currentVersion { more.append(("currentVersion", JSONValue(version))) }
    let number = PortalErrorCodes.number(of: error.code)
    if number == .invalidParams {
        return .invalidParams(
            [ParamError(path: "", keyword: "value", message: error.message)], message: error.message, more: more)
    }
    return JSONRPCError(number, error.message, data: JSONRPCError.details(error.code.name, more))
}
