import Foundation
import JanssonJSON
import PropertyBased
import Testing

/// Members of type `String`, `Int` and `Bool` are read without a nested decoder; on generated
/// objects the values and errors are those of the nested decoder, which a single-value
/// container (``Via``) still goes through.
@Suite struct KeyedLeafDecodingTests {
    struct Via<T: Decodable & Equatable>: Decodable, Equatable {
        var value: T
        init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(T.self) }
    }

    struct Direct: Decodable, Equatable {
        var s: String
        var i: Int
        var b: Bool
        var os: String?
        var oi: Int?
        var ob: Bool?
    }

    struct Nested: Decodable, Equatable {
        var s: Via<String>
        var i: Via<Int>
        var b: Via<Bool>
        var os: Via<String>?
        var oi: Via<Int>?
        var ob: Via<Bool>?
    }

    static let pool: [JSONValue?] = [
        "text", "", "Zürich \u{1F600}", 7, -3, 2.0, 2.5, true, false, .null, nil, .array([1]), .object([("a", 1)]),
        9_223_372_036_854_775_807, 1e300,
    ]

    @Test func leavesDecodeAsTheNestedDecoderDoes() {
        var random = Xoshiro(seed: 0x4C45_4146)
        var decoded = 0
        for _ in 0..<5_000 {
            // Mostly values of the right type, so that many objects decode.
            func member(_ right: [JSONValue]) -> JSONValue? {
                random.chance(75) ? random.pick(right) : random.pick(Self.pool)
            }
            let members: [(String, JSONValue?)] = [
                ("s", member(["a", "", "ß"])), ("i", member([0, 42, 3.0])), ("b", member([true, false])),
                ("os", member(["x", .null])), ("oi", member([1, .null])), ("ob", member([false, .null])),
            ]
            let object = JSONValue.object(members.compactMap { name, value in value.map { (name, $0) } })
            let direct = Result { () throws(JSONDecodingError) in
                try JSONValueDecoder().decode(Direct.self, from: object)
            }
            let nested = Result { () throws(JSONDecodingError) in
                try JSONValueDecoder().decode(Nested.self, from: object)
            }
            switch (direct, nested) {
            case (.success(let d), .success(let n)):
                decoded += 1
                #expect(
                    d.s == n.s.value && d.i == n.i.value && d.b == n.b.value && d.os == n.os?.value
                        && d.oi == n.oi?.value && d.ob == n.ob?.value, "\(object.text())")
            case (.failure(let d), .failure(let n)):
                #expect(d.pointer == n.pointer, "\(object.text())")
                // A null is named by its declared type (Via<…> here).
                if !d.message.hasSuffix("found null") { #expect(d.message == n.message, "\(object.text())") }
            default:
                Issue.record("\(object.text()): \(direct) but \(nested)")
            }
        }
        #expect(decoded > 500)
    }
}
