import JSONRPC
import JanssonJSON
import Testing

/// The methods of the JSON-RPC 2.0 specification's examples, registered for tests only.
let exampleMethods: [Method] = [
    Method("subtract") { params in
        let (minuend, subtrahend): (Int64?, Int64?) =
            params?.kind == .array
            ? (params?[0]?.intValue, params?[1]?.intValue)
            : (params?["minuend"]?.intValue, params?["subtrahend"]?.intValue)
        guard let minuend, let subtrahend else {
            throw JSONRPCError(.invalidParams, "subtract needs minuend and subtrahend")
        }
        return JSONValue(minuend - subtrahend)
    },
    Method("sum") { params in JSONValue(params?.elements.compactMap(\.intValue).reduce(0, +) ?? 0) },
    Method("get_data") { _ in ["hello", 5] },
    Method("update") { _ in .null },
    Method("notify_hello") { _ in .null },
    Method("notify_sum") { _ in .null },
]

let dispatcher = Dispatcher(methods: exampleMethods)

/// One exchange of the specification (section 7): a request and the expected reply (nil: no reply).
struct Exchange: CustomTestStringConvertible, Sendable {
    let name: String
    let request: String
    let reply: String?
    var testDescription: String { name }
}

let exchanges: [Exchange] = [
    Exchange(
        name: "positional params", request: #"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
        reply: #"{"jsonrpc": "2.0", "result": 19, "id": 1}"#),
    Exchange(
        name: "positional params reversed",
        request: #"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#,
        reply: #"{"jsonrpc": "2.0", "result": -19, "id": 2}"#),
    Exchange(
        name: "named params",
        request: #"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
        reply: #"{"jsonrpc": "2.0", "result": 19, "id": 3}"#),
    Exchange(
        name: "named params reordered",
        request: #"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
        reply: #"{"jsonrpc": "2.0", "result": 19, "id": 4}"#),
    Exchange(
        name: "notification", request: #"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#, reply: nil),
    Exchange(
        name: "notification of an unknown method", request: #"{"jsonrpc": "2.0", "method": "foobar"}"#, reply: nil),
    Exchange(
        name: "unknown method", request: #"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
        reply: #"{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}"#),
    Exchange(
        name: "invalid JSON", request: #"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
        reply: #"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#),
    Exchange(
        name: "invalid request object", request: #"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
        reply: #"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#),
    Exchange(
        name: "batch with invalid JSON",
        request: #"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]"#,
        reply: #"{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}"#),
    Exchange(
        name: "empty array", request: "[]",
        reply: #"{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}"#),
    Exchange(
        name: "invalid batch of one", request: "[1]",
        reply: #"[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]"#),
    Exchange(
        name: "invalid batch", request: "[1,2,3]",
        reply:
            #"[{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null}]"#
    ),
    Exchange(
        name: "mixed batch",
        request:
            #"[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},{"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},{"foo": "boo"},{"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},{"jsonrpc": "2.0", "method": "get_data", "id": "9"}]"#,
        reply:
            #"[{"jsonrpc": "2.0", "result": 7, "id": "1"},{"jsonrpc": "2.0", "result": 19, "id": "2"},{"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},{"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}]"#
    ),
    Exchange(
        name: "batch of notifications",
        request:
            #"[{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},{"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]"#,
        reply: nil),
]

/// A reply with messages removed: codes, ids and results must match the specification; our messages are more specific.
func normalized(_ value: JSONValue) -> JSONValue {
    if value.kind == .array { return .array(value.elements.map(normalized)) }
    guard let error = value["error"] else { return value }
    return value.setting("error", to: .object([("code", error["code"]!)]))
}

@Suite struct SpecificationExampleTests {
    @Test(arguments: exchanges)
    func exchange(_ exchange: Exchange) throws {
        let reply = dispatcher.reply(to: Array(exchange.request.utf8))
        guard let expected = exchange.reply else {
            #expect(reply == nil)
            return
        }
        let got = try JSONValue.parse(try #require(reply))
        #expect(normalized(got) == normalized(try JSONValue.parse(expected)))
    }

    /// SPEC §7: error `data` always has `reason`, the error's name, for the protocol's own
    /// errors too (-32600 had none).
    @Test(arguments: exchanges.filter { $0.reply?.contains("\"error\"") == true })
    func everyErrorNamesItsReason(_ exchange: Exchange) throws {
        let names = [
            -32700: "parse-error", -32600: "invalid-request", -32601: "method-not-found", -32602: "invalid-params",
            -32603: "internal-error",
        ]
        let reply = try JSONValue.parse(try #require(dispatcher.reply(to: Array(exchange.request.utf8))))
        let replies = reply.kind == .array ? reply.elements : [reply]
        for error in replies.compactMap({ $0["error"] }) {
            let code = try #require(error["code"]?.intValue)
            #expect(error["data"]?["reason"]?.stringValue == names[Int(code)], "\(exchange.name): \(error)")
        }
    }

    @Test(arguments: exchanges, Framing.allCases)
    func overTheStreamInBothFramings(_ exchange: Exchange, framing: Framing) throws {
        var reader = FrameReader()
        reader.append(framing.frame(Array(exchange.request.utf8)))
        let next = reader.next()
        let frame = try #require(next)
        #expect(reader.framing == framing)
        let reply = dispatcher.reply(to: frame)
        #expect((reply == nil) == (exchange.reply == nil))
        if let reply {
            var back = FrameReader()
            back.append(framing.frame(reply))
            #expect(back.next() == .message(reply))
        }
    }

    @Test func idsAreEchoedExactly() throws {
        for id in [#""abc""#, "0", "-9223372036854775808", "9223372036854775807", "null", #""""#, "1.5"] {
            let reply = try JSONValue.parse(
                dispatcher.reply(to: Array(#"{"jsonrpc":"2.0","method":"get_data","id":\#(id)}"#.utf8))!)
            #expect(reply["id"]!.text() == id)
        }
        for bad in ["true", "{}", "[1]"] {
            let reply = try JSONValue.parse(
                dispatcher.reply(to: Array(#"{"jsonrpc":"2.0","method":"get_data","id":\#(bad)}"#.utf8))!)
            #expect(reply["error"]?["code"]?.intValue == -32600)
            #expect(reply["id"]?.isNull == true)
        }
    }

    @Test(arguments: [
        #"{"jsonrpc":"1.0","method":"sum","id":1}"#, #"{"jsonrpc":2.0,"method":"sum","id":1}"#,
        #"{"method":"sum","id":1}"#,
        #"{"jsonrpc":"2.0","method":"sum","params":null,"id":1}"#,
        #"{"jsonrpc":"2.0","method":"sum","id":1,"extra":true}"#,
        #"{"jsonrpc":"2.0","id":1}"#, "42", #""text""#,
    ])
    func invalidRequests(text: String) throws {
        let reply = try JSONValue.parse(try #require(dispatcher.reply(to: Array(text.utf8))))
        #expect(reply["error"]?["code"]?.intValue == -32600)
        #expect(reply["result"] == nil)
    }

    @Test func limits() throws {
        let small = Dispatcher(
            methods: exampleMethods, limits: Limits(maxMessageBytes: 100, maxBatchSize: 2, maxDepth: 4))
        let batch =
            #"[{"jsonrpc":"2.0","method":"sum","id":1},{"jsonrpc":"2.0","method":"sum","id":2},{"jsonrpc":"2.0","method":"sum","id":3}]"#
        let tooMany = try JSONValue.parse(small.reply(to: Array(batch.utf8))!)
        #expect(tooMany["error"]?["code"]?.intValue == -32001)
        #expect(tooMany["error"]?["data"]?["limit"]?.stringValue == "maxBatchSize")
        let deep = try JSONValue.parse(
            small.reply(to: Array(#"{"jsonrpc":"2.0","method":"sum","params":[[[[[1]]]]],"id":1}"#.utf8))!)
        #expect(deep["error"]?["code"]?.intValue == -32001)
        #expect(deep["error"]?["data"]?["limit"]?.stringValue == "maxDepth")
        let inString = try JSONValue.parse(
            small.reply(to: Array(#"{"jsonrpc":"2.0","method":"sum","params":["[[[[[["],"id":1}"#.utf8))!)
        #expect(inString["result"] != nil, "brackets inside strings do not count")
    }
}
