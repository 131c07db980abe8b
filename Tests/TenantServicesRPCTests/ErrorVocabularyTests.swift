import JSONRPC
import JanssonJSON
import TenantServices
import Testing

/// The binding owns the wire vocabulary of errors: each refusal the domain names has its
/// JSON-RPC code here, and the OpenRPC error table is generated from the codes.
@Suite struct ErrorVocabularyTests {
    /// The `components.errors` of `rpc.discover`, as (name, code, message) in order.
    static func discoveredErrors() throws -> [(String, Int, String)] {
        let rpc = try RPCHarness()
        let document = try rpc.call("rpc.discover", [:])
        let errors = try #require(document["components"]?["errors"])
        return errors.members.map {
            ($0.key, Int($0.value["code"]?.intValue ?? 0), $0.value["message"]?.stringValue ?? "")
        }
    }

    @Test func theGeneratedOpenRPCErrorTableIsTheOneWrittenBefore() throws {
        // The table as it was written by hand before it was generated from the codes.
        let written: [(String, Int, String)] = [
            ("notFound", 1000, "not-found: unknown ID, or one the actor may not see"),
            ("permissionDenied", 1001, "permission-denied: role missing (data.required lists the roles that would do)"),
            ("conflict", 1002, "conflict: version mismatch, domain already booked, service already live"),
            ("dependencyViolation", 1003, "dependency-violation: data.violations as in the check report"),
            ("invalidTransition", 1004, "invalid-transition: step not allowed from the current status"),
            ("dateRule", 1005, "date-rule: end date too early or otherwise invalid (data.earliest)"),
            ("requestKeyReused", 1006, "request-key-reused: same requestKey, different params"),
            ("invalidDomain", 1007, "invalid-domain: not a valid host name, or a free-mail domain"),
            ("storageFailure", -32000, "storage-failure: the store could not persist; nothing was applied"),
            (
                "limitExceeded", -32001,
                "limit-exceeded: message size, nesting or batch size over the limit (data.limit)"
            ),
            (
                "invalidParams", -32602,
                "invalid params: data.errors lists {path, keyword, message}, at most 100; data.total is how many were found"
            ),
        ]
        let discovered = try Self.discoveredErrors()
        #expect(discovered.map(\.0) == written.map(\.0))
        #expect(discovered.map(\.1) == written.map(\.1))
        #expect(discovered.map(\.2) == written.map(\.2))
    }

    @Test func everyRefusalTheDomainNamesHasItsOwnJSONRPCCode() throws {
        let discovered = try Self.discoveredErrors()
        #expect(Set(discovered.map(\.1)).count == discovered.count, "codes must be distinct")
        for code in PortalError.Code.allCases where code != .invalidArgument {
            #expect(
                discovered.contains { $0.2.hasPrefix(code.name + ": ") }, "\(code.name) is not in the OpenRPC table")
        }
        // invalid-params refusals are JSON-RPC's own −32602, with data.errors.
        #expect(discovered.contains { $0.1 == ErrorCode.invalidParams.rawValue })
    }
}
