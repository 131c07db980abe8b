// Foundation for the one search that keeps its semantics (`contains(" ")` on non-ASCII text).
import Foundation

/// Trimming of white space without Foundation's `NSString` path: the same results as
/// `trimmingCharacters(in: .whitespaces)` and `trimmingCharacters(in: .whitespacesAndNewlines)`
/// (their sets, scalar by scalar, from both ends), a test holds the two together for every
/// Unicode scalar. A text with nothing to trim is returned as it is.
enum Whitespace {
    /// Foundation's `CharacterSet.whitespaces`: tab, and the space separators of its tables
    /// (which still count U+200B).
    case spaces
    /// Foundation's `CharacterSet.whitespacesAndNewlines`: also U+000A–U+000D, U+0085 and the
    /// line and paragraph separators.
    case spacesAndNewlines

    /// Whether the scalar is in the set.
    @inline(__always)
    func contains(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 {
            if v == 0x20 || v == 0x09 { return true }
            return self == .spacesAndNewlines && (0x0A...0x0D).contains(v)
        }
        switch v {
        case 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: return true
        case 0x85, 0x2028, 0x2029: return self == .spacesAndNewlines
        default: return false
        }
    }
}

extension String {
    /// The text without the scalars of `set` at its start and end.
    func trimming(_ set: Whitespace) -> String {
        let scalars = unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, set.contains(scalars[start]) { start = scalars.index(after: start) }
        while start < end {
            let last = scalars.index(before: end)
            guard set.contains(scalars[last]) else { break }
            end = last
        }
        if start == scalars.startIndex && end == scalars.endIndex { return self }
        return String(scalars[start..<end])
    }
}

extension String {
    /// Foundation's `contains(" ")`: for ASCII text a scan of the bytes (a space there never
    /// starts a composed character sequence), else Foundation's search, which does not find a
    /// space that a combining mark follows.
    var containsSpace: Bool {
        let bytes = utf8
        if !bytes.contains(where: { $0 >= 0x80 }) { return bytes.contains(UInt8(ascii: " ")) }
        return contains(" ")
    }
}
