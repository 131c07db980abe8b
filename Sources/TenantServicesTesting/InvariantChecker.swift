import Foundation
public import TenantServices

/// A broken invariant, with what was seen.
public struct InvariantViolation: Error, Sendable, CustomStringConvertible {
    public var invariant: String
    public var detail: String
    public var description: String { "\(invariant): \(detail)" }

    /// A broken invariant, for checks of your own beside ``InvariantChecker``'s.
    public init(invariant: String, detail: String) {
        self.invariant = invariant
        self.detail = detail
    }
}

/// Checks the portal's invariants; call ``check()`` after every step of a test.
///
/// - no live service runs without its requirements (confirmed or later: every `requires` and one
///   `requiresAny` alternative live at least as long);
/// - statuses only move forward, except uncancel (`cancelled` back to where it was);
/// - no service is uncancelled after its end date: once the end date of a cancelled service has
///   passed (by the date alone, before or after `workflow.tick`), it is never live again and keeps
///   that end date; a service restored between two checks was restored by a `service.uncancel`
///   on or before its end date;
/// - no service stays `provisioning` whose deploy tasks are all done and whose requirements
///   (every `requires`, one `requiresAny` alternative) are provisioned: a call that completes
///   the last thing a service waits for also provisions it;
/// - billing start never before provisioning, and only with a user the service counts;
/// - no statement line for a day after a service's end date: each line of the current and of
///   every past month has a booking of its service on its domain (for the automatic SC-SIGONLY
///   line, a provisioned SC-SIGENC) billed on some day of that month, judged by the earliest end
///   date the checker has seen for the booking, so a restored end date does not excuse it;
/// - the open DNS tasks never contradict each other: no record of a domain name (whichever
///   domain, tenant or partner booked it) has an open deploy task and an open removal task;
/// - no actor sees another partner's (or, for tenant admins, another tenant's) data;
/// - a tenant's counts equal the domains and services live today that the actor sees;
/// - a statement of a past month never changes;
/// - every recorded change was made by an actor the permission matrix
///   (``SpecPermissions``) allows to make it.
///
/// The checker assumes that the test clock only moves forward.
public final class InvariantChecker: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used by one test at a time, like the world it checks.
    let world: WorldBuilder
    let actors: [Principal]
    private var statuses: [String: ServiceStatus] = [:]
    /// End dates of services seen `cancelled` at the last check, by domain ID and number.
    private var cancelledUntil: [String: CivilDate] = [:]
    /// End dates seen passed: final, whatever a later call shows.
    private var endedOn: [String: CivilDate] = [:]
    private var billingSeen: Set<String> = []
    private var statements: [String: BillingStatement.Response] = [:]
    private var auditChecked = 0
    /// The clock's instant at the last check.
    private var lastCheck: Date?
    private let op = Principal.platformOperator(id: "invariant-checker")

    /// The month of the world's clock when the checker began.
    private let firstMonth: Month

    public init(world: WorldBuilder, actors: [Principal]) {
        self.world = world
        self.actors = actors
        firstMonth = Month(world.clock.today.description.prefix(7).description)!
    }

    /// Throws the first broken invariant.
    public func check() throws(InvariantViolation) {
        do {
            let events = try newEvents()
            // Every invariant is a function of the recorded changes and the clock: with neither
            // moved since the last check (a refused call), nothing can have broken.
            let now = world.clock.now()
            if events.isEmpty && lastCheck == now { return }
            lastCheck = now
            let domains = try checkDomains(uncancels: events.filter { $0.action == ServiceUncancel.method })
            try checkDNSTasks()
            try checkVisibility()
            try checkStatements(domains: domains)
            try checkAudit(events)
        } catch let violation as InvariantViolation {
            throw violation
        } catch {
            throw InvariantViolation(invariant: "the checker could read the portal", detail: "\(error)")
        }
    }

    private static let utc = BusinessCalendar(timeZone: TimeZone(identifier: "UTC")!)

    /// An instant as the views write it (`2026-11-18T11:06:40Z`): proleptic Gregorian, as RFC 3339
    /// counts (Foundation's ISO 8601 parser reads dates before 1582-10-15 as Julian ones).
    static func instant(_ text: String) -> Date? {
        let parts = text.split(whereSeparator: { "T:Z".contains($0) })
        guard parts.count == 4, let date = CivilDate(String(parts[0])), let h = Int(parts[1]), let m = Int(parts[2]),
            let s = Int(parts[3])
        else { return nil }
        return utc.start(of: date).addingTimeInterval(Double(h * 3600 + m * 60 + s))
    }

    private func fail(_ invariant: String, _ detail: String) -> InvariantViolation {
        InvariantViolation(invariant: invariant, detail: detail)
    }

    /// The audit events recorded since the last check, oldest first.
    private func newEvents() throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        var cursor: String?
        repeat {
            let page = try world.portal.perform(AuditList(afterSeq: auditChecked, limit: 1000, cursor: cursor), as: op)
            events += page.events
            cursor = page.nextCursor
        } while cursor != nil
        return events
    }

    /// Checks every domain and returns them by ID.
    private func checkDomains(uncancels: [AuditEvent]) throws -> [String: DomainView] {
        let portal = world.portal
        let calendar = world.clock.calendar
        let today = world.clock.today
        var seen: [String: DomainView] = [:]
        for tenant in try portal.perform(TenantList(limit: 1000), as: op).tenants {
            for domain in try portal.perform(TenantGet(tenantId: tenant.id), as: op).domains {
                seen[domain.id] = domain
                let live = domain.services.filter { $0.isLive(on: today) }
                func lasts(_ r: ServiceView, _ s: ServiceView) -> Bool {
                    guard let end = r.endDate else { return true }
                    return s.endDate.map { end >= $0 } ?? false
                }
                for s in live where s.status >= .confirmed {
                    guard let entry = portal.catalog[s.code] else { continue }
                    for dep in entry.requires where !live.contains(where: { $0.code == dep && lasts($0, s) }) {
                        throw fail(
                            "no live service without its requirements", "\(s.code) on \(domain.name) without \(dep)")
                    }
                    if !entry.requiresAny.isEmpty
                        && !live.contains(where: { entry.requiresAny.contains($0.code) && lasts($0, s) })
                    {
                        throw fail(
                            "no live service without its requirements",
                            "\(s.code) on \(domain.name) without any of \(entry.requiresAny)")
                    }
                }
                try checkNotStuck(domain, today: today)
                let firstUncancel = uncancels.first { $0.target == domain.id }.map { calendar.date(of: $0.at) }
                for s in domain.services {
                    let key = "\(domain.id)#\(s.number)"
                    if let before = statuses[key], s.status < before, !(before == .cancelled && s.status < .cancelled) {
                        throw fail("statuses only move forward", "\(s.code) on \(domain.name): \(before) → \(s.status)")
                    }
                    statuses[key] = s.status
                    try checkEnd(of: s, key: key, on: domain, today: today, firstUncancel: firstUncancel)
                    if let start = s.billingStart, billingSeen.insert(key).inserted, start == world.clock.today {
                        // Billing started today: a user the service counts must exist now.
                        let users = try portal.perform(UsersList(domainId: domain.id, limit: 1000), as: op).users
                        guard users.contains(where: { portal.catalog[s.code]?.counts($0) == true }) else {
                            throw fail(
                                "billing start only with a counted user",
                                "\(s.code) on \(domain.name) billed without a counted user")
                        }
                    }
                    if let start = s.billingStart {
                        guard let provisioned = s.provisionedAt.flatMap(Self.instant),
                            start >= calendar.date(of: provisioned)
                        else {
                            throw fail(
                                "billing start never before provisioning",
                                "\(s.code) on \(domain.name) billed from \(start)")
                        }
                    }
                }
            }
        }
        return seen
    }

    /// No uncancel after the end date: an end date once passed is final.
    private func checkEnd(
        of s: ServiceView, key: String, on domain: DomainView, today: CivilDate, firstUncancel: CivilDate?
    ) throws {
        let invariant = "no service uncancelled after its end date"
        if let end = endedOn[key] {
            guard !s.isLive(on: today), s.endDate == end else {
                throw fail(
                    invariant,
                    "\(s.code) (number \(s.number)) on \(domain.name) ended on \(end) but is \(s.status) with end date \(s.endDate?.description ?? "none") on \(today)"
                )
            }
        } else if let end = cancelledUntil[key], s.status < .cancelled, end < today, let day = firstUncancel,
            day > end
        {
            throw fail(
                invariant, "\(s.code) (number \(s.number)) on \(domain.name) ended on \(end) and was restored on \(day)"
            )
        }
        cancelledUntil[key] = s.status == .cancelled ? s.endDate : nil
        if let end = s.endDate, end < today, !s.isLive(on: today), endedOn[key] == nil { endedOn[key] = end }
    }

    /// No service `provisioning` whose deploy tasks are done and whose requirements are provisioned.
    private func checkNotStuck(_ domain: DomainView, today: CivilDate) throws {
        let waiting = domain.services.filter { $0.status == .provisioning }
        guard !waiting.isEmpty else { return }
        let portal = world.portal
        let tasks = try portal.perform(TaskList(domainId: domain.id, limit: 1000), as: op).tasks
        let up = Set(domain.services.filter { $0.provisionedAt != nil && $0.isLive(on: today) }.map(\.code))
        for s in waiting {
            guard let entry = portal.catalog[s.code],
                !tasks.contains(where: { $0.number == s.number && $0.kind == .deploy && $0.status == .open }),
                entry.requires.allSatisfy(up.contains),
                entry.requiresAny.isEmpty || entry.requiresAny.contains(where: up.contains)
            else { continue }
            throw fail(
                "no service stuck in provisioning",
                "\(s.code) (number \(s.number)) on \(domain.name) is provisioning with its tasks done and its requirements provisioned"
            )
        }
    }

    /// No record of a name is both to be set and to be removed.
    private func checkDNSTasks() throws {
        let portal = world.portal
        var names: [String: String] = [:]
        var open: [String: Set<TaskKind>] = [:]
        for task in try portal.perform(TaskList(status: .open, limit: 1000), as: op).tasks {
            if names[task.domainId] == nil {
                names[task.domainId] = try portal.perform(DomainGet(domainId: task.domainId), as: op).domain.name
            }
            let key = "\(task.record.type) \(task.record.name) → \(task.record.value) of \(names[task.domainId]!)"
            open[key, default: []].insert(task.kind)
            if open[key]!.count > 1 {
                throw fail("no contradictory DNS tasks", "\(key) has an open deploy and an open removal task")
            }
        }
    }

    private func checkVisibility() throws {
        let portal = world.portal
        for actor in actors where actor.kind != .operator {
            func owns(_ tenant: TenantView) -> Bool {
                actor.kind == .partnerAdmin ? tenant.partnerId == actor.partnerId : tenant.id == actor.tenantId
            }
            guard let tenants = try? portal.perform(TenantList(limit: 1000), as: actor).tenants else { continue }
            for tenant in tenants {
                guard owns(tenant) else {
                    throw fail("no actor sees another partner's data", "\(actor.id) sees tenant \(tenant.id)")
                }
                let full = try portal.perform(TenantGet(tenantId: tenant.id), as: actor)
                let today = world.clock.today
                let managed = full.domains.count { $0.services.contains { $0.isLive(on: today) } }
                let services = full.domains.reduce(0) { $0 + $1.services.count { $0.isLive(on: today) } }
                guard tenant.managedDomains == managed, tenant.totalServices == services else {
                    throw fail(
                        "counts equal visible data",
                        "\(actor.id) on \(tenant.id): \(tenant.managedDomains)/\(tenant.totalServices) vs \(managed)/\(services)"
                    )
                }
            }
            let ids = Set(tenants.map(\.id))
            for task in (try? portal.perform(TaskList(limit: 1000), as: actor).tasks) ?? [] {
                let owner = try portal.perform(DomainGet(domainId: task.domainId), as: op).domain.tenantId
                guard ids.contains(owner) else {
                    throw fail("no actor sees another partner's data", "\(actor.id) sees task \(task.id)")
                }
            }
        }
    }

    private func checkStatements(domains: [String: DomainView]) throws {
        let today = world.clock.today
        // From 2026-01, or from the month the world's clock was in when the checker began, if earlier.
        var month = min(Month("2026-01")!, firstMonth)
        while month.last < today {
            let statement = try world.portal.perform(BillingStatement(month: month), as: op)
            if let earlier = statements[month.description] {
                if earlier != statement { throw fail("a past month's statement never changes", "\(month) changed") }
            } else {
                try checkLines(of: statement, domains: domains)
                statements[month.description] = statement
            }
            month = Month(month.last.adding(days: 1).description.prefix(7).description)!
        }
        // The current month changes with every call: its lines are checked each time.
        try checkLines(of: try world.portal.perform(BillingStatement(month: month), as: op), domains: domains)
    }

    /// No statement line for a day after a service's end date (nor before its billing start).
    private func checkLines(of statement: BillingStatement.Response, domains: [String: DomainView]) throws {
        let calendar = world.clock.calendar
        let month = statement.month
        for line in statement.lines {
            guard let domain = domains[line.domainId] else { continue }
            let billed = domain.services.contains { s in
                let start: CivilDate?
                if s.code == line.service {
                    start = s.billingStart
                } else if line.service == "SC-SIGONLY" && s.code == "SC-SIGENC" {
                    start = s.provisionedAt.flatMap(Self.instant).map(calendar.date(of:))
                } else {
                    return false
                }
                guard let start, start <= month.last else { return false }
                let ends = [s.endDate, endedOn["\(domain.id)#\(s.number)"]].compactMap(\.self)
                return ends.allSatisfy { $0 >= month.first }
            }
            guard billed else {
                throw fail(
                    "no statement line for a day after a service's end date",
                    "\(month) bills \(line.service) on \(line.domain), but no booking of it is billed on a day of that month"
                )
            }
        }
    }

    private func checkAudit(_ events: [AuditEvent]) throws {
        let byId = Dictionary(actors.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for event in events {
            auditChecked = event.seq
            guard let actor = byId[event.actor.id] else { continue }  // the builder and the checker
            guard SpecPermissions.allows(actor, event.action) else {
                throw fail(
                    "every change was allowed",
                    "\(actor.id) (\(actor.roles.map(\.rawValue))) made \(event.action) on \(event.target)")
            }
        }
    }
}
