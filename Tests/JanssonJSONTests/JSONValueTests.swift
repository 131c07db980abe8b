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

    /// Appending a value's text to a buffer gives the buffer's bytes followed by exactly the
    /// bytes of `serialized`, for generated values from a few bytes to well past the sink's
    /// first 4 KiB (so it grows), compact and pretty, onto empty and non-empty buffers.
    @Test func appendedTextIsTheSerializedText() {
        var seed: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        func value(depth: Int) -> JSONValue {
            switch next(depth > 3 ? 5 : 7) {
            case 0: return JSONValue(String(repeating: "é\"\\\u{1}x", count: next(400)))
            case 1: return JSONValue(Int64(next(1_000_000)) - 500_000)
            case 2: return JSONValue(Double(next(1000)) / 7)
            case 3: return JSONValue(next(2) == 0)
            case 4: return .null
            case 5: return .array((0..<next(12)).map { _ in value(depth: depth + 1) })
            default: return .object((0..<next(12)).map { i in ("k\(i)-\(next(99))", value(depth: depth + 1)) })
            }
        }
        var sizes: [Int] = []
        for round in 0..<300 {
            let generated = value(depth: 0)
            for options in [JSONWriteOptions.compact, JSONWriteOptions(pretty: true)] {
                let prefix: [UInt8] = round.isMultiple(of: 2) ? [] : Array("prefix\n".utf8)
                var buffer = prefix
                generated.serialize(appendingTo: &buffer, options)
                let expected = prefix + generated.serialized(options)
                #expect(buffer == expected)
                sizes.append(expected.count)
            }
        }
        #expect(sizes.contains { $0 > 16_384 } && sizes.contains { $0 < 64 }, "\(sizes.min()!)...\(sizes.max()!) bytes")
    }

    /// The appended text is the serialized text also for values of several MiB (the sink doubles
    /// past its first 4 KiB many times) and for texts ending exactly at and around a doubling,
    /// appended twice in a row onto a buffer kept across calls.
    @Test func appendedTextIsTheSerializedTextForValuesOfSeveralMebibytes() {
        let values: [JSONValue] =
            [
                JSONValue(String(repeating: "a\"é\u{1}\n", count: 600_000)),
                .array((0..<200_000).map { JSONValue($0 * 7_919) }),
                .object((0..<50_000).map { ("key \($0)", .array([JSONValue(Double($0) / 3), .null, true])) }),
            ] + (4_090...4_100).map { JSONValue(String(repeating: "x", count: $0 - 2)) }
            + (8_188...8_196).map { JSONValue(String(repeating: "y", count: $0 - 2)) }
        var buffer: [UInt8] = Array("kept\n".utf8)
        var expected = buffer
        for value in values {
            for options in [JSONWriteOptions.compact, JSONWriteOptions(pretty: true)] {
                let text = value.serialized(options)
                #expect(!text.isEmpty)
                for _ in 0..<2 {
                    value.serialize(appendingTo: &buffer, options)
                    expected += text
                }
                #expect(buffer.count == expected.count)
            }
        }
        #expect(buffer == expected)
        #expect(values.prefix(3).allSatisfy { $0.serialized().count > 1 << 20 })
        #expect(values[3...].map { $0.serialized().count }.contains(4_096))
    }
}
