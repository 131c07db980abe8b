import Foundation

/// Validation and normalization of mail domain names.
///
/// Names are stored lower-case, internationalized labels as punycode (`xn--…`). The mapping
/// step is the part of UTS #46 (non-transitional) that matters for mail domains: full-width
/// and ideographic dots become `.`, letters are lower-cased and composed (NFC), `ß` is kept.
public enum DomainName {
    /// Why a name is not a valid mail domain.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var reason: String
        public var description: String { "'\(name)' is not a valid domain name: \(reason)" }
    }

    /// The stored form of a domain name, or why it is invalid.
    public static func normalize(_ raw: String) throws(Invalid) -> String {
        func fail(_ reason: String) -> Invalid { Invalid(name: raw, reason: reason) }
        var text = raw.trimmingCharacters(in: .whitespaces)
        for dot in ["\u{3002}", "\u{FF0E}", "\u{FF61}"] { text = text.replacingOccurrences(of: dot, with: ".") }
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { throw fail("the name is empty") }
        text = text.lowercased().precomposedStringWithCanonicalMapping
        let labels = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count >= 2 else { throw fail("a mail domain needs at least two labels, such as 'example.ch'") }
        var encoded: [String] = []
        for label in labels {
            guard !label.isEmpty else { throw fail("it has an empty label (two dots in a row or a leading dot)") }
            let ascii: String
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                ascii = label
                if ascii.count >= 4, ascii.dropFirst(2).hasPrefix("--"), !ascii.hasPrefix("xn--") {
                    throw fail("label '\(label)' has '--' in the third and fourth position, reserved for punycode")
                }
            } else {
                for scalar in label.unicodeScalars where !scalar.isASCII {
                    switch scalar.properties.generalCategory {
                    case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark,
                        .decimalNumber, .titlecaseLetter, .uppercaseLetter:
                        continue
                    default:
                        throw fail("label '\(label)' contains '\(scalar)', which is not allowed in a host name")
                    }
                }
                if let first = label.unicodeScalars.first,
                    [.nonspacingMark, .spacingMark].contains(first.properties.generalCategory)
                {
                    throw fail("label '\(label)' starts with a combining mark")
                }
                ascii = "xn--" + Punycode.encode(label)
            }
            guard ascii.count <= 63 else { throw fail("label '\(label)' is longer than 63 characters") }
            guard
                ascii.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                })
            else {
                throw fail("label '\(label)' may contain only letters, digits and hyphens")
            }
            guard !ascii.hasPrefix("-"), !ascii.hasSuffix("-") else {
                throw fail("label '\(label)' starts or ends with a hyphen")
            }
            encoded.append(ascii)
        }
        let result = encoded.joined(separator: ".")
        guard result.count <= 253 else { throw fail("the name is longer than 253 characters") }
        let tld = encoded.last!
        guard tld.hasPrefix("xn--") || tld.allSatisfy({ $0.isLetter }), tld.count >= 2 else {
            throw fail("the top-level label '\(labels.last!)' must be alphabetic and at least two characters long")
        }
        return result
    }
}

/// RFC 3492 punycode encoding of one label.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    private static func digit(_ d: Int) -> Character {
        Character(UnicodeScalar(UInt8(d < 26 ? 97 + d : 22 + d)))
    }

    private static func adapt(_ delta: Int, _ numPoints: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    static func encode(_ input: String) -> String {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = String(input.unicodeScalars.filter(\.isASCII).map(Character.init))
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            let m = scalars.filter { $0 >= n }.min()!
            delta += (m - n) * (handled + 1)
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }
}
