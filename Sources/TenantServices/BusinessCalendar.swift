public import Foundation

/// The calendar rules of one configured time zone (default Europe/Zurich).
public struct BusinessCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar

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
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        return CivilDate(year: c.year!, month: c.month!, day: c.day!)
    }
}
