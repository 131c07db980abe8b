internal import CJansson

/// An immutable JSON value, held by jansson.
///
/// Values are parsed with ``parse(_:options:)``, built with the static constructors or literals,
/// and written with ``serialized(_:)``. Equality follows JSON Schema: numbers compare by
/// mathematical value (`1 == 1.0`), objects ignore key order.
///
/// Invariant behind `@unchecked Sendable`: the jansson tree reachable from a value is never
/// mutated after the value is handed out (builders only mutate trees they have just created),
/// and jansson's reference counting is atomic.
public struct JSONValue: @unchecked Sendable {
    /// Owns one jansson reference.
    final class Handle {
        let raw: UnsafeMutablePointer<json_t>

        /// Takes over a new reference.
        init(owning raw: UnsafeMutablePointer<json_t>) { self.raw = raw }

        deinit { json_decref(raw) }
    }

    let handle: Handle

    var raw: UnsafeMutablePointer<json_t> { handle.raw }

    /// Wraps a new reference (takes ownership).
    init(owning raw: UnsafeMutablePointer<json_t>) { handle = Handle(owning: raw) }

    /// Wraps a borrowed reference (adds one).
    init(borrowing raw: UnsafeMutablePointer<json_t>) {
        handle = Handle(owning: json_incref(raw)!)
    }

    /// The JSON type of a value; integers and reals are told apart as jansson parsed them.
    public enum Kind: Sendable, Equatable {
        case object, array, string, integer, real, bool, null
    }

    /// The kind of this value.
    public var kind: Kind { Self.kind(of: raw) }

    static func kind(of raw: UnsafePointer<json_t>) -> Kind {
        switch json_type(UInt32(cjansson_typeof(raw))) {
        case JSON_OBJECT: .object
        case JSON_ARRAY: .array
        case JSON_STRING: .string
        case JSON_INTEGER: .integer
        case JSON_REAL: .real
        case JSON_TRUE, JSON_FALSE: .bool
        default: .null
        }
    }

    // MARK: Reading

    /// The value of a string (which may contain NUL characters).
    public var stringValue: String? { Self.string(of: raw) }

    static func string(of raw: UnsafePointer<json_t>) -> String? {
        guard let chars = json_string_value(raw) else { return nil }
        return String(cCharacters: chars, count: json_string_length(raw))
    }

    /// The value of an integer, or of a real with an integral value in the int64 range.
    public var intValue: Int64? { Self.int(of: raw) }

    static func int(of raw: UnsafePointer<json_t>) -> Int64? {
        switch kind(of: raw) {
        case .integer: return json_integer_value(raw)
        case .real:
            let d = json_real_value(raw)
            guard d.rounded() == d, d >= -9.223372036854775808e18, d < 9.223372036854775808e18 else { return nil }
            return Int64(d)
        default: return nil
        }
    }

    /// The value of a number (integer or real) as a double.
    public var doubleValue: Double? {
        switch kind {
        case .integer, .real: json_number_value(raw)
        default: nil
        }
    }

