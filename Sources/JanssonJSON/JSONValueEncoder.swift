internal import CJansson
public import Foundation

/// Encodes `Encodable` values into ``JSONValue`` trees, building jansson values directly.
///
/// `nil` optionals are written as explicit `null` (absent values are `null` in this API);
/// `Date` is written as RFC 3339 UTC text.
public struct JSONValueEncoder: Sendable {
    public init() {}

    /// Encodes a value.
    public func encode(_ value: some Encodable) throws -> JSONValue {
        try JSONValue(owning: encodeRaw(value, codingPath: []))
    }

    func encodeRaw(_ value: some Encodable, codingPath: [any CodingKey]) throws -> UnsafeMutablePointer<json_t> {
        if let fast = Self.primitive(value) { return fast }
        let encoder = RawEncoder(codingPath: codingPath)
        try value.encode(to: encoder)
        guard let raw = encoder.root.take() else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "\(type(of: value)) encoded no value"))
        }
        return raw
    }

    static func primitive(_ value: some Encodable) -> UnsafeMutablePointer<json_t>? {
        // One protocol check instead of a cast per primitive type (the runtime caches conformances).
        (value as? any JanssonPrimitive)?.jansson()
    }
}

extension JSONValueEncoder {
    /// The text the encoder writes for an instant: RFC 3339 UTC, whole seconds, with milliseconds
    /// when there are any (`2026-11-27T13:00:00Z`, `2026-11-27T13:00:00.250Z`).
    public static func text(for date: Date) -> String { rfc3339(date) }
}

func rfc3339(_ date: Date) -> String {
    let seconds = date.timeIntervalSince1970
    let whole = seconds.rounded(.down)
    var text = wholeSecondsRFC3339(whole)
    let millis = Int(((seconds - whole) * 1000).rounded())
    if millis > 0 && millis < 1000 {
        text.removeLast()  // "Z"
        text += String(format: ".%03dZ", millis)
    }
    return text
}

/// Holds the one value an encoder produced.
final class RootSlot {
    var raw: UnsafeMutablePointer<json_t>?

    func take() -> UnsafeMutablePointer<json_t>? {
        defer { raw = nil }
        return raw
    }

    func store(_ value: UnsafeMutablePointer<json_t>) {
        if let old = raw { json_decref(old) }
        raw = value
    }

    deinit { if let raw { json_decref(raw) } }
}

