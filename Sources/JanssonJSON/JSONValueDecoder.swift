internal import CJansson
import Foundation

/// A value did not have the shape a type expects; names the failing value by JSON pointer.
public struct JSONDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer (RFC 6901) of the failing value, `""` for the root.
    public var pointer: String
    public var message: String

    public var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
}

/// Decodes `Decodable` values from ``JSONValue`` trees.
///
/// Integers accept reals with an integral value (`1.0`); `Date` accepts RFC 3339 text.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// Decodes a value; errors carry the JSON pointer of the failing value.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONDecodingError) -> T {
        do {
            return try withExtendedLifetime(value) {
                try RawDecoder(raw: value.raw, codingPath: []).decode(type)
            }
        } catch let error as DecodingError {
            throw JSONDecodingError(error)
        } catch {
            throw JSONDecodingError(pointer: "", message: "\(error)")
        }
    }
}

extension JSONDecodingError {
    init(_ error: DecodingError) {
        func pointer(_ path: [any CodingKey]) -> String {
            path.map { "/" + JSONPointer.escape($0.stringValue) }.joined()
        }
        switch error {
        case .typeMismatch(let type, let context):
            self.init(
                pointer: pointer(context.codingPath),
                message: "expected \(Self.name(of: type)): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            self.init(pointer: pointer(context.codingPath), message: "expected \(Self.name(of: type)), found null")
        case .keyNotFound(let key, let context):
            self.init(
                pointer: pointer(context.codingPath + [key]), message: "required member '\(key.stringValue)' is missing"
            )
        case .dataCorrupted(let context):
            self.init(pointer: pointer(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(pointer: "", message: "\(error)")
        }
    }

    static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default: "\(type)"
        }
    }
}

/// Reads one borrowed jansson value; the root `JSONValue` keeps the tree alive.
struct RawDecoder: Decoder {
    let raw: UnsafeMutablePointer<json_t>
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var kind: JSONValue.Kind { JSONValue.kind(of: raw) }

    func mismatch(_ type: Any.Type) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "found \(describe(kind))"))
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type:
            guard let s = JSONValue.string(of: raw) else { throw mismatch(type) }
            return s as! T
        case is Bool.Type:
            guard kind == .bool else { throw mismatch(type) }
            return (cjansson_typeof(raw) == Int32(JSON_TRUE.rawValue)) as! T
        case is Int.Type:
            guard let i = JSONValue.int(of: raw), let v = Int(exactly: i) else { throw mismatch(type) }
            return v as! T
        case is Int64.Type:
            guard let i = JSONValue.int(of: raw) else { throw mismatch(type) }
            return i as! T
        case is Double.Type:
            guard kind == .integer || kind == .real else { throw mismatch(type) }
            return json_number_value(raw) as! T
        case is Date.Type:
            guard let s = JSONValue.string(of: raw) else { throw mismatch(type) }
            guard let date = parseRFC3339(s) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: codingPath, debugDescription: "'\(s)' is not an RFC 3339 date-time"))
            }
            return date as! T
        case is JSONValue.Type:
            return JSONValue(borrowing: raw) as! T
        default:
            return try T(from: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard kind == .object else { throw mismatch([String: Any].self) }
        return KeyedDecodingContainer(KeyedRawDecoding<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard kind == .array else { throw mismatch([Any].self) }
        return UnkeyedRawDecoding(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleRawDecoding(decoder: self) }
}

func describe(_ kind: JSONValue.Kind) -> String {
    switch kind {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .integer: "an integer"
    case .real: "a number"
    case .bool: "a boolean"
    case .null: "null"
    }
}

/// Parses an RFC 3339 date-time (any valid offset, any fraction, leap second as the next second).
func parseRFC3339(_ text: String) -> Date? {
    guard Formats.isDateTime(text) else { return nil }
    let u = Array(text.utf8)
    func number(_ from: Int, _ count: Int) -> Int { u[from..<(from + count)].reduce(0) { $0 * 10 + Int($1 - 48) } }
    let (year, month, day) = (number(0, 4), number(5, 2), number(8, 2))
    let (hour, minute, second) = (number(11, 2), number(14, 2), number(17, 2))
    var i = 19
    var fraction = 0.0
    if u[i] == UInt8(ascii: ".") {
        var scale = 0.1
        i += 1
        while i < u.count, u[i] >= 48, u[i] <= 57 {
            fraction += Double(u[i] - 48) * scale
            scale /= 10
            i += 1
        }
    }
    var offset = 0
    if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
        offset = (u[i] == UInt8(ascii: "+") ? 1 : -1) * (number(i + 1, 2) * 3600 + number(i + 4, 2) * 60)
    }
    // Days from 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146097 + doe - 719468
    let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    return Date(timeIntervalSince1970: Double(seconds) + fraction)
}

