import JanssonJSON

/// Numbers that JSON allows but the JSON engine cannot hold: integers beyond the 64-bit range
/// and reals beyond ±1.8e308. A message holding one is valid JSON, so it is no parse error (which
/// would be answered with a null id, and a client waiting for its request's id would wait for
/// ever). Before parsing, each such number is replaced by a marker string; the request that held
/// one is then refused with its own id.
enum OutOfRangeNumbers {
    /// The range this server reads, in words (for error messages).
    static let range =
        "integers from -9223372036854775808 to 9223372036854775807, reals up to about ±1.8e308"

    /// Stands for a number out of range in a marked message: a string no client can guess.
    static let marker: String = {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<4).map { _ in String(generator.next(), radix: 16) }.joined()
        return "\u{0}number-out-of-range:\(nonce)"
    }()

    /// `bytes` with each number out of range replaced by the ``marker`` string, or nil when it
    /// holds none. Numbers are found by a scan outside strings; if the bytes are not valid JSON,
    /// parsing the result fails as parsing them would.
    static func marking(_ bytes: [UInt8]) -> [UInt8]? {
        var marked: [UInt8] = []
        var copied = 0
        var strings = StringTracker()
        var i = 0
        let markerLiteral = Array(JSONValue(marker).serialized())
        while i < bytes.count {
            let b = bytes[i]
            if strings.isInsideString(b) || b == UInt8(ascii: "\"") {
                i += 1
                continue
            }
            guard b == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) else {
                i += 1
                continue
            }
            let start = i
            while i < bytes.count, isNumberByte(bytes[i]) { i += 1 }
            if isOutOfRange(bytes[start..<i]) {
                marked += bytes[copied..<start]
                marked += markerLiteral
                copied = i
            }
        }
        guard copied > 0 else { return nil }
        marked += bytes[copied...]
        return marked
    }

    /// JSON pointers of the markers in `value` (a request's params), in document order.
    static func paths(in value: JSONValue?, at path: String = "") -> [String] {
        guard let value else { return [] }
        switch value.kind {
        case .string:
            return value.stringValue == marker ? [path] : []
        case .array:
            return value.elements.enumerated().flatMap { paths(in: $0.element, at: path + "/\($0.offset)") }
        case .object:
            return value.members.flatMap { paths(in: $0.value, at: path + "/" + JSONPointer.escape($0.key)) }
        default:
            return []
        }
    }

    private static func isNumberByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default:
            return false
        }
    }

    /// Whether a number token is one the engine refuses as out of range (a malformed token is
    /// not: parsing refuses it as it would anyway).
    private static func isOutOfRange(_ token: ArraySlice<UInt8>) -> Bool {
        let text = String(decoding: token, as: UTF8.self)
        let isReal = token.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        if isReal {
            guard let real = Double(text) else { return false }
            return real.isInfinite
        }
        let digits = token.first == UInt8(ascii: "-") ? token.dropFirst() : token[...]
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return false
        }
        return Int64(text) == nil
    }
}
