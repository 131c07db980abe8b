import Foundation

/// A calendar date (`YYYY-MM-DD`) without a time or zone.
public struct CivilDate: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`; nil when malformed or the day does not exist.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            (1...12).contains(m), (1...CivilDate.daysIn(year: y, month: m)).contains(d)
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }

    /// The first and the last date the portal handles (0001-01-01 … 9999-12-31); a given
    /// or computed date outside them is refused with `date-rule`.
    public static let earliest = CivilDate(year: 1, month: 1, day: 1)
    public static let latest = CivilDate(year: 9999, month: 12, day: 31)

    /// Whether the date lies within ``earliest`` … ``latest``.
    public var isRepresentable: Bool { self >= Self.earliest && self <= Self.latest }

    public static func < (a: Self, b: Self) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    /// Number of days in a month of the proleptic Gregorian calendar.
    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The last day of this date's month.
    public var endOfMonth: CivilDate { CivilDate(year: year, month: month, day: Self.daysIn(year: year, month: month)) }

    /// The date `n` days later (or earlier for negative `n`).
    public func adding(days n: Int) -> CivilDate {
        var date = self
        var left = n
        while left > 0 {
            if date.day < Self.daysIn(year: date.year, month: date.month) {
                date.day += 1
            } else if date.month < 12 {
                date = CivilDate(year: date.year, month: date.month + 1, day: 1)
            } else {
                date = CivilDate(year: date.year + 1, month: 1, day: 1)
            }
            left -= 1
        }
        while left < 0 {
            if date.day > 1 {
                date.day -= 1
            } else if date.month > 1 {
                date = CivilDate(year: date.year, month: date.month - 1, day: 1).endOfMonth
            } else {
                date = CivilDate(year: date.year - 1, month: 12, day: 31)
            }
            left += 1
        }
        return date
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
    var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` days after 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's civil_from_days).
    init(daysSince1970 days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        self.init(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    public init(from decoder: any Decoder) throws { try self.init(text: decoder, form: "a date YYYY-MM-DD") }

    public func encode(to encoder: any Encoder) throws { try encodeText(to: encoder) }
}
