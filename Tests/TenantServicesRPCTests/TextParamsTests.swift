import Foundation
import JanssonJSON
import TenantServices
import TenantServicesRPC
import Testing

/// Text params refuse control characters (C0, DEL and C1) everywhere, except that `note`
/// may hold line feeds and tabs; checked by the params schemas, so it is data, not code.
@Suite struct TextParamsTests {
    static let controls: [Unicode.Scalar] = [
        "\u{0}", "\u{7}", "\u{1B}", "\u{7F}", "\u{85}", "\u{9B}", "\u{D}", "\u{A}",
    ]

    /// Optional string members added to a method's example where its schema has them.
    static let extras: [String: String] = [
        "requestKey": "k-1", "cursor": "c-1", "note": "Hello", "tenantId": "T1", "domainId": "D1", "query": "muster",
        "invoiceReference": "PO-1", "endDate": "2026-12-31", "validUntil": "2026-12-31",
    ]

    static func json(_ value: Any) throws -> JSONValue {
        try JSONValue.parse(
            JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]),
            options: JSONParseOptions(allowNUL: true))
    }

    /// Every string of a JSON document with the path to it.
    static func strings(in value: Any, at path: [Any] = []) -> [[Any]] {
        if let object = value as? [String: Any] {
            return object.sorted { $0.key < $1.key }.flatMap { strings(in: $0.value, at: path + [$0.key]) }
        }
        if let array = value as? [Any] {
            return array.indices.flatMap { strings(in: array[$0], at: path + [$0]) }
        }
        return value is String ? [path] : []
    }

    static func replacing(_ value: Any, at path: ArraySlice<Any>, with transform: (String) -> String) -> Any {
        guard let first = path.first else { return transform(value as! String) }
        if var object = value as? [String: Any], let key = first as? String {
            object[key] = replacing(object[key]!, at: path.dropFirst(), with: transform)
            return object
        }
        var array = value as! [Any]
        let index = first as! Int
        array[index] = replacing(array[index], at: path.dropFirst(), with: transform)
        return array
    }

    /// Each method's example, with every optional string member its schema has.
    static func examples() throws -> [(String, [String: Any], JSONSchema)] {
        var result: [(String, [String: Any], JSONSchema)] = []
        for method in SchemaSet.embedded.methodNames {
            let file = try #require(SchemaSet.embedded.files["methods/\(method).params.json"])
            let schema = try SchemaSet.embedded.paramsSchema(for: method)
            let properties = file["properties"]?.keys ?? []
            for example in file["examples"]?.elements ?? [] {
                var params = try JSONSerialization.jsonObject(with: Data(example.serialized())) as! [String: Any]
                for (key, value) in extras where properties.contains(key) && params[key] == nil {
                    var extended = params
                    extended[key] = value
                    if schema.isValid(try json(extended)) { params = extended }
                }
                #expect(schema.isValid(try json(params)), "\(method)'s example with extras")
                result.append((method, params, schema))
            }
        }
        return result
    }

    @Test func everyTextParamRefusesControlCharacters() throws {
        var checked = 0
        for (method, params, schema) in try Self.examples() {
            for path in Self.strings(in: params) {
                for control in Self.controls {
                    let isNoteLayout = path.count == 1 && path[0] as? String == "note" && (control == "\n")
                    let c = String(Character(control))
                    // Inside and at the very end (where ICU's `$` would match before a line terminator).
                    for tamper in [{ "a" + c + $0 }, { $0 + c }] as [(String) -> String] {
                        let tampered = Self.replacing(params, at: path[...], with: tamper)
                        let errors = schema.validate(try Self.json(tampered))
                        if isNoteLayout {
                            #expect(errors.isEmpty, "\(method) \(path): a line feed is allowed in a note")
                        } else {
                            #expect(!errors.isEmpty, "\(method) \(path) accepts U+\(String(control.value, radix: 16))")
                        }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 800, "\(checked) strings checked")
    }

    @Test func aNoteMayHoldLineFeedsAndTabsButNoOtherControlCharacter() throws {
        let rpc = try RPCHarness()
        let partner = try rpc.call("partner.create", ["actor": RPCHarness.op, "name": "Muster IT"])
        let sales = RPCHarness.sales(partner["partner"]!["id"]!.stringValue!)
        let tenant = try rpc.call(
            "tenant.create",
            [
                "actor": sales, "name": "Muster AG", "contact": ["email": "it@muster.ch"],
                "address": RPCHarness.address,
            ])
        let tenantId = tenant["tenant"]!["id"]!
        func offer(_ note: String, _ domain: String) throws -> JSONValue {
            try rpc.send(
                "offer.create",
                [
                    "actor": sales, "tenantId": tenantId, "note": JSONValue(note),
                    "lines": [["domain": JSONValue(domain), "mode": "inline", "users": 5]],
                ])
        }
        let fine = try offer("Dear Anna,\n\twith regards\n", "neu.ch")
        #expect(fine["result"]?["offer"]?["note"]?.stringValue == "Dear Anna,\n\twith regards")
        for bad in ["a\r\nb", "a\u{1B}[31mb", "a\u{7}", "a\u{0}b", "a\u{9B}b"] {
            let reply = try offer(bad, "neu2.ch")
            #expect(reply["error"]?["code"]?.intValue == -32602, "\(bad.debugDescription)")
            #expect(reply["error"]?["data"]?["errors"]?[0]?["path"]?.stringValue == "/note")
        }
        for name in [
            "Muster\u{1B}]0;owned\u{7} AG", "Muster\u{0}AG", "Muster\u{85}AG", "Muster\tAG", "Muster AG\n",
            "Muster AG\r\n", "Muster AG\u{85}",
        ] {
            let reply = try rpc.send(
                "tenant.update", ["actor": sales, "tenantId": tenantId, "name": JSONValue(name)])
            #expect(reply["error"]?["code"]?.intValue == -32602, "\(name.debugDescription)")
        }
    }

    /// A given or computed date past 9999-12-31 is date-rule, also for the test clock.
    @Test func theTestClockRefusesADayPastTheLastDate() throws {
        let rpc = try RPCHarness()
        let error = try rpc.fail("clock.set", ["actor": RPCHarness.op, "now": "9999-12-31T23:30:00Z"])
        #expect(error["code"]?.intValue == 1005)
        #expect(error["data"]?["latest"]?.stringValue == "9999-12-31")
        let fine = try rpc.call("clock.set", ["actor": RPCHarness.op, "now": "9999-12-31T22:30:00Z"])
        #expect(fine["now"]?.stringValue == "9999-12-31T22:30:00Z")
    }

    /// Instants are RFC 3339 UTC within 0001 … 9999: the test clock refuses one whose date in
    /// UTC is before 0001-01-01 although Zurich's (local mean time, +00:34) is not (it was taken,
    /// and written back two days off, as a Julian date), and a day before the first date is
    /// refused with `data.earliest` (it was answered with `data.latest`, "past 9999-12-31").
    @Test func theTestClockRefusesAnInstantBeforeTheFirstDate() throws {
        let rpc = try RPCHarness()
        for now in ["0000-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"] {
            let error = try rpc.fail("clock.set", ["actor": RPCHarness.op, "now": JSONValue(now)])
            #expect(error["code"]?.intValue == 1005, "\(now): \(error)")
            #expect(error["data"]?["earliest"]?.stringValue == "0001-01-01", "\(now): \(error)")
            #expect(error["data"]?["latest"] == nil, "\(now): \(error)")
            #expect(error["message"]?.stringValue?.contains("before 0001-01-01") == true, "\(now): \(error)")
        }
        let first = try rpc.call("clock.set", ["actor": RPCHarness.op, "now": "0001-01-01T00:00:00Z"])
        #expect(first["now"]?.stringValue == "0001-01-01T00:00:00Z")
    }
}
