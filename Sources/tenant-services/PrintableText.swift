/// Text from a store made safe to print on a terminal: every control character (C0, DEL, C1) is
/// shown as `\u{…}` instead of being sent raw, so a name cannot move the cursor, change colours
/// or retitle the window.
///
/// - Parameter keepingLineBreaks: leaves CR and LF alone (for CSV, whose rows they end).
func printable(_ text: String, keepingLineBreaks: Bool = false) -> String {
    func isControl(_ s: Unicode.Scalar) -> Bool {
        guard s.value < 0x20 || (0x7F...0x9F).contains(s.value) else { return false }
        return !(keepingLineBreaks && (s == "\r" || s == "\n"))
    }
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        if isControl(scalar) {
            out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
        } else {
            out.append(scalar)
        }
    }
    return String(out)
}
