import Foundation
public import TenantServices

/// A broken invariant, with what was seen.
public struct InvariantViolation: Error, Sendable, CustomStringConvertible {
    public var invariant: String
    public var detail: String
    public var description: String { "\(invariant): \(detail)" }
}

/// Checks the portal's invariants; call ``check()`` after every step of a test.
///
/// - no live service runs without its requirements (confirmed or later: every `requires` and one
///   `requiresAny` alternative live at least as long);
/// - statuses only move forward, except uncancel (`cancelled` back to where it was);
/// - billing start never before provisioning, and only with a user the service counts;
/// - no actor sees another partner's (or, for tenant admins, another tenant's) data;
/// - a tenant's counts equal the domains and services the actor sees;
/// - a statement of a past month never changes;
/// - every recorded change was made by an actor SPEC §4 allows to make it.
public final class InvariantChecker: @unchecked Sendable {
    // Invariant for @unchecked Sendable: used by one test at a time, like the world it checks.
    let world: WorldBuilder
    let actors: [Actor]
    private var statuses: [String: ServiceStatus] = [:]
    private var billingSeen: Set<String> = []
    private var statements: [String: BillingStatement.Response] = [:]
    private var auditChecked = 0
    private let op = Actor.platformOperator(id: "invariant-checker")

    public init(world: WorldBuilder, actors: [Actor]) {
        self.world = world
        self.actors = actors
    }

    /// Throws the first broken invariant.
    public func check() throws(InvariantViolation) {
        do {
            try checkDomains()
            try checkVisibility()
            try checkStatements()
            try checkAudit()
        } catch let violation as InvariantViolation {
            throw violation
        } catch {
            throw InvariantViolation(invariant: "the checker could read the portal", detail: "\(error)")
        }
    }

    private func fail(_ invariant: String, _ detail: String) -> InvariantViolation {
        InvariantViolation(invariant: invariant, detail: detail)
    }

    private func checkDomains() throws {
        let portal = world.portal
        let calendar = world.clock.calendar
        for tenant in try portal.perform(TenantList(limit: 1000), as: op).tenants {
            for domain in try portal.perform(TenantGet(tenantId: tenant.id), as: op).domains {
                let live = domain.services.filter { $0.status.isLive }
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
                for s in domain.services {
                    let key = "\(domain.id)#\(s.number)"
                    if let before = statuses[key], s.status < before, !(before == .cancelled && s.status < .cancelled) {
                        throw fail("statuses only move forward", "\(s.code) on \(domain.name): \(before) → \(s.status)")
                    }
                    statuses[key] = s.status
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
                        guard let provisioned = s.provisionedAt.flatMap({ try? Date($0, strategy: .iso8601) }),
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
                let managed = full.domains.count { $0.services.contains { $0.status.isLive } }
                let services = full.domains.reduce(0) { $0 + $1.services.count { $0.status.isLive } }
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

    private func checkStatements() throws {
        let today = world.clock.today
        var month = Month("2026-01")!
        while month.last < today {
            let statement = try world.portal.perform(BillingStatement(month: month), as: op)
            if let earlier = statements[month.description], earlier != statement {
                throw fail("a past month's statement never changes", "\(month) changed")
            }
            statements[month.description] = statement
            month = Month(month.last.adding(days: 1).description.prefix(7).description)!
        }
    }

    private func checkAudit() throws {
        let byId = Dictionary(actors.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let events = try world.portal.perform(AuditList(afterSeq: auditChecked, limit: 1000), as: op).events
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
