import CIDN2

/// Host names through GNU libidn2 (IDNA 2008, UTS #46 non-transitional processing): the one place
/// that knows internationalized domain names, used by the domain library and by the JSON layer's
/// `hostname` and `idn-hostname` formats.
public enum HostName {
    /// Why a name could not be processed: libidn2's reason, naming the label when it is known.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// The ASCII form of a name for lookup: UTS #46 mapping (non-transitional: full-width and
    /// other compatibility forms mapped, lower-cased, NFC; `ß` kept), then IDNA 2008 checks and
    /// Punycode for every non-ASCII label (`ｍｕｓｔｅｒ.ch` → `muster.ch`, `bücher.de` →
    /// `xn--bcher-kva.de`).
    ///
    /// ASCII labels are passed through as they are (lower-cased): the caller checks the
    /// letters-digits-hyphens rule, label lengths and dots. A-labels are checked further with
    /// ``isValidALabel(_:)``.
    public static func toASCII(_ name: String) throws(Invalid) -> String {
        guard !name.utf8.contains(0) else { throw Invalid(reason: "the name contains a NUL character") }
        switch lookup(name) {
        case .success(let ascii):
            return ascii
        case .failure(let whole):
            // Name the first label that fails on its own, else give the reason for the whole name.
            for label in name.split(whereSeparator: { dots.contains($0) }) {
                if case .failure(let reason) = lookup(String(label)) {
                    throw Invalid(reason: "label '\(label)' \(reason)")
                }
            }
            throw Invalid(reason: "it \(whole)")
        }
    }

    /// Whether an ASCII label of the form `xn--…` (any case) is a valid A-label under IDNA 2008:
    /// valid Punycode that decodes to a U-label whose code points are allowed, that satisfies the
    /// contextual rules (RFC 5892) and the hyphen rules, and that encodes back to the same label.
    public static func isValidALabel(_ label: some StringProtocol) -> Bool {
        let lower = label.lowercased()
        guard lower.hasPrefix("xn--"), !lower.utf8.contains(0) else { return false }
        var output: UnsafeMutablePointer<UInt8>?
        let rc = lower.withCString { alabel in
            alabel.withMemoryRebound(to: UInt8.self, capacity: lower.utf8.count + 1) {
                idn2_register_u8(nil, $0, &output, 0)
            }
        }
        idn2_free(output)
        return rc == IDN2_OK.rawValue
    }

    /// Whether a U-label (a label with non-ASCII characters) may be registered under IDNA 2008
    /// (RFC 5891 §4: code points, contextual rules, hyphens, leading combining marks, length of
    /// its A-label).
    public static func isValidULabel(_ label: some StringProtocol) -> Bool {
        let text = String(label)
        guard !text.utf8.contains(0) else { return false }
        var output: UnsafeMutablePointer<UInt8>?
        let rc = text.withCString { ulabel in
            ulabel.withMemoryRebound(to: UInt8.self, capacity: text.utf8.count + 1) {
                idn2_register_u8($0, nil, &output, Int32(IDN2_NFC_INPUT.rawValue))
            }
        }
        idn2_free(output)
        return rc == IDN2_OK.rawValue
    }

    /// JSON Schema's `hostname` (RFC 1123): at most 253 characters of labels of 1–63 letters,
    /// digits and hyphens, no hyphen first or last; a label with `--` in the third and fourth
    /// position must be a valid A-label.
    public static func isHostname(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        // Label by label, without an array of them (an empty label after a final dot included).
        var start = bytes.startIndex
        while true {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ".")) ?? bytes.endIndex
            guard isASCIILabel(bytes[start..<end]) else { return false }
            if end == bytes.endIndex { return true }
            start = bytes.index(after: end)
        }
    }

    /// JSON Schema's `idn-hostname` (RFC 5890): labels separated by any of the four IDNA dots,
    /// each an ASCII label as for ``isHostname(_:)`` or a U-label that may be registered; at most
    /// 253 characters in ASCII form.
    public static func isIDNHostname(_ text: String) -> Bool {
        guard !text.isEmpty, !text.utf8.contains(0) else { return false }
        var asciiLength = -1
        for label in text.split(omittingEmptySubsequences: false, whereSeparator: { dots.contains($0) }) {
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                guard isASCIILabel(label.utf8) else { return false }
                asciiLength += 1 + label.utf8.count
            } else {
                guard isValidULabel(label), case .success(let ascii) = lookup(String(label)) else { return false }
                asciiLength += 1 + ascii.utf8.count
            }
        }
        return asciiLength <= 253
    }

    // MARK: libidn2

    /// The label separators UTS #46 and RFC 3490 recognize: full stop, ideographic full stop,
    /// full-width full stop, half-width ideographic full stop.
    static let dots: Set<Character> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]

    private static func isASCIILabel(_ label: some BidirectionalCollection<UInt8>) -> Bool {
        guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
            label.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") })
        else { return false }
        let text = String(decoding: label, as: UTF8.self)
        guard text.utf8.count >= 4, text.utf8.dropFirst(2).starts(with: "--".utf8) else { return true }
        return isValidALabel(text)
    }

    private static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
    }

    /// `idn2_lookup_u8` with non-transitional UTS #46 processing; the failure is libidn2's reason.
    private static func lookup(_ name: String) -> Result<String, Invalid> {
        var output: UnsafeMutablePointer<UInt8>?
        let rc = name.withCString { input in
            input.withMemoryRebound(to: UInt8.self, capacity: name.utf8.count + 1) {
                idn2_lookup_u8($0, &output, Int32(IDN2_NONTRANSITIONAL.rawValue))
            }
        }
        defer { idn2_free(output) }
        guard rc == IDN2_OK.rawValue, let output else {
            return .failure(Invalid(reason: reason(rc)))
        }
        return .success(String(cString: output))
    }

    /// libidn2's reason for a return code, phrased to follow "it" or "label 'x'".
    private static func reason(_ rc: Int32) -> String {
        switch rc {
        case IDN2_DISALLOWED.rawValue: "contains a character that is not allowed in a host name"
        case IDN2_LEADING_COMBINING.rawValue: "starts with a combining mark"
        case IDN2_2HYPHEN.rawValue: "has '--' in the third and fourth position, reserved for punycode ('xn--')"
        case IDN2_PUNYCODE_BAD_INPUT.rawValue, IDN2_INVALID_ALABEL.rawValue, IDN2_ALABEL_ROUNDTRIP_FAILED.rawValue:
            "is not valid punycode"
        case IDN2_TOO_BIG_LABEL.rawValue: "is longer than 63 characters in its ASCII form"
        case IDN2_TOO_BIG_DOMAIN.rawValue: "is longer than 253 characters in its ASCII form"
        case IDN2_BIDI.rawValue: "mixes right-to-left and left-to-right characters in a way IDNA 2008 forbids"
        case IDN2_CONTEXTJ.rawValue, IDN2_CONTEXTO.rawValue:
            "uses a joiner or punctuation character outside the context IDNA 2008 allows"
        case IDN2_UNASSIGNED.rawValue: "contains a character not assigned in Unicode"
        case IDN2_ENCODING_ERROR.rawValue: "is not valid UTF-8"
        default: "is not a valid host name (\(String(cString: idn2_strerror(rc))))"
        }
    }
}