final class RawEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let root = RootSlot()

    init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if root.raw == nil || JSONValue.kind(of: root.raw!) != .object { root.store(json_object()!) }
        return KeyedEncodingContainer(KeyedRawContainer<Key>(object: root.raw!, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if root.raw == nil || JSONValue.kind(of: root.raw!) != .array { root.store(json_array()!) }
        return UnkeyedRawContainer(array: root.raw!, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleRawContainer(encoder: self) }
}

struct KeyedRawContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: UnsafeMutablePointer<json_t>
    let codingPath: [any CodingKey]

    private func set(_ key: Key, _ value: UnsafeMutablePointer<json_t>) {
        JSONValue.set(object, key.stringValue, value)
    }

    mutating func encodeNil(forKey key: Key) { set(key, json_null()) }
    mutating func encode(_ value: Bool, forKey key: Key) { set(key, cjansson_boolean(value ? 1 : 0)) }
    mutating func encode(_ value: String, forKey key: Key) { set(key, JSONValue.newString(value)) }
    mutating func encode(_ value: Int, forKey key: Key) { set(key, json_integer(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(key, json_integer(value)) }
    mutating func encode(_ value: Double, forKey key: Key) { set(key, value.isFinite ? json_real(value) : json_null()) }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        set(key, try JSONValueEncoder().encodeRaw(value, codingPath: codingPath))
    }
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) {
        value.map { encode($0, forKey: key) } ?? encodeNil(forKey: key)
    }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) {
        value.map { encode($0, forKey: key) } ?? encodeNil(forKey: key)
    }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) {
        value.map { encode($0, forKey: key) } ?? encodeNil(forKey: key)
    }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) {
        value.map { encode($0, forKey: key) } ?? encodeNil(forKey: key)
    }
    mutating func encodeIfPresent(_ value: (some Encodable)?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let child = json_object()!
        set(key, child)
        return KeyedEncodingContainer(KeyedRawContainer<NestedKey>(object: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = json_array()!
        set(key, child)
        return UnkeyedRawContainer(array: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        ChildEncoder(codingPath: codingPath) { [object] in JSONValue.set(object, "super", $0) }
    }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        ChildEncoder(codingPath: codingPath + [key]) { [object] in JSONValue.set(object, key.stringValue, $0) }
    }
}

struct IndexKey: CodingKey {
    var stringValue: String { String(intValue!) }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct UnkeyedRawContainer: UnkeyedEncodingContainer {
    let array: UnsafeMutablePointer<json_t>
    let codingPath: [any CodingKey]
    var count: Int { json_array_size(array) }

    private func append(_ value: UnsafeMutablePointer<json_t>) { json_array_append_new(array, value) }

    mutating func encodeNil() { append(json_null()) }
    mutating func encode(_ value: Bool) { append(cjansson_boolean(value ? 1 : 0)) }
    mutating func encode(_ value: String) { append(JSONValue.newString(value)) }
    mutating func encode(_ value: Int) { append(json_integer(Int64(value))) }
    mutating func encode(_ value: Double) { append(value.isFinite ? json_real(value) : json_null()) }
    mutating func encode(_ value: some Encodable) throws {
        append(try JSONValueEncoder().encodeRaw(value, codingPath: codingPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
        NestedKey
    > {
        let child = json_object()!
        let path = codingPath + [IndexKey(count)]
        append(child)
        return KeyedEncodingContainer(KeyedRawContainer<NestedKey>(object: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = json_array()!
        let path = codingPath + [IndexKey(count)]
        append(child)
        return UnkeyedRawContainer(array: child, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        ChildEncoder(codingPath: codingPath + [IndexKey(count)]) { [array] in json_array_append_new(array, $0) }
    }
}

struct SingleRawContainer: SingleValueEncodingContainer {
    let encoder: RawEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() { encoder.root.store(json_null()) }
    mutating func encode(_ value: Bool) { encoder.root.store(cjansson_boolean(value ? 1 : 0)) }
    mutating func encode(_ value: String) { encoder.root.store(JSONValue.newString(value)) }
    mutating func encode(_ value: Int) { encoder.root.store(json_integer(Int64(value))) }
    mutating func encode(_ value: Double) { encoder.root.store(value.isFinite ? json_real(value) : json_null()) }
    mutating func encode(_ value: some Encodable) throws {
        encoder.root.store(try JSONValueEncoder().encodeRaw(value, codingPath: codingPath))
    }
}

/// An encoder whose value is handed to a parent when it is done (super encoders).
final class ChildEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private let inner: RawEncoder
    private let deliver: (UnsafeMutablePointer<json_t>) -> Void

    init(codingPath: [any CodingKey], deliver: @escaping (UnsafeMutablePointer<json_t>) -> Void) {
        self.codingPath = codingPath
        self.inner = RawEncoder(codingPath: codingPath)
        self.deliver = deliver
    }

    deinit { deliver(inner.root.take() ?? json_null()) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        inner.container(keyedBy: type)
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { inner.unkeyedContainer() }
    func singleValueContainer() -> any SingleValueEncodingContainer { inner.singleValueContainer() }
}

/// Types the encoder writes directly, without going through `Encodable`.
protocol JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t>
}

extension String: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { JSONValue.newString(self) }
}

extension Int: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { json_integer(Int64(self)) }
}

extension Int64: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { json_integer(self) }
}

extension Bool: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { cjansson_boolean(self ? 1 : 0) }
}

extension Double: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { isFinite ? json_real(self) : json_null() }
}

extension Date: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { JSONValue.newString(rfc3339(self)) }
}

extension JSONValue: JanssonPrimitive {
    func jansson() -> UnsafeMutablePointer<json_t> { json_incref(raw) }
}

/// Whole seconds as RFC 3339 UTC text, in the proleptic Gregorian calendar RFC 3339 counts (as
/// ``parseRFC3339(_:)`` reads it) for the years 0001 to 9999: Foundation's formatter counts Julian
/// dates before 1582-10-15 (1500-02-29 exists there), so it serves only the other years.
private func wholeSecondsRFC3339(_ whole: Double) -> String {
    guard whole >= -62_135_596_800, whole < 253_402_300_800 else {
        return Date(timeIntervalSince1970: whole).formatted(.iso8601)
    }
    var (days, secondOfDay) = Int(whole).quotientAndRemainder(dividingBy: 86_400)
    if secondOfDay < 0 {
        days -= 1
        secondOfDay += 86_400
    }
    // Days since 1970-01-01 to a date (H. Hinnant's civil_from_days; never before 0000-03-01 here).
    let z = days + 719_468
    let era = z / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    return String(
        format: "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60,
        secondOfDay % 60)
}