    /// The value of `true` or `false`.
    public var boolValue: Bool? {
        kind == .bool ? cjansson_typeof(raw) == Int32(JSON_TRUE.rawValue) : nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool { kind == .null }

    /// Number of elements of an array or members of an object; 0 for scalars.
    public var count: Int {
        switch kind {
        case .array: json_array_size(raw)
        case .object: json_object_size(raw)
        default: 0
        }
    }

    /// The member of an object with this key.
    public subscript(key: String) -> JSONValue? {
        guard kind == .object else { return nil }
        return Self.member(of: raw, key).map(JSONValue.init(borrowing:))
    }

    /// A borrowed member of an object (keys may contain NUL).
    static func member(of object: UnsafeMutablePointer<json_t>, _ key: String) -> UnsafeMutablePointer<json_t>? {
        key.withCCharacters { json_object_getn(object, $0, $1) }
    }

    /// The element of an array at an index.
    public subscript(index: Int) -> JSONValue? {
        guard kind == .array, index >= 0, index < json_array_size(raw) else { return nil }
        return json_array_get(raw, index).map(JSONValue.init(borrowing:))
    }

    /// The elements of an array; empty for other kinds.
    public var elements: [JSONValue] {
        guard kind == .array else { return [] }
        return (0..<json_array_size(raw)).map { JSONValue(borrowing: json_array_get(raw, $0)!) }
    }

    /// The members of an object in document order; empty for other kinds.
    public var members: [(key: String, value: JSONValue)] {
        var result: [(key: String, value: JSONValue)] = []
        forEachMember { result.append(($0, JSONValue(borrowing: $1))) }
        return result
    }

    /// The keys of an object in document order.
    public var keys: [String] {
        var result: [String] = []
        forEachMember { key, _ in result.append(key) }
        return result
    }

    func forEachMember(_ body: (String, UnsafeMutablePointer<json_t>) throws -> Void) rethrows {
        try Self.forEachMember(of: raw, body)
    }

    static func forEachMember(
        of raw: UnsafeMutablePointer<json_t>, _ body: (String, UnsafeMutablePointer<json_t>) throws -> Void
    ) rethrows {
        guard kind(of: raw) == .object else { return }
        var iterator = json_object_iter(raw)
        while let it = iterator {
            let name = String(cCharacters: json_object_iter_key(it)!, count: json_object_iter_key_len(it))
            try body(name, json_object_iter_value(it)!)
            iterator = json_object_iter_next(raw, it)
        }
    }

    // MARK: Building

    /// JSON `null`.
    public static let null = JSONValue(owning: json_null())

    /// A string value.
    public init(_ string: String) {
        self.init(owning: Self.newString(string))
    }

    /// An integer value.
    public init(_ int: Int64) { self.init(owning: json_integer(int)!) }

    /// An integer value.
    public init(_ int: Int) { self.init(Int64(int)) }

    /// A real value; non-finite doubles become `null` (JSON has no NaN or infinity).
    public init(_ double: Double) {
        self.init(owning: double.isFinite ? json_real(double)! : json_null())
    }

    /// `true` or `false`.
    public init(_ bool: Bool) { self.init(owning: cjansson_boolean(bool ? 1 : 0)) }

    /// An array of values.
    public static func array(_ elements: [JSONValue]) -> JSONValue {
        let raw = json_array()!
        for element in elements { json_array_append(raw, element.raw) }
        return JSONValue(owning: raw)
    }

    /// An object with members in this order; a repeated key keeps the last value.
    public static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        let raw = json_object()!
        for (key, value) in members { Self.set(raw, key, json_incref(value.raw)!) }
        return JSONValue(owning: raw)
    }

    /// Sets a member of a fresh object, stealing the value's reference.
    static func set(_ object: UnsafeMutablePointer<json_t>, _ key: String, _ value: UnsafeMutablePointer<json_t>) {
        _ = key.withCCharacters { json_object_setn_new_nocheck(object, $0, $1, value) }
    }

    /// A copy of this object with one member set (added at the end, or replaced in place).
    public func setting(_ key: String, to value: JSONValue) -> JSONValue {
        precondition(kind == .object, "setting(_:to:) needs an object")
        // Member by member with their lengths: json_copy would cut keys at a NUL.
        let copy = json_object()!
        Self.forEachMember(of: raw) { name, member in Self.set(copy, name, json_incref(member)!) }
        Self.set(copy, key, json_incref(value.raw)!)
        return JSONValue(owning: copy)
    }
}

extension JSONValue: Equatable {
    /// JSON Schema equality: numbers by value (`1 == 1.0`), objects regardless of key order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { equal(lhs.raw, rhs.raw) }

    static func equal(_ a: UnsafeMutablePointer<json_t>, _ b: UnsafeMutablePointer<json_t>) -> Bool {
        if a == b { return true }
        let ka = kind(of: a)
        let kb = kind(of: b)
        switch (ka, kb) {
        case (.integer, .integer): return json_integer_value(a) == json_integer_value(b)
        case (.integer, .real), (.real, .integer), (.real, .real): return numbersEqual(a, b)
        case (.string, .string), (.bool, .bool), (.null, .null): return json_equal(a, b) != 0
        case (.array, .array):
            let n = json_array_size(a)
            guard n == json_array_size(b) else { return false }
            return (0..<n).allSatisfy { equal(json_array_get(a, $0)!, json_array_get(b, $0)!) }
        case (.object, .object):
            guard json_object_size(a) == json_object_size(b) else { return false }
            var ok = true
            JSONValue(borrowing: a).forEachMember { key, value in
                guard ok else { return }
                guard let other = JSONValue(borrowing: b)[key] else {
                    ok = false
                    return
                }
                ok = equal(value, other.raw)
            }
            return ok
        default: return false
        }
    }

    private static func numbersEqual(_ a: UnsafeMutablePointer<json_t>, _ b: UnsafeMutablePointer<json_t>) -> Bool {
        if let x = int(of: a), let y = int(of: b) { return x == y }
        if kind(of: a) == .integer || kind(of: b) == .integer { return false }  // integer vs non-integral real
        return json_real_value(a) == json_real_value(b)
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int64) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(booleanLiteral value: Bool) { self.init(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text.
    public var description: String { String(decoding: serialized(), as: UTF8.self) }
}
