public import Foundation

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

    /// The first and the last date the portal handles (SPEC §7: 0001-01-01 … 9999-12-31); a given
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

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Where the library gets "now" from; inject a fixed clock in tests.
public protocol Clock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The machine's wall clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Date { Date() }
}

/// The calendar rules of one configured time zone (default Europe/Zurich).
public struct BusinessCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar
    /// The day of the last instant asked about, with the instants it spans: requests in a row
    /// fall on the same day, so most get their date without the calendar's work.
    private let lastDay = Locked<(days: Range<Date>, date: CivilDate)?>(nil)

    public init(timeZone: TimeZone = TimeZone(identifier: "Europe/Zurich")!) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The first instant of a calendar date in the configured zone.
    public func start(of date: CivilDate) -> Date {
        calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day))!
    }

    /// The calendar date of an instant in the configured zone.
    public func date(of instant: Date) -> CivilDate {
        if let last = lastDay.withLock({ $0 }), last.days.contains(instant) { return last.date }
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        let date = CivilDate(year: c.year!, month: c.month!, day: c.day!)
        if let day = calendar.dateInterval(of: .day, for: instant), day.start <= instant, instant < day.end {
            lastDay.withLock { $0 = (day.start..<day.end, date) }
        }
        return date
    }
}

/// A clock that stands still until it is set or advanced (tests, demos, `--clock`).
public final class ManualClock: Clock {
    private let instant: Locked<Date>

    public init(_ start: Date) { instant = Locked(start) }

    public func now() -> Date { instant.withLock { $0 } }

    /// Moves the clock to an instant.
    public func set(_ date: Date) { instant.withLock { $0 = date } }

    /// Moves the clock forward.
    public func advance(by seconds: TimeInterval) { instant.withLock { $0 += seconds } }
}
