import Foundation
import JSONRPC
import JanssonJSON
import PropertyBased
import Testing

/// JSON allows numbers of any size; the engine holds 64-bit integers and doubles. A request with
/// a number beyond that is valid JSON: it is refused with its own id (or, for a notification,
/// not answered), never with a parse error and a null id that would leave a client waiting.
@Suite struct OutOfRangeNumberTests {
    static let echo = Dispatcher(methods: [Method("echo") { params in params ?? .null }])

    static func reply(_ text: String) throws -> JSONValue? {
        try echo.reply(to: Array(text.utf8)).map { try JSONValue.parse($0) }
    }

    @Test func aRequestWithANumberOutOfRangeIsRefusedWithItsID() throws {
        let big = try #require(
            try Self.reply(#"{"jsonrpc":"2.0","id":7,"method":"echo","params":{"limit":100000000000000000000}}"#))
        #expect(big["id"] == 7)
        #expect(big["error"]?["code"] == -32602)
        #expect(big["error"]?["data"]?["errors"]?[0]?["path"] == "/limit")
        #expect(big["error"]?["data"]?["errors"]?[0]?["keyword"] == "range")
        let real = try #require(
            try Self.reply(#"{"jsonrpc":"2.0","id":"x","method":"echo","params":[1,{"a/b~":-1e400}]}"#))
        #expect(real["id"] == "x")
        #expect(real["error"]?["data"]?["errors"]?[0]?["path"] == "/1/a~1b~0")
        // The largest and smallest that fit are read as they are.
        let edges = try #require(
            try Self.reply(
                #"{"jsonrpc":"2.0","id":1,"method":"echo","params":[9223372036854775807,-9223372036854775808,1.7e308]}"#
            ))
        #expect(edges["result"] == [9_223_372_036_854_775_807, -9_223_372_036_854_775_808, 1.7e308])
    }

    @Test func anIDOutOfRangeIsRefusedWithANullIDAndANotificationIsNotAnswered() throws {
        let id = try #require(try Self.reply(#"{"jsonrpc":"2.0","id":18446744073709551616,"method":"echo"}"#))
        #expect(id["id"] == .null)
        #expect(id["error"]?["code"] == -32600)
        #expect(try Self.reply(#"{"jsonrpc":"2.0","method":"echo","params":{"limit":1e999}}"#) == nil)
        // Not valid JSON besides: still a parse error.
        let broken = try #require(try Self.reply(#"{"jsonrpc":"2.0","id":1,"method":"echo","params":[1e999"#))
        #expect(broken["error"]?["code"] == -32700)
    }

    /// One generated request: its text, and what its reply must be.
    struct Request {
        var text: String
        /// nil: a notification (no reply); `.null`: answered with a null id.
        var replyID: JSONValue?
        /// The JSON pointers of its numbers out of range (in params); empty: answered with its params.
        var outOfRange: [String]
        var params: JSONValue
        var idOutOfRange: Bool
    }

    static let hugeNumbers = [
        "18446744073709551616", "-9223372036854775809", "1e400", "-2.5E+999", "123456789012345678901234567890",
    ]

    /// A request from a seed: ids of every kind, params of nested objects and arrays holding numbers
    /// that fit, numbers out of range, and strings that look like numbers or hold quotes.
    static func request(_ seed: Int) -> Request {
        let word = UInt64(truncatingIfNeeded: seed)
        var generator = Xoshiro(seed: (word, ~word, word &* 0x9E37_79B9_7F4A_7C15, 1))
        func next(_ bound: Int) -> Int { Int.random(in: 0..<bound, using: &generator) }
        var outOfRange: [String] = []
        func value(_ path: String, depth: Int) -> (text: String, json: JSONValue?) {
            switch next(depth > 2 ? 5 : 7) {
            case 0:
                let number = Int64(next(2_000_000)) - 1_000_000
                return ("\(number)", JSONValue(number))
            case 1:
                outOfRange.append(path)
                return (hugeNumbers[next(hugeNumbers.count)], nil)
            case 2:
                let text = ["99999999999999999999999", #"say \"1e999\""#, "-1e400 ok", "plain"][next(4)]
                return ("\"\(text)\"", try? JSONValue.parse(Array("\"\(text)\"".utf8)))
            case 3: return ("2.5e-3", JSONValue(2.5e-3))
            case 4: return ("true", JSONValue(true))
            case 5:
                let count = next(4)
                let elements = (0..<count).map { value(path + "/\($0)", depth: depth + 1) }
                return (
                    "[" + elements.map(\.text).joined(separator: ",") + "]",
                    .array(elements.map { $0.json ?? .null })
                )
            default:
                let keys = ["a", "b/c", "d~e", "f"].prefix(next(4) + 1)
                let members = keys.map { key in
                    let token = key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                    return (key, value(path + "/" + token, depth: depth + 1))
                }
                return (
                    "{" + members.map { "\"\($0.0)\":\($0.1.text)" }.joined(separator: ",") + "}",
                    .object(members.map { ($0.0, $0.1.json ?? .null) })
                )
            }
        }
        let params = value("", depth: 0)
        let paramsText = params.text.first == "{" || params.text.first == "[" ? params.text : "[\(params.text)]"
        let paramsJSON = paramsText == params.text ? params.json ?? .null : .array([params.json ?? .null])
        if paramsText != params.text { outOfRange = outOfRange.map { "/0" + $0 } }
        var members = [#""jsonrpc":"2.0""#, #""method":"echo""#, #""params":\#(paramsText)"#]
        var replyID: JSONValue?
        var idOutOfRange = false
        switch next(5) {
        case 0: replyID = nil
        case 1:
            replyID = .null
            idOutOfRange = true
            members.append(#""id":\#(hugeNumbers[next(hugeNumbers.count)])"#)
        case 2:
            replyID = JSONValue("r\(seed)")
            members.append(#""id":"r\#(seed)""#)
        default:
            replyID = JSONValue(Int64(seed))
            members.append(#""id":\#(seed)"#)
        }
        members.shuffle(using: &generator)
        return Request(
            text: "{" + members.joined(separator: ",") + "}", replyID: replyID, outOfRange: outOfRange,
            params: paramsJSON, idOutOfRange: idOutOfRange)
    }

    /// The reply `request` must get, or nil for none.
    static func check(_ request: Request, _ reply: JSONValue?) {
        guard let expectedID = request.replyID else {
            #expect(reply == nil, "a notification is not answered: \(request.text)")
            return
        }
        guard let reply else {
            Issue.record("no reply to \(request.text)")
            return
        }
        #expect(reply["id"] == expectedID, "\(request.text)")
        if request.idOutOfRange {
            #expect(reply["error"]?["code"] == -32600, "\(request.text)")
        } else if request.outOfRange.isEmpty {
            #expect(reply["result"] == request.params, "\(request.text)")
        } else {
            #expect(reply["error"]?["code"] == -32602, "\(request.text)")
            let paths = reply["error"]?["data"]?["errors"]?.elements.compactMap { $0["path"]?.stringValue }
            #expect(paths == request.outOfRange, "\(request.text)")
        }
    }

    @Test func everyRequestIsAnsweredWithItsOwnIDWhateverItsNumbers() async {
        await propertyCheck(count: 200, input: Gen.int(in: 1...Int(Int32.max)).array(of: 1...6)) { seeds in
            let requests = seeds.map(Self.request)
            // Each alone, then all as one batch.
            for request in requests {
                Self.check(request, try? Self.reply(request.text))
            }
            let batch = try? Self.reply("[" + requests.map(\.text).joined(separator: ",") + "]")
            let answered = requests.filter { $0.replyID != nil }
            if answered.isEmpty {
                #expect(batch == nil)
            } else {
                #expect(batch?.count == answered.count)
                for (offset, request) in answered.enumerated() { Self.check(request, batch?[offset]) }
            }
        }
    }
}
