/// Format assertions for the formats our schemas use (RFC 3339, RFC 5321, RFC 1123, RFC 4291, RFC 4122).
enum Formats {
    static let checks: [String: @Sendable (String) -> Bool] = [
        "date": isDate, "date-time": isDateTime, "time": isTime, "email": isEmail, "hostname": isHostname,
        "ipv4": isIPv4, "ipv6": isIPv6, "uuid": isUUID,
    ]

    private static func digits(_ s: Substring, _ n: Int) -> Int? {
        guard s.count == n, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(s)
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let y = digits(parts[0], 4), let m = digits(parts[1], 2), let d = digits(parts[2], 2),
            (1...12).contains(m)
        else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return (1...days).contains(d)
    }

    static func isTime(_ text: String) -> Bool {
        let s = Substring(text)
        guard s.count >= 9 else { return false }
        let hh = s.prefix(2)
        let rest1 = s.dropFirst(2)
        guard rest1.first == ":", let h = digits(hh, 2) else { return false }
        let mm = rest1.dropFirst().prefix(2)
        let rest2 = rest1.dropFirst(3)
        guard rest2.first == ":", let m = digits(mm, 2) else { return false }
        let ss = rest2.dropFirst().prefix(2)
        var rest = rest2.dropFirst(3)
        guard let sec = digits(ss, 2), h <= 23, m <= 59, sec <= 60 else { return false }
        if rest.first == "." {
            rest = rest.dropFirst()
            let fraction = rest.prefix { $0.isASCII && $0.isNumber }
            guard !fraction.isEmpty else { return false }
            rest = rest.dropFirst(fraction.count)
        }
        var offsetMinutes = 0
        if rest == "Z" || rest == "z" {
            offsetMinutes = 0
        } else {
            guard rest.count == 6, let sign = rest.first, sign == "+" || sign == "-",
                let oh = digits(rest.dropFirst().prefix(2), 2), rest.dropFirst(3).first == ":",
                let om = digits(rest.suffix(2), 2), oh <= 23, om <= 59
            else { return false }
            offsetMinutes = (sign == "+" ? 1 : -1) * (oh * 60 + om)
        }
        if sec == 60 {
            let utc = ((h * 60 + m - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    static func isDateTime(_ text: String) -> Bool {
        guard let t = text.firstIndex(where: { $0 == "T" || $0 == "t" }) else { return false }
        return isDate(String(text[..<t])) && isTime(String(text[text.index(after: t)...]))
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    part.count == 1 || part.first != "0", let v = Int(part)
                else { return false }
                return v <= 255
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        guard text.allSatisfy({ $0.isASCII }), !text.isEmpty else { return false }
        var body = text
        let groupsNeeded = 8
        if let lastColon = body.lastIndex(of: ":"), body[body.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(body[body.index(after: lastColon)...])) else { return false }
            body = String(body[...lastColon]) + "0:0"
        }
        let halves = body.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return false }
        func groups(_ s: String) -> [Substring]? {
            if s.isEmpty { return [] }
            let g = s.split(separator: ":", omittingEmptySubsequences: false)
            return g.allSatisfy { (1...4).contains($0.count) && $0.allSatisfy(\.isHexDigit) } ? g : nil
        }
        if halves.count == 2 {
            guard let a = groups(halves[0]), let b = groups(halves[1]) else { return false }
            return a.count + b.count <= groupsNeeded - 1
        }
        guard let g = groups(halves[0]) else { return false }
        return g.count == groupsNeeded
    }

    static func isHostname(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                label.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") })
            else { return false }
            let lower = String(decoding: label, as: UTF8.self).lowercased()
            guard lower.utf8.count >= 4, lower.utf8.dropFirst(2).starts(with: "--".utf8) else { return true }
            guard lower.hasPrefix("xn--"), let unicode = Punycode.decode(lower.dropFirst(4)) else { return false }
            return isValidULabel(unicode)
        }
    }

    private static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
    }

