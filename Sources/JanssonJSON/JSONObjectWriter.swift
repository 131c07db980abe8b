internal import CJansson

/// Writes the members of a fresh JSON object straight into jansson, for hand-written encoders of
/// hot results beside their `Codable` conformance: no encoder containers, no ``JSONValue`` per
/// member. Members are written in call order; an absent optional is written as `null`, as
/// ``JSONValueEncoder`` writes it, and a non-finite double as `null` too.
///
/// A writer is valid only inside the closure it is given to; build one with
/// ``JSONValue/object(writing:)``.
public struct JSONObjectWriter {
    let raw: UnsafeMutablePointer<json_t>

    /// Sets a member, stealing the value's reference.
    private func set(_ key: StaticString, _ value: UnsafeMutablePointer<json_t>) {
        key.withUTF8Buffer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress {
                    _ = json_object_setn_new_nocheck(raw, base, chars.count, value)
                } else {
                    _ = json_object_set_new_nocheck(raw, "", value)
                }
            }
        }
    }

    /// A string member.
    public func set(_ key: StaticString, _ value: String) { set(key, JSONValue.newString(value)) }

    /// A string member, `null` when absent.
    public func set(_ key: StaticString, _ value: String?) {
        set(key, value.map(JSONValue.newString) ?? json_null())
    }

    /// An integer member.
    public func set(_ key: StaticString, _ value: Int) { set(key, json_integer(Int64(value))) }

    /// A Boolean member.
    public func set(_ key: StaticString, _ value: Bool) { set(key, cjansson_boolean(value ? 1 : 0)) }

    /// A number member; a non-finite double is written as `null`.
    public func set(_ key: StaticString, _ value: Double) {
        set(key, value.isFinite ? json_real(value) : json_null())
    }

    /// An array of strings.
    public func set(_ key: StaticString, _ values: [String]) {
        let array = json_array()!
        for value in values { json_array_append_new(array, JSONValue.newString(value)) }
        set(key, array)
    }

    /// A member holding a value that already exists.
    public func set(_ key: StaticString, _ value: JSONValue) { set(key, json_incref(value.raw)!) }

    /// A `null` member.
    public func setNull(_ key: StaticString) { set(key, json_null()) }

    /// An object member, whose members `body` writes.
    public func setObject(_ key: StaticString, _ body: (JSONObjectWriter) throws -> Void) rethrows {
        let object = json_object()!
        set(key, object)
        try body(JSONObjectWriter(raw: object))
    }

    /// An array member of objects, one per element, whose members `body` writes.
    public func setArray<Elements: Sequence>(
        _ key: StaticString, of elements: Elements, _ body: (Elements.Element, JSONObjectWriter) throws -> Void
    ) rethrows {
        let array = json_array()!
        set(key, array)
        for element in elements {
            let object = json_object()!
            json_array_append_new(array, object)
            try body(element, JSONObjectWriter(raw: object))
        }
    }
}

extension JSONValue {
    /// A new object whose members `body` writes, straight into jansson (see ``JSONObjectWriter``).
    public static func object(writing body: (JSONObjectWriter) throws -> Void) rethrows -> JSONValue {
        let value = JSONValue(owning: json_object()!)
        try body(JSONObjectWriter(raw: value.raw))
        return value
    }
}
