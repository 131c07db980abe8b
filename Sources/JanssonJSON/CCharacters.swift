internal import CJansson

// The glue between Swift strings and jansson's counted C strings, which may hold NUL.

extension String {
    /// Calls `body` with the string's UTF-8 bytes as C characters and their count (NUL bytes
    /// included, no terminator counted); the pointer is valid, also for the empty string, only
    /// during the call.
    func withCCharacters<Result>(_ body: (UnsafePointer<CChar>, Int) -> Result) -> Result {
        var text = self
        return text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                if let base = chars.baseAddress { return body(base, chars.count) }
                var nul: CChar = 0
                return withUnsafePointer(to: &nul) { body($0, 0) }
            }
        }
    }

    /// The string of `count` UTF-8 bytes at `chars` (which may hold NUL); invalid UTF-8 is repaired.
    init(cCharacters chars: UnsafePointer<CChar>, count: Int) {
        self = chars.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }
}

extension JSONValue {
    /// A new jansson string (a reference the caller owns); the string may hold NUL.
    static func newString(_ string: String) -> UnsafeMutablePointer<json_t> {
        string.withCCharacters { json_stringn_nocheck($0, $1) }!
    }
}
