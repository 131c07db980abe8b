public import Foundation

/// The calendar rules of one configured time zone (default Europe/Zurich).
public struct BusinessCalendar: Sendable {
    public let timeZone: TimeZone
    private let calendar: Calendar
    /// The day of the last instant asked about, with the instants it spans: requests in a row
    /// fall on the same day, so most get their date without the calendar's work.
    private let lastDay = Locked<(days: Range<Date>, date: CivilDate)?>(nil)

    /// The first year Foundation's Gregorian calendar counts as this type does (from 1582-10-15
    /// on it is Gregorian; a year later, so that no date of the switch is near).
    static let firstGregorianYear = 1583
    /// The first instant of ``firstGregorianYear`` in the zone.
    private let firstGregorianInstant: Date

    public init(timeZone: TimeZone = TimeZone(identifier: "Europe/Zurich")!) {
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        firstGregorianInstant = calendar.date(from: DateComponents(year: Self.firstGregorianYear, month: 1, day: 1))!
    }

    /// The first instant of a calendar date in the configured zone.
    ///
    /// Dates are proleptic Gregorian, as ``CivilDate`` counts them: before 1583 Foundation's
    /// calendar counts Julian dates (1500-02-29 exists there, 1582-10-10 does not), so those dates
    /// are worked out from the day count and the zone's offset (local mean time then) instead.
    public func start(of date: CivilDate) -> Date {
        guard date.year >= Self.firstGregorianYear else {
            let local = Double(date.daysSince1970 * 86_400)
            let guess = local - Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: local)))
            return Date(
                timeIntervalSince1970: local - Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: guess))))
        }
        return calendar.date(from: DateComponents(year: date.year, month: date.month, day: date.day))!
    }

    /// Why the portal cannot act at an instant (`date-rule`, naming the bound passed), or nil when
    /// it can: its date in the configured zone ("today") and its date in UTC (how views write
    /// it) both lie within ``CivilDate/earliest`` … ``CivilDate/latest``.
    public func dateRuleRefusal(at instant: Date) -> PortalError? {
        let today = date(of: instant)
        let utc = Self.utcDate(of: instant)
        let day =
            today.isRepresentable
            ? "now is \(utc) in UTC, as instants are written" : "today is \(today) in \(timeZone.identifier)"
        if today > CivilDate.latest || utc > CivilDate.latest {
            return PortalError(
                .dateRule, "\(day), past \(CivilDate.latest), the last date the portal handles",
                details: .init(latest: CivilDate.latest.description))
        }
        if today < CivilDate.earliest || utc < CivilDate.earliest {
            return PortalError(
                .dateRule, "\(day), before \(CivilDate.earliest), the first date the portal handles",
                details: .init(earliest: CivilDate.earliest))
        }
        return nil
    }

    /// The date of an instant in UTC (proleptic Gregorian), the date its RFC 3339 text shows.
    static func utcDate(of instant: Date) -> CivilDate {
        CivilDate(daysSince1970: Int((instant.timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// The calendar date of an instant in the configured zone (proleptic Gregorian, see ``start(of:)``).
    public func date(of instant: Date) -> CivilDate {
        if let last = lastDay.withLock({ $0 }), last.days.contains(instant) { return last.date }
        guard instant >= firstGregorianInstant else {
            let local = instant.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: instant))
            return CivilDate(daysSince1970: Int((local / 86_400).rounded(.down)))
        }
        let c = calendar.dateComponents([.year, .month, .day], from: instant)
        let date = CivilDate(year: c.year!, month: c.month!, day: c.day!)
        if let day = calendar.dateInterval(of: .day, for: instant), day.start <= instant, instant < day.end {
            lastDay.withLock { $0 = (day.start..<day.end, date) }
        }
        return date
    }
}
