import HostNames

/// Format assertions for the formats our schemas use (RFC 3339, RFC 5321, RFC 1123, RFC 5890, RFC 4291, RFC 4122).
enum Formats {
    static let checks: [String: @Sendable (String) -> Bool] = [
        "date": isDate, "date-time": isDateTime, "time": isTime, "email": isEmail, "hostname": isHostname,
        "idn-hostname": isIDNHostname, "ipv4": isIPv4, "ipv6": isIPv6, "uuid": isUUID,
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

    /// RFC 1123 host names; A-labels are checked by libidn2 (IDNA 2008).
    static func isHostname(_ text: String) -> Bool { HostName.isHostname(text) }

    /// Internationalized host names (RFC 5890): U-labels and A-labels checked by libidn2.
    static func isIDNHostname(_ text: String) -> Bool { HostName.isIDNHostname(text) }

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
            // All ASCII once the bytes are atext or dots, so two dots in a row are two bytes.
            guard local.first != ".", local.last != ".",
                local.utf8.allSatisfy({ isAtext($0) || $0 == UInt8(ascii: ".") }),
                !zip(local.utf8, local.utf8.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == $0 })
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

    /// RFC 5322 `atext`: letters, digits and ``!#$%&'*+/=?^_`{|}~-``, as a bitmap of ASCII.
    private static let atext: (UInt64, UInt64) = {
        var bits: (UInt64, UInt64) = (0, 0)
        for b in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-".utf8 {
            if b < 64 { bits.0 |= 1 << UInt64(b) } else { bits.1 |= 1 << UInt64(b - 64) }
        }
        return bits
    }()

    private static func isAtext(_ b: UInt8) -> Bool {
        b < 64 ? atext.0 & (1 << UInt64(b)) != 0 : b < 128 && atext.1 & (1 << UInt64(b - 64)) != 0
    }

    static func isUUID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
