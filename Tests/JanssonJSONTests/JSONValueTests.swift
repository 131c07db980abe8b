import Foundation
import JanssonJSON
import Testing

@Suite struct JSONValueTests {
    @Test func parsesAndWritesCompactWithoutNewline() throws {
        let value = try JSONValue.parse(#"{ "b": [1, 2.5, "x", true, null], "a": {} }"#)
        #expect(value.text() == #"{"b":[1,2.5,"x",true,null],"a":{}}"#)
        #expect(value.keys == ["b", "a"])
        #expect(value["b"]?[1]?.doubleValue == 2.5)
        #expect(value["b"]?[0]?.kind == .integer)
        #expect(value["b"]?[3]?.boolValue == true)
        #expect(value["b"]?[4]?.isNull == true)
        #expect(value["missing"] == nil)
        let pretty = value.text(JSONWriteOptions(pretty: true))
        #expect(pretty.contains("\n  \"b\": ["))
    }

    @Test func int64IsExactAndDoublesRoundTrip() throws {
        let value = try JSONValue.parse("[9223372036854775807, -9223372036854775808, 0.1, 1e-300, 123456789.123456789]")
        #expect(value[0]?.intValue == Int64.max)
        #expect(value[1]?.intValue == Int64.min)
        let again = try JSONValue.parse(value.text())
        for i in 2..<5 { #expect(again[i]?.doubleValue == value[i]?.doubleValue) }
    }

    @Test func numbersCompareByValue() throws {
        #expect(try JSONValue.parse("1") == JSONValue.parse("1.0"))
        #expect(try JSONValue.parse("[1, {\"a\": 2, \"b\": 3}]") == JSONValue.parse("[1.0, {\"b\": 3, \"a\": 2.0}]"))
        #expect(try JSONValue.parse("1") != JSONValue.parse("1.5"))
        #expect(try JSONValue.parse("\"1\"") != JSONValue.parse("1"))
        #expect(try JSONValue.parse("9007199254740993") != JSONValue.parse("9007199254740992.0"))
    }

    @Test(arguments: [
        ("{\"a\": }", JSONParseError.Reason.syntax, 1, 7),
        ("[1,\n 2,,]", .syntax, 2, 4),
        ("[1, 2", .prematureEnd, 1, 5),
        ("{} {}", .trailingData, 1, 4),
        ("[18446744073709551616]", .numberOutOfRange, 1, 21),
        ("[1e400]", .numberOutOfRange, 1, 6),
        ("[\"\\u0000\"]", .nulCharacter, 1, 9),
        ("[\"\\ud800\"]", .syntax, 1, 9),
        ("\u{FEFF}{}", .syntax, 1, 1),
        ("", .prematureEnd, 1, 0),
    ])
    func parseErrorsArePrecise(text: String, reason: JSONParseError.Reason, line: Int, column: Int) {
        #expect {
            try JSONValue.parse(text)
        } throws: { error in
            guard let error = error as? JSONParseError else { return false }
            return error.reason == reason && error.line == line && error.column == column && !error.message.isEmpty
        }
    }

    @Test func invalidUTF8IsRefusedWithItsOffset() {
        let bytes: [UInt8] = Array("{\"a\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
        #expect(error?.reason == .invalidUTF8)
        #expect(error?.offset == 7)
    }

    /// Strings and keys cross to jansson with their length: the empty one and those holding NUL
    /// are kept exactly, when built, looked up, iterated and written.
    @Test func emptyAndNULStringsAndKeysAreKeptExactly() throws {
        let value = JSONValue.object([("", ""), ("a\u{0}b", JSONValue("x\u{0}")), ("a", JSONValue(1))])
        #expect(value[""]?.stringValue == "")
        #expect(value["a\u{0}b"]?.stringValue == "x\u{0}")
        #expect(value["a"]?.intValue == 1)
        #expect(value.keys == ["", "a\u{0}b", "a"])
        #expect(value.text() == #"{"":"","a\u0000b":"x\u0000","a":1}"#)
        #expect(try JSONValueEncoder().encode(["": "\u{0}"]).text() == #"{"":"\u0000"}"#)
    }

    @Test func settingAMemberKeepsKeysWithNUL() {
        let value = JSONValue.object([("a\u{0}b", JSONValue(1)), ("a", JSONValue(2))])
        #expect(value.setting("c", to: JSONValue(3)).text() == #"{"a\u0000b":1,"a":2,"c":3}"#)
        #expect(value.setting("a", to: JSONValue(4)).text() == #"{"a\u0000b":1,"a":4}"#)
    }

    @Test func optionsForDuplicatesNULAndScalars() throws {
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#)["a"]?.intValue == 2)
        let duplicate = #expect(throws: JSONParseError.self) {
            try JSONValue.parse(#"{"a":1,"a":2}"#, options: JSONParseOptions(rejectDuplicateKeys: true))
        }
        #expect(duplicate?.reason == .duplicateKey)
        let nul = try JSONValue.parse(#"["a\u0000b"]"#, options: JSONParseOptions(allowNUL: true))
        #expect(nul[0]?.stringValue == "a\u{0}b")
        #expect(nul.text() == #"["a\u0000b"]"#)
        #expect(try JSONValue.parse("42").intValue == 42)
        #expect(throws: JSONParseError.self) {
            try JSONValue.parse("42", options: JSONParseOptions(allowScalars: false))
        }
    }

    @Test func nestingPastJanssonsLimitIsAnError() {
        let deep = String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
        let error = #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
        #expect(error?.reason == .nestingTooDeep)
    }

    @Test func buildersAndLiterals() {
        let value: JSONValue = [
            "name": "Muster AG", "count": 3, "ratio": 0.5, "ok": true, "none": nil, "list": [1, "two"],
        ]
        #expect(value.text() == #"{"name":"Muster AG","count":3,"ratio":0.5,"ok":true,"none":null,"list":[1,"two"]}"#)
        #expect(value.setting("count", to: 4)["count"]?.intValue == 4)
        #expect(value["count"]?.intValue == 3, "setting returns a copy")
        #expect(JSONValue("").text() == #""""#)
        #expect(JSONValue.object([("", 1)]).text() == #"{"":1}"#)
        #expect(JSONValue(Double.nan).isNull)
    }
}

@Suite struct CodableTests {
    struct Address: Codable, Equatable {
        var street: String
        var country: String
    }

    struct Tenant: Codable, Equatable {
        enum Source: String, Codable { case portal, crm }
        var id: String
        var version: Int
        var balance: Int64
        var ratio: Double
        var active: Bool
        var address: Address
        var tags: [String]
        var note: String?
        var source: Source
        var createdAt: Date
        var extra: [String: Int]
    }

    let sample = Tenant(
        id: "T1", version: 3, balance: Int64.max, ratio: 0.25, active: true,
        address: Address(street: "Bahnhofstrasse 1", country: "CH"), tags: ["a", "b"], note: nil, source: .crm,
        createdAt: Date(timeIntervalSince1970: 1_795_000_000), extra: ["x": 1])

    @Test func roundTripsAndWritesNullForNil() throws {
        let json = try JSONValueEncoder().encode(sample)
        #expect(json["note"]?.isNull == true, "absent values are null")
        #expect(json["createdAt"]?.stringValue == "2026-11-18T11:06:40Z")
        #expect(json["balance"]?.intValue == Int64.max)
        #expect(try JSONValueDecoder().decode(Tenant.self, from: json) == sample)
        let text = json.text()
        #expect(try JSONValueDecoder().decode(Tenant.self, from: JSONValue.parse(text)) == sample)
    }

    @Test func integersAcceptIntegralReals() throws {
        let json = try JSONValueEncoder().encode(sample).setting("version", to: 3.0)
        #expect(try JSONValueDecoder().decode(Tenant.self, from: json).version == 3)
    }

    @Test(arguments: [
        ("version", JSONValue("three"), "/version"),
        ("address", JSONValue.object([("street", 1), ("country", "CH")]), "/address/street"),
        ("tags", JSONValue.array(["a", 2]), "/tags/1"),
        ("source", JSONValue("fax"), "/source"),
        ("createdAt", JSONValue("yesterday"), "/createdAt"),
        ("version", JSONValue(1.5), "/version"),
    ])
    func decodingErrorsCarryThePointer(key: String, value: JSONValue, pointer: String) throws {
        let json = try JSONValueEncoder().encode(sample).setting(key, to: value)
        let error = #expect(throws: JSONDecodingError.self) { try JSONValueDecoder().decode(Tenant.self, from: json) }
        #expect(error?.pointer == pointer)
    }

    @Test func missingMemberIsNamed() throws {
        let json = JSONValue.object(
            try JSONValueEncoder().encode(sample).members.filter { $0.key != "id" }.map { ($0.key, $0.value) })
        let error = #expect(throws: JSONDecodingError.self) { try JSONValueDecoder().decode(Tenant.self, from: json) }
        #expect(error?.pointer == "/id")
        #expect(error?.message.contains("missing") == true)
    }
}

@Suite struct ValidatorTests {
    let schema = try! JSONSchema(
        JSONValue.parse(
            #"""
            {
              "type": "object",
              "properties": {
                "name": {"type": "string", "minLength": 1},
                "month": {"type": "string", "format": "date"},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}}
              },
              "required": ["name"],
              "additionalProperties": false,
              "$defs": {"tag": {"enum": ["a", "b"]}}
            }
            """#), options: SchemaOptions(assertFormats: true))

    @Test func reportsEveryErrorWithPathsAndKeywords() throws {
        let errors = schema.validate(try JSONValue.parse(#"{"month": "2026-02-30", "tags": ["a", "c"], "extra": 1}"#))
        let summary = Set(errors.map { "\($0.instancePath) \($0.keywordLocation) \($0.keyword)" })
        #expect(
            summary == [
                "/month /properties/month/format format", "/tags/1 /properties/tags/items/$ref/enum enum",
                "/extra /additionalProperties additionalProperties", " /required required",
            ])
        #expect(errors.allSatisfy { !$0.message.isEmpty })
        #expect(errors.first { $0.keyword == "required" }?.message == "required member 'name' is missing")
        #expect(schema.isValid(try JSONValue.parse(#"{"name": "x", "month": "2028-02-29", "tags": ["b"]}"#)))
    }

    @Test func formatsAnnotateUnlessAsserted() throws {
        let lenient = try JSONSchema(JSONValue.parse(#"{"format": "date"}"#))
        #expect(lenient.isValid("2026-13-01"))
        let strict = try JSONSchema(
            JSONValue.parse(#"{"format": "date"}"#), options: SchemaOptions(assertFormats: true))
        #expect(!strict.isValid("2026-13-01"))
    }

    @Test func badSchemasAreRefusedWithTheirLocation() {
        let error = #expect(throws: SchemaError.self) {
            try JSONSchema(JSONValue.parse(#"{"properties": {"a": {"minLength": -1}}}"#))
        }
        #expect(error?.location.hasSuffix("#/properties/a/minLength") == true)
        #expect(throws: SchemaError.self) { try JSONSchema(JSONValue.parse(#"{"$ref": "other.json"}"#)) }
        #expect(throws: SchemaError.self) { try JSONSchema(JSONValue.parse(#"{"pattern": "("}"#)) }
    }

    @Test func refsAcrossARegistry() throws {
        var registry = SchemaRegistry()
        registry.add(
            try JSONValue.parse(#"{"$defs": {"id": {"type": "string", "pattern": "^T[0-9]+$"}}}"#),
            uri: "https://example.com/entities.json")
        let schema = try JSONSchema(
            JSONValue.parse(
                #"{"$id": "https://example.com/params.json", "properties": {"tenantId": {"$ref": "entities.json#/$defs/id"}}}"#
            ),
            registry: registry)
        #expect(schema.isValid(["tenantId": "T12"]))
        #expect(schema.validate(["tenantId": "X"]).map(\.keywordLocation) == ["/properties/tenantId/$ref/pattern"])
    }
}

@Suite struct DateTests {
    @Test(arguments: [
        ("2000-01-01T00:00:00+18:01", 946_619_940.0), ("2026-11-18T11:06:40Z", 1_795_000_000.0),
        ("2026-11-18T12:06:40.5+01:00", 1_795_000_000.5), ("1998-12-31T23:59:60Z", 915_148_800.0),
        ("2026-11-18t11:06:40z", 1_795_000_000.0),
    ])
    func decodesEveryRFC3339Offset(text: String, seconds: Double) throws {
        #expect(try JSONValueDecoder().decode(Date.self, from: JSONValue(text)).timeIntervalSince1970 == seconds)
    }
}
