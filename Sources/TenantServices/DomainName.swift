import Foundation
import HostNames

/// Validation and normalization of mail domain names.
///
/// Names go through UTS #46 (non-transitional) and IDNA 2008 with libidn2 (module `HostNames`),
/// so every spelling of a name has one stored form: full-width letters and dots are mapped
/// (`ｍｕｓｔｅｒ.ch` is `muster.ch`), letters are lower-cased and composed (NFC), `ß` is kept,
/// and internationalized labels are stored as A-labels (`xn--…`). Then the rules of a mail
/// domain apply: labels 1–63 letters, digits and hyphens, at least two labels, an alphabetic
/// top-level label, at most 253 characters.
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
        let text = raw.trimming(.spaces)
        guard !text.isEmpty else { throw fail("the name is empty") }
        if let control = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            throw fail("it contains the control character U+\(String(control.value, radix: 16, uppercase: true))")
        }
        var ascii: String
        do {
            ascii = try HostName.toASCII(text)
        } catch {
            throw fail(error.reason)
        }
        if ascii.hasSuffix(".") { ascii.removeLast() }
        let labels = ascii.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count >= 2 else { throw fail("a mail domain needs at least two labels, such as 'example.ch'") }
        for label in labels {
            guard !label.isEmpty else { throw fail("it has an empty label (two dots in a row or a leading dot)") }
            guard label.count <= 63 else { throw fail("label '\(label)' is longer than 63 characters") }
            guard
                label.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                })
            else {
                throw fail("label '\(label)' may contain only letters, digits and hyphens")
            }
            guard !label.hasPrefix("-"), !label.hasSuffix("-") else {
                throw fail("label '\(label)' starts or ends with a hyphen")
            }
            if label.count >= 4, label.dropFirst(2).hasPrefix("--") {
                guard label.hasPrefix("xn--") else {
                    throw fail("label '\(label)' has '--' in the third and fourth position, reserved for punycode")
                }
                guard HostName.isValidALabel(label) else {
                    throw fail("label '\(label)' is not a valid internationalized label (IDNA 2008)")
                }
            }
        }
        guard ascii.count <= 253 else { throw fail("the name is longer than 253 characters") }
        let tld = labels.last!
        guard tld.hasPrefix("xn--") || tld.allSatisfy({ $0.isLetter }), tld.count >= 2 else {
            throw fail("the top-level label '\(tld)' must be alphabetic and at least two characters long")
        }
        return ascii
    }
}