    /// The IDNA 2008 rules (RFC 5891, RFC 5892 contextual rules) that a decoded A-label must follow.
    static func isValidULabel(_ scalars: [Unicode.Scalar]) -> Bool {
        guard let first = scalars.first else { return false }
        if scalars.count >= 4, scalars[2] == "-", scalars[3] == "-" { return false }
        if [.nonspacingMark, .spacingMark, .enclosingMark].contains(first.properties.generalCategory) { return false }
        let disallowed: Set<UInt32> = [0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303B]
        func inRanges(_ s: Unicode.Scalar, _ ranges: [ClosedRange<UInt32>]) -> Bool {
            ranges.contains { $0.contains(s.value) }
        }
        let greek: [ClosedRange<UInt32>] = [0x0370...0x03FF, 0x1F00...0x1FFF]
        let hebrew: [ClosedRange<UInt32>] = [0x0590...0x05FF, 0xFB1D...0xFB4F]
        let japanese: [ClosedRange<UInt32>] = [
            0x3040...0x309F, 0x30A0...0x30FA, 0x30FC...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF,
            0x20000...0x2FFFF,
        ]
        let arabicIndic = scalars.contains { (0x0660...0x0669).contains($0.value) }
        let extendedArabicIndic = scalars.contains { (0x06F0...0x06F9).contains($0.value) }
        if arabicIndic && extendedArabicIndic { return false }
        for (i, s) in scalars.enumerated() {
            let before = i > 0 ? scalars[i - 1] : nil
            let after = i + 1 < scalars.count ? scalars[i + 1] : nil
            if disallowed.contains(s.value) { return false }
            switch s.value {
            case 0x00B7: if before != "l" || after != "l" { return false }
            case 0x0375: if after.map({ !inRanges($0, greek) }) ?? true { return false }
            case 0x05F3, 0x05F4: if before.map({ !inRanges($0, hebrew) }) ?? true { return false }
            case 0x30FB: if !scalars.contains(where: { inRanges($0, japanese) }) { return false }
            case 0x200D: if before?.properties.canonicalCombiningClass != .virama { return false }
            case 0x200C:
                // Virama before, or (approximating the joining-type regexp of RFC 5892 A.1) joining letters on both sides.
                let joining: [ClosedRange<UInt32>] = [
                    0x0620...0x064A, 0x066E...0x06D3, 0x0710...0x074F, 0x0750...0x077F,
                ]
                let joined = before.map { inRanges($0, joining) } == true && after.map { inRanges($0, joining) } == true
                if before?.properties.canonicalCombiningClass != .virama && !joined { return false }
            default: break
            }
        }
        return true
    }

    static func isEmail(_ text: String) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty else { return false }
        if local.hasPrefix("\"") {
            guard local.count >= 2, local.hasSuffix("\"") else { return false }
            var escaped = false
            for ch in local.dropFirst().dropLast() {
                if escaped {
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else if ch == "\"" {
                    return false
                }
            }
            if escaped { return false }
        } else {
            guard local.first != ".", local.last != ".", !local.contains(".."),
                local.utf8.allSatisfy({ atext.contains($0) || $0 == UInt8(ascii: ".") })
            else { return false }
        }
        if domain.hasPrefix("[") {
            guard domain.hasSuffix("]") else { return false }
            let literal = domain.dropFirst().dropLast()
            if literal.lowercased().hasPrefix("ipv6:") { return isIPv6(String(literal.dropFirst(5))) }
            return isIPv4(String(literal))
        }
        return isHostname(String(domain))
    }

    private static let atext = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-".utf8)

    static func isUUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}

/// RFC 3492 punycode decoding of one label (without the `xn--` prefix).
enum Punycode {
    static func decode(_ input: Substring) -> [Unicode.Scalar]? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        var output: [Unicode.Scalar] = []
        var rest = Substring(input)
        if let dash = input.lastIndex(of: "-") {
            for ch in input[..<dash] {
                guard ch.isASCII, let s = ch.unicodeScalars.first else { return nil }
                output.append(s)
            }
            rest = input[input.index(after: dash)...]
        }
        guard !rest.isEmpty || !output.isEmpty else { return nil }
        var n = 128, i = 0, bias = 72
        var digits = rest.makeIterator()
        func digit(_ c: Character) -> Int? {
            guard let a = c.asciiValue else { return nil }
            switch a {
            case 97...122: return Int(a) - 97
            case 65...90: return Int(a) - 65
            case 48...57: return Int(a) - 22
            default: return nil
            }
        }
        func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
            var delta = first ? delta / damp : delta / 2
            delta += delta / count
            var k = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * delta / (delta + skew)
        }
        while let c = digits.next() {
            let oldI = i
            var w = 1
            var k = base
            var ch: Character? = c
            while true {
                guard let current = ch, let d = digit(current) else { return nil }
                guard d <= (Int.max - i) / w else { return nil }
                i += d * w
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                w *= base - t
                k += base
                ch = digits.next()
            }
            bias = adapt(i - oldI, output.count + 1, oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard let scalar = Unicode.Scalar(UInt32(clamping: n)) else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return output
    }
}
