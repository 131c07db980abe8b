import JSONRPC
import JanssonJSON
import TenantServices

/// The one place where domain errors become JSON-RPC errors (SPEC §7): the code, the message,
/// and `data` with `reason` and the case's details.
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
    if error.code == .invalidArgument {
        return .invalidParams(
            [ParamError(path: "", keyword: "value", message: error.message)], message: error.message, more: more)
    }
    return JSONRPCError(
        ErrorCode(rawValue: error.code.number), error.message, data: JSONRPCError.details(error.code.name, more))
}
