import Foundation
import JSONRPC
import JanssonJSON
import TenantServices
import TenantServicesRPC

/// An in-process server on a test clock, with helpers to call it as a client would.
final class RPCHarness {
    let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
    let dispatcher: Dispatcher
    let resultSchemas: [String: JSONSchema]
    private var nextID = 0

    static let op: JSONValue = ["id": "ops", "kind": "operator"]
    static func sales(_ partner: String = "P1", roles: [JSONValue] = ["Sales"], expert: Bool = false) -> JSONValue {
        [
            "id": "u-anna", "kind": "partnerAdmin", "partnerId": JSONValue(partner), "roles": .array(roles),
            "expertMode": JSONValue(expert),
        ]
    }
    static let address: JSONValue = [
        "street": "Bahnhofstrasse 1", "postalCode": "8001", "city": "Zürich", "country": "CH",
    ]

    init(withClock: Bool = true, store: any Store = InMemoryStore()) throws {
        let portal = try Portal(clock: clock, store: store)
        dispatcher = Dispatcher(
            methods: try TenantServicesMethods.table(portal: portal, clock: withClock ? clock : nil))
        var schemas: [String: JSONSchema] = [:]
        for method in SchemaSet.embedded.methodNames {
            schemas[method] = try SchemaSet.embedded.resultSchema(for: method)
        }
        resultSchemas = schemas
    }

    /// Every result seen, by method, to check against the result schemas.
    var results: [(String, JSONValue)] = []

    /// Sends one request and returns the whole response object.
    func send(_ method: String, _ params: JSONValue) throws -> JSONValue {
        nextID += 1
        let request: JSONValue = [
            "jsonrpc": "2.0", "id": JSONValue(nextID), "method": JSONValue(method), "params": params,
        ]
        let reply = try JSONValue.parse(dispatcher.reply(to: request.serialized())!)
        if let result = reply["result"] { results.append((method, result)) }
        return reply
    }

    /// Sends one request with a given ID and returns the reply's bytes as they would go out.
    func sendRaw(_ method: String, _ params: JSONValue, id: Int) -> [UInt8] {
        let request: JSONValue = ["jsonrpc": "2.0", "id": JSONValue(id), "method": JSONValue(method), "params": params]
        return dispatcher.reply(to: request.serialized()) ?? []
    }

    /// Calls a method that must succeed.
    func call(_ method: String, _ params: JSONValue) throws -> JSONValue {
        let reply = try send(method, params)
        guard let result = reply["result"] else { throw Unexpected("\(method) failed: \(reply)") }
        return result
    }

    /// Calls a method that must fail, returning the error object.
    func fail(_ method: String, _ params: JSONValue) throws -> JSONValue {
        let reply = try send(method, params)
        guard let error = reply["error"] else { throw Unexpected("\(method) should have failed: \(reply)") }
        return error
    }
}

struct Unexpected: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
