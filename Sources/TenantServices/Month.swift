import Foundation

/// A calendar month, `YYYY-MM`.
public struct Month: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]),
            (1...12).contains(m)
        else { return nil }
        year = y
        month = m
    }

    init(_ date: CivilDate) {
        year = date.year
        month = date.month
    }

    public var description: String {
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + (month < 10 ? "-0" : "-") + String(month)
    }
    public var first: CivilDate { CivilDate(year: year, month: month, day: 1) }
    public var last: CivilDate { first.endOfMonth }

    public static func < (a: Month, b: Month) -> Bool { (a.year, a.month) < (b.year, b.month) }

    public init(from decoder: any Decoder) throws { try self.init(text: decoder, form: "a month YYYY-MM") }

    public func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }
}
