public import Foundation

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
