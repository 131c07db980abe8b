public import Foundation
public import TenantServices

/// A clock for tests that moves only when told to, in calendar terms of the configured zone.
///
/// ```swift
/// let clock = TestClock("2026-10-24", at: 23)      // local time, Europe/Zurich
/// clock.advance(days: 1)                           // across the DST change, still 23:00 local
/// clock.advance(months: 1)                         // 2026-11-25 23:00
/// ```
public final class TestClock: TenantServices.InstantSource {
    private let manual: ManualClock
    /// The calendar whose dates the clock moves by.
    public let calendar: BusinessCalendar

    /// A clock at a local date and hour (default noon) in the calendar's zone.
    public init(_ date: String, at hour: Int = 12, calendar: BusinessCalendar = BusinessCalendar()) {
        self.calendar = calendar
        guard let day = CivilDate(date) else { preconditionFailure("'\(date)' is not a date YYYY-MM-DD") }
        manual = ManualClock(Self.instant(day, hour: hour, calendar: calendar))
    }

    /// A clock at an instant.
    public init(instant: Date, calendar: BusinessCalendar = BusinessCalendar()) {
        self.calendar = calendar
        manual = ManualClock(instant)
    }

    public func now() -> Date { manual.now() }

    /// Today in the clock's zone.
    public var today: CivilDate { calendar.date(of: now()) }

    /// Moves to a local date and hour.
    public func set(_ date: String, at hour: Int = 12) {
        guard let day = CivilDate(date) else { preconditionFailure("'\(date)' is not a date YYYY-MM-DD") }
        manual.set(Self.instant(day, hour: hour, calendar: calendar))
    }

    /// Moves to an instant.
    public func set(instant: Date) { manual.set(instant) }

    /// Moves forward by calendar days, keeping the local time of day (across DST changes too).
    public func advance(days: Int) {
        let local = localTime
        manual.set(Self.instant(today.adding(days: days), seconds: local, calendar: calendar))
    }

    /// Moves forward by calendar months, keeping the day (clamped to the month's end) and local time.
    public func advance(months: Int) {
        let local = localTime
        var date = today
        let total = date.year * 12 + (date.month - 1) + months
        date = CivilDate(year: total / 12, month: total % 12 + 1, day: 1)
        date.day = min(today.day, CivilDate.daysIn(year: date.year, month: date.month))
        manual.set(Self.instant(date, seconds: local, calendar: calendar))
    }

    /// Moves to the first instant of the next month's first day, then `hours` later.
    public func crossMonthEnd(hours: Int = 1) {
        let next = today.endOfMonth.adding(days: 1)
        manual.set(calendar.start(of: next).addingTimeInterval(Double(hours) * 3600))
    }

    /// The wall-clock time of day in seconds (not the time elapsed since midnight, which differs on DST days).
    private var localTime: TimeInterval {
        let start = calendar.start(of: today)
        let zone = calendar.timeZone
        return now().timeIntervalSince(start)
            + Double(zone.secondsFromGMT(for: now()) - zone.secondsFromGMT(for: start))
    }

    private static func instant(_ day: CivilDate, hour: Int, calendar: BusinessCalendar) -> Date {
        instant(day, seconds: Double(hour) * 3600, calendar: calendar)
    }

    private static func instant(_ day: CivilDate, seconds: TimeInterval, calendar: BusinessCalendar) -> Date {
        // The start of the day plus a wall-clock offset; on DST days the hour is found again in local time.
        let start = calendar.start(of: day)
        var candidate = start.addingTimeInterval(seconds)
        let shift = calendar.timeZone.secondsFromGMT(for: candidate) - calendar.timeZone.secondsFromGMT(for: start)
        candidate = candidate.addingTimeInterval(-Double(shift))
        return candidate
    }
}
