import Foundation
import Testing

@testable import TenantServices

/// `String.trimming(_:)` gives exactly Foundation's `trimmingCharacters(in:)` with
/// `.whitespaces` and `.whitespacesAndNewlines`, scalar for scalar.
@Suite struct WhitespaceTrimTests {
    static func foundation(_ text: String, _ set: Whitespace) -> String {
        text.trimmingCharacters(in: set == .spaces ? .whitespaces : .whitespacesAndNewlines)
    }

    /// Equal as scalars, not merely canonically equivalent (`==` on strings would be).
    static func same(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }

    @Test(arguments: [Whitespace.spaces, .spacesAndNewlines])
    func trimmingEqualsFoundationForEveryScalar(_ set: Whitespace) {
        var mismatches: [String] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let x = String(scalar)
            // Alone, at both ends, and behind trimmed spaces.
            for text in [x, x + "a" + x, " " + x + " "] where !Self.same(text.trimming(set), Self.foundation(text, set))
            {
                mismatches.append(String(value, radix: 16))
            }
        }
        #expect(mismatches.isEmpty, "differs at U+\(mismatches.prefix(20).joined(separator: ", U+"))")
    }

    /// Strings of spaces, line breaks, separators, combining marks, CR LF, astral and control
    /// characters, drawn with a fixed seed.
    @Test(arguments: [Whitespace.spaces, .spacesAndNewlines])
    func trimmingEqualsFoundationOnGeneratedStrings(_ set: Whitespace) {
        let tokens = [
            " ", "\t", "\n", "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{180E}", "\u{2000}",
            "\u{200A}", "\u{200B}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}", "\u{FEFF}", "\u{301}",
            "\u{20DD}", "e\u{301}", "é", "a", "Z", "0", "\u{0}", "\u{1F}", "\u{7F}", "\u{9F}", "\u{1F600}",
            "\u{1F1E8}\u{1F1ED}",
            "ß", "\u{10FFFF}",
        ]
        var random = SplitMix(seed: 0x7472_696D)
        for _ in 0..<20_000 {
            let text = (0..<random.int(0...8)).map { _ in random.pick(tokens) }.joined()
            let ours = text.trimming(set)
            let theirs = Self.foundation(text, set)
            #expect(
                Self.same(ours, theirs),
                "\(text.debugDescription): \(ours.debugDescription) ≠ \(theirs.debugDescription)")
            if !Self.same(ours, theirs) { return }
        }
    }
}

/// `String.containsSpace` is Foundation's `contains(" ")` (as `validated(Contact)` used it).
@Suite struct ContainsSpaceTests {
    @Test func equalsFoundationOnEveryASCIIPairAndGeneratedStrings() {
        let ascii = (0..<128).map { String(Unicode.Scalar(UInt8($0))) }
        for a in ascii {
            for b in ascii {
                let text = a + b
                #expect(text.containsSpace == text.contains(" "), "\(text.debugDescription)")
            }
        }
        let tokens = ascii + ["\u{301}", "é", "\u{A0}", "\u{1F600}", "\u{200B}", "\u{903}", "\u{600}", "\r\n"]
        var random = SplitMix(seed: 0x5350_4143)
        for _ in 0..<20_000 {
            let text = (0..<random.int(0...6)).map { _ in random.pick(tokens) }.joined()
            #expect(text.containsSpace == text.contains(" "), "\(text.debugDescription)")
        }
    }

    /// The search in play is Foundation's: a space before a combining mark is not found.
    @Test func aSpaceBeforeACombiningMarkIsNotFound() {
        #expect(!"a \u{301}b".containsSpace)
        #expect("a \u{301}b".unicodeScalars.contains(" "))
    }
}
