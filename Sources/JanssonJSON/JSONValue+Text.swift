internal import CJansson

#if canImport(Glibc)
    import Glibc
#endif

/// Why bytes are not valid JSON, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the error.
    public var line: Int
    /// 1-based column, in characters.
    public var column: Int
    /// 0-based byte offset.
    public var offset: Int
    /// What jansson found wrong.
    public var message: String
    /// What kind of error it is.
    public var reason: Reason

    /// The kinds of parse error.
    public enum Reason: Sendable, Equatable {
        case syntax, invalidUTF8, prematureEnd, trailingData, duplicateKey, numberOutOfRange, nulCharacter
        case nestingTooDeep, other
    }

    public var description: String { "\(message) at line \(line), column \(column) (byte \(offset))" }
}

/// How to parse JSON text.
public struct JSONParseOptions: Sendable, Equatable {
    /// Refuse an object with the same key twice (default keeps the last value).
    public var rejectDuplicateKeys = false
    /// Allow `\u0000` inside strings.
    public var allowNUL = false
    /// Allow a top-level scalar (`42`, `"x"`); otherwise only an object or array.
    public var allowScalars = true

    public init(rejectDuplicateKeys: Bool = false, allowNUL: Bool = false, allowScalars: Bool = true) {
        self.rejectDuplicateKeys = rejectDuplicateKeys
        self.allowNUL = allowNUL
        self.allowScalars = allowScalars
    }

    var flags: Int {
        (rejectDuplicateKeys ? Int(JSON_REJECT_DUPLICATES) : 0) | (allowNUL ? Int(JSON_ALLOW_NUL) : 0)
            | (allowScalars ? Int(JSON_DECODE_ANY) : 0)
    }
}

/// How to write JSON text.
public struct JSONWriteOptions: Sendable, Equatable {
    /// Indent by two spaces and break lines; default is compact, on one line with no newline.
    public var pretty = false
    /// Sort object keys (stable output for golden files).
    public var sortKeys = false

    public init(pretty: Bool = false, sortKeys: Bool = false) {
        self.pretty = pretty
        self.sortKeys = sortKeys
    }

    /// Compact, in document order.
    public static let compact = JSONWriteOptions()

    var flags: Int {
        Int(JSON_ENCODE_ANY) | (pretty ? Int(cjansson_indent(2)) : Int(JSON_COMPACT))
            | (sortKeys ? Int(JSON_SORT_KEYS) : 0) | Int(cjansson_real_precision(17))
    }
}

extension JSONValue {
    /// Parses UTF-8 JSON text.
    public static func parse(_ bytes: some Collection<UInt8>, options: JSONParseOptions = JSONParseOptions())
        throws(JSONParseError) -> JSONValue
    {
        if let result = bytes.withContiguousStorageIfAvailable({
            parse(buffer: UnsafeRawBufferPointer($0), options: options)
        }) {
            return try result.get()
        }
        return try Array(bytes).withUnsafeBytes { parse(buffer: $0, options: options) }.get()
    }

    /// Parses UTF-8 JSON text in a string.
    public static func parse(_ text: String, options: JSONParseOptions = JSONParseOptions()) throws(JSONParseError)
        -> JSONValue
    {
        try parse(Array(text.utf8), options: options)
    }

    /// Parses the bytes of a buffer without copying them.
    public static func parse(buffer: UnsafeRawBufferPointer, options: JSONParseOptions) -> Result<
        JSONValue, JSONParseError
    > {
        var error = json_error_t()
        let base = buffer.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer<CChar>(bitPattern: 1)!
        guard let raw = json_loadb(base, buffer.count, options.flags, &error) else {
            return .failure(JSONParseError(error))
        }
        return .success(JSONValue(owning: raw))
    }

    /// The value as JSON text (UTF-8).
    public func serialized(_ options: JSONWriteOptions = .compact) -> [UInt8] {
        // One pass: json_dumps builds the text once (json_dumpb would need a sizing pass first).
        guard let text = json_dumps(raw, options.flags) else { return [] }
        defer { free(text) }
        let length = strlen(text)
        return text.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }

    /// Appends the value as JSON text (UTF-8) to `buffer`, the same bytes as ``serialized(_:)``
    /// without a copy of its own: a buffer kept across calls is reused.
    public func serialize(appendingTo buffer: inout [UInt8], _ options: JSONWriteOptions = .compact) {
        // jansson hands the text over token by token; a C sink collects it (a memcpy per token),
        // and it is appended here in one copy.
        var text = cjansson_text(bytes: nil, count: 0, capacity: 0)
        defer { free(text.bytes) }
        _ = json_dump_callback(raw, cjansson_append, &text, options.flags)
        guard let bytes = text.bytes else { return }
        bytes.withMemoryRebound(to: UInt8.self, capacity: text.count) {
            buffer.append(contentsOf: UnsafeBufferPointer(start: $0, count: text.count))
        }
    }

    /// The value as JSON text.
    public func text(_ options: JSONWriteOptions = .compact) -> String {
        String(decoding: serialized(options), as: UTF8.self)
    }
}

extension JSONParseError {
    init(_ error: json_error_t) {
        var copy = error
        let message = withUnsafeBytes(of: &copy.text) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let reason: Reason =
            switch UInt32(cjansson_error_code(&copy)) {
            case json_error_invalid_syntax.rawValue, json_error_invalid_format.rawValue, json_error_wrong_type.rawValue:
                .syntax
            case json_error_invalid_utf8.rawValue: .invalidUTF8
            case json_error_premature_end_of_input.rawValue: .prematureEnd
            case json_error_end_of_input_expected.rawValue: .trailingData
            case json_error_duplicate_key.rawValue: .duplicateKey
            case json_error_numeric_overflow.rawValue: .numberOutOfRange
            case json_error_null_character.rawValue, json_error_null_byte_in_key.rawValue: .nulCharacter
            case json_error_stack_overflow.rawValue: .nestingTooDeep
            default: .other
            }
        self.init(
            line: Int(error.line), column: Int(error.column), offset: Int(error.position), message: message,
            reason: reason)
    }
}
