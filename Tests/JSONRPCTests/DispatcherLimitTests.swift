import JSONRPC
import JanssonJSON
import Testing

/// Limits are applied on the bytes before parsing, and schema errors cannot amplify a request
/// (issue 14, items 6 and 7).
@Suite struct DispatcherLimitTests {
    static func reply(_ dispatcher: Dispatcher, _ text: String) throws -> JSONValue {
        try JSONValue.parse(dispatcher.reply(to: Array(text.utf8))!)
    }

    @Test func aBatchOverTheLimitIsRefusedBeforeItIsParsed() throws {
        let small = Dispatcher(methods: exampleMethods, limits: Limits(maxBatchSize: 3))
        // Not even valid JSON: a parser would say -32700; the count on the bytes refuses it first.
        let unparsed = try Self.reply(small, "[{}, {}, [1, 2, {\"a\": [3]}], \"x,y\", {} ")
        #expect(unparsed["error"]?["code"]?.intValue == -32001)
        #expect(unparsed["error"]?["data"]?["limit"]?.stringValue == "maxBatchSize")
        #expect(unparsed["error"]?["message"]?.stringValue?.contains("batch of 5 requests") == true)
        // Commas inside strings and nested values do not count.
        let three = try Self.reply(small, #"[{"a": "x,y,z"}, [1, 2, 3], {"b": {"c": 1, "d": 2}}]"#)
        #expect(three.count == 3)
        // Strings count as elements too, whatever they hold.
        let strings = try Self.reply(small, #"["x", "y,\"z", "[w", 1]"#)
        #expect(strings["error"]?["message"]?.stringValue?.contains("batch of 4 requests") == true)
    }

    static let listSchema = try! JSONSchema(
        JSONValue.parse(
            #"""
            {"type": "object", "properties": {"items": {"type": "array", "items":
              {"type": "object", "required": ["name", "address"]}}}}
            """#))

    @Test func invalidParamsListAtMostAHundredErrorsAndTheTotal() throws {
        let checked = Dispatcher(methods: [Method("import", paramsSchema: Self.listSchema) { _ in .null }])
        let items = Array(repeating: "{}", count: 10_000).joined(separator: ",")
        let reply = try Self.reply(
            checked, #"{"jsonrpc":"2.0","id":1,"method":"import","params":{"items":[\#(items)]}}"#)
        let data = reply["error"]?["data"]
        #expect(reply["error"]?["code"]?.intValue == -32602)
        #expect(data?["errors"]?.count == JSONRPCError.maxParamErrors)
        #expect(data?["total"]?.intValue == 20_000)
        #expect(data?["errors"]?[0]?["path"]?.stringValue == "/items/0")
        #expect(reply["error"]?["message"]?.stringValue?.hasSuffix("(and 19999 more)") == true)
        #expect(reply.serialized().count < 20_000)
    }

    @Test func theValidatorCountsErrorsPastTheLimitWithoutKeepingThem() throws {
        let instance = try JSONValue.parse(
            "{\"items\": [" + Array(repeating: "{}", count: 500).joined(separator: ",") + "]}")
        let report = Self.listSchema.validate(instance, keepingAtMost: 10)
        #expect(report.errors.count == 10)
        #expect(report.total == 1000)
        #expect(report.errors == Array(Self.listSchema.validate(instance).prefix(10)))
        #expect(Self.listSchema.validate(try JSONValue.parse(#"{"items": []}"#), keepingAtMost: 10).isValid)
    }

    @Test func theErrorBuilderCapsAnyList() {
        let many = (0..<150).map { ParamError(path: "/\($0)", keyword: "type", message: "must be a string") }
        let error = JSONRPCError.invalidParams(many)
        #expect(error.code == .invalidParams)
        #expect(error.data?["errors"]?.count == 100)
        #expect(error.data?["total"]?.intValue == 150)
        #expect(error.data?["reason"]?.stringValue == "invalid-params")
    }
}