struct KeyedRawDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: RawDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { JSONValue(borrowing: decoder.raw).keys.compactMap(Key.init(stringValue:)) }

    private func member(_ key: Key) -> UnsafeMutablePointer<json_t>? {
        JSONValue.member(of: decoder.raw, key.stringValue)
    }

    func contains(_ key: Key) -> Bool { member(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let raw = member(key) else { return true }
        return JSONValue.kind(of: raw) == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let raw = member(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        if JSONValue.kind(of: raw) == .null && !(T.self is JSONValue.Type) {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [key], debugDescription: "null"))
        }
        if let value = Self.leaf(type, raw) { return value }
        return try RawDecoder(raw: raw, codingPath: codingPath + [key]).decode(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let raw = member(key), JSONValue.kind(of: raw) != .null else { return nil }
        if let value = Self.leaf(type, raw) { return value }
        return try RawDecoder(raw: raw, codingPath: codingPath + [key]).decode(type)
    }

    /// A string, integer or boolean member that has that type, read without a nested decoder
    /// (whose coding path costs an array); nil for anything else, which the nested decoder
    /// decodes or refuses as before.
    @inline(__always)
    static func leaf<T>(_ type: T.Type, _ raw: UnsafeMutablePointer<json_t>) -> T? {
        if T.self == String.self, let s = JSONValue.string(of: raw) { return unsafeBitCast(s, to: T.self) }
        if T.self == Int.self, let i = JSONValue.int(of: raw), let v = Int(exactly: i) {
            return unsafeBitCast(v, to: T.self)
        }
        if T.self == Bool.self, JSONValue.kind(of: raw) == .bool {
            return unsafeBitCast(cjansson_typeof(raw) == Int32(JSON_TRUE.rawValue), to: T.self)
        }
        return nil
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        guard let raw = member(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return try RawDecoder(raw: raw, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let raw = member(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return try RawDecoder(raw: raw, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        RawDecoder(raw: member(key) ?? json_null(), codingPath: codingPath + [key])
    }
}

struct UnkeyedRawDecoding: UnkeyedDecodingContainer {
    let decoder: RawDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { json_array_size(decoder.raw) }
    var isAtEnd: Bool { currentIndex >= count! }
    var currentIndex = 0

    init(decoder: RawDecoder) { self.decoder = decoder }

    private mutating func next<T>(_ type: T.Type) throws -> RawDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type,
                .init(
                    codingPath: codingPath + [IndexKey(currentIndex)],
                    debugDescription: "the array has no more elements"))
        }
        defer { currentIndex += 1 }
        return RawDecoder(
            raw: json_array_get(decoder.raw, currentIndex)!, codingPath: codingPath + [IndexKey(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, JSONValue.kind(of: json_array_get(decoder.raw, currentIndex)!) == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let element = try next(type)
        if element.kind == .null && !(T.self is JSONValue.Type) {
            throw DecodingError.valueNotFound(type, .init(codingPath: element.codingPath, debugDescription: "null"))
        }
        return try element.decode(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        try next(type).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([Any].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next(Any.self) }
}

struct SingleRawDecoding: SingleValueDecodingContainer {
    let decoder: RawDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.kind == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if decoder.kind == .null && !(T.self is JSONValue.Type) {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "null"))
        }
        return try decoder.decode(type)
    }
}
