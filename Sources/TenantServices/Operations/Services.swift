import OrderedCollections

/// Books services on a domain as `ordered`. Refuses what can never become valid (exclusions,
/// wrong mode or region); missing requirements are left to the check, so order does not matter.
public struct ServiceAdd: PortalRequest, Executable, Equatable {
    public static let method = "service.add"
    static let isMutating = true
    public var domainId: String
    public var services: [String]
    public var expectedVersion: Int?

    public init(domainId: String, services: [String], expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.services = services
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .order, expectedVersion: expectedVersion)
        domain = tx.orderable(domain, live: domain.liveServices(on: tx.today))
        try tx.requireKnown(services)
        var codes: [String] = []
        for code in services where !codes.contains(code) { codes.append(code) }
        guard !codes.isEmpty else { throw PortalError(.invalidArgument, "services must name at least one code") }
        if let refusal = tx.addRefusal(codes, on: domain) { throw refusal.error(booking: codes, on: domain, tx) }
        tx.book(codes, on: &domain)
        tx.save(domain, of: tenant, summary: "ordered \(codes.joined(separator: ", ")) on \(domain.name)")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// Why `service.add` would refuse to book services on a domain now: the domain rules it checks,
/// in the order every request checks them (`invalid-transition`, `conflict`,
/// `dependency-violation`).
///
/// `service.add`, `service.available` and the domain's `service.add` action all use it, so a
/// service is shown as available exactly when booking it alone would succeed.
enum AddRefusal {
    /// SC-SERVICE is cancelled: nothing can be ordered until it is uncancelled.
    case baseCancelled(BookedService)
    /// A service requires one that is cancelled and about to end.
    case requirementCancelled(code: String, requirement: BookedService)
    /// None of a service's requires-any alternatives runs on, and one of them is cancelled.
    case alternativesCancelled(code: String, alternatives: [String], cancelled: BookedService)
    /// Every service of the domain has ended and another domain of that name is live now.
    case bookedElsewhere
    /// Every service of the domain has ended, its tenant has moved to the other region since, and
    /// the domain still has lines this month in its old region: booked again now, it would take
    /// the new region and reprice them.
    case billedInOldRegion(Region, month: Month)
    /// The service is live on the domain already.
    case alreadyLive(BookedService)
    /// Exclusions, wrong mode or region, rules no later booking can repair, among these codes
    /// (the live ones and those to add); the problems are worked out when described.
    case permanent(codes: [String])

    /// The error `service.add` answers.
    func error(booking codes: [String], on domain: Domain, _ tx: Transaction) -> PortalError {
        switch self {
        case .baseCancelled(let base):
            return PortalError(
                .invalidTransition,
                "domain \(domain.name) is cancelled (\(base.code) ends \(base.endDate!)); uncancel it before ordering more services"
            )
        case .requirementCancelled(let code, let dep):
            return PortalError(
                .invalidTransition,
                "\(code) requires \(dep.code), which is cancelled and ends \(dep.endDate!); uncancel \(dep.code) before booking \(code)"
            )
        case .alternativesCancelled(let code, let alternatives, let dep):
            return PortalError(
                .invalidTransition,
                "\(code) needs one of \(alternatives.joined(separator: ", ")); \(dep.code) is cancelled and ends \(dep.endDate!); uncancel it first"
            )
        case .bookedElsewhere:
            return PortalError(
                .conflict, "domain \(domain.name) has been booked again on the platform since its services ended")
        case .billedInOldRegion(let old, let month):
            return PortalError(
                .conflict,
                "domain \(domain.name) is billed for \(month) in region \(old.rawValue) (\(old.currency)), where its services ran; booked again now it would move to the tenant's region \(domain.region.rawValue) and reprice that month: add the name as a new domain (domain.add), or book it again from \(month.last.adding(days: 1))"
            )
        case .alreadyLive(let existing):
            return PortalError(
                .conflict,
                "\(existing.code) is already booked on \(domain.name) as number \(existing.number) (\(existing.status.rawValue))"
            )
        case .permanent(let all):
            let problems = tx.catalog.permanentProblems(of: all, region: domain.region)
            let violations = problems.map { tx.catalog.violation($0, region: domain.region) }
            return PortalError(
                .dependencyViolation,
                "cannot book \(codes.joined(separator: ", ")) on \(domain.name): \(violations.map(\.message).joined(separator: " "))",
                details: .init(violations: violations))
        }
    }

    /// Why one service is not available (the `reason` of `service.available`).
    func reason(for code: String, on domain: Domain, catalog: Catalog) -> String {
        switch self {
        case .baseCancelled(let base):
            return "\(base.code) is cancelled and ends \(base.endDate!); uncancel it before ordering"
        case .requirementCancelled(_, let dep), .alternativesCancelled(_, _, let dep):
            return "needs \(dep.code), which is cancelled and ends \(dep.endDate!); uncancel it first"
        case .bookedElsewhere:
            return "the domain name has been booked again on the platform since this domain's services ended"
        case .billedInOldRegion(let old, let month):
            return
                "billed for \(month) in region \(old.rawValue), where its services ran; add the name as a new domain, or book it again from \(month.last.adding(days: 1))"
        case .alreadyLive(let booked):
            return "already booked as number \(booked.number) (\(booked.status.rawValue))"
        case .permanent(let all):
            let problems = catalog.permanentProblems(of: all, region: domain.region)
            let problem = problems.first { $0.services.contains(code) } ?? problems[0]
            switch problem.rule {
            case .excludes:
                let other = problem.services.first { $0 != code } ?? problem.services[0]
                return "excluded by \(other)"
            case .mode where problem.services == [code]:
                let allowed = (catalog[code]?.modes ?? []).map(\.rawValue).joined(separator: " or ")
                return
                    "wrong mode: runs only in \(allowed) mode, the domain is \(problem.mode?.rawValue ?? "without mode")"
            case .region where problem.services == [code]:
                let allowed = (catalog[code]?.regions ?? []).map(\.rawValue).joined(separator: ", ")
                return "wrong region: available only in \(allowed), the domain is in \(domain.region.rawValue)"
            default:
                return catalog.violation(problem, region: domain.region).message
            }
        }
    }
}

extension Transaction {
    /// The domain as `service.add` books on it: one whose services have all ended takes its
    /// tenant's region now (without live domains a tenant may move to the other region), so a
    /// tenant never has a live domain in the other region. `actions` and `service.available` ask
    /// the same.
    func orderable(_ domain: Domain, live: [BookedService]) -> Domain {
        guard live.isEmpty, let region = state.tenants[domain.tenantId]?.region, region != domain.region else {
            return domain
        }
        var domain = domain
        domain.region = region
        return domain
    }

    /// Why `service.add` of these (known, distinct) codes would be refused now by the domain rules, or nil.
    func addRefusal(_ codes: [String], on domain: Domain) -> AddRefusal? {
        addRefusal(codes, on: domain, live: domain.liveServices(on: today))
    }

    /// The same, given the domain's live services today (`actions` and `service.available` ask
    /// once per catalog service).
    func addRefusal(_ codes: [String], on domain: Domain, live: [BookedService]) -> AddRefusal? {
        // A new service must not depend on services that are cancelled and about to end: it would outlive them.
        if live.contains(where: { $0.status == .cancelled }) {
            let ending = Dictionary(
                live.filter { $0.status == .cancelled }.map { ($0.code, $0) }, uniquingKeysWith: { $1 })
            if let base = ending[catalog.baseService.code] { return .baseCancelled(base) }
            let running = Set(live.filter { $0.status != .cancelled }.map(\.code)).union(codes)
            for code in codes {
                guard let entry = catalog[code] else { continue }
                if let dep = entry.requires.first(where: { ending[$0] != nil }) {
                    return .requirementCancelled(code: code, requirement: ending[dep]!)
                }
                if !entry.requiresAny.isEmpty && !entry.requiresAny.contains(where: running.contains),
                    let dep = entry.requiresAny.first(where: { ending[$0] != nil })
                {
                    return .alternativesCancelled(code: code, alternatives: entry.requiresAny, cancelled: ending[dep]!)
                }
            }
        }
        if live.isEmpty,
            state.domains(named: domain.name).contains(where: { $0.id != domain.id && $0.hasLiveService(on: today) })
        {
            return .bookedElsewhere
        }
        if live.isEmpty, let stored = state.domains[domain.id], stored.region != domain.region {
            let month = Month(today)
            let billedThisMonth = stored.services.contains { service in
                guard let start = service.billingStart else { return false }
                let end = service.endDate ?? CivilDate.latest
                return start <= end && end >= month.first
            }
            if billedThisMonth { return .billedInOldRegion(stored.region, month: month) }
        }
        if let existing = live.first(where: { codes.contains($0.code) }) { return .alreadyLive(existing) }
        let all = live.map(\.code) + codes
        return catalog.breaksPermanentRule(all, region: domain.region) ? .permanent(codes: all) : nil
    }

    /// Every catalog service and whether this actor's `service.add` of it alone would succeed now
    /// (the portal's "add services" list), with the reason when not.
    func availability(on domain: Domain) -> [ServiceAvailability] {
        // Every change is refused outside the dates the portal handles, before anything else.
        var refusal = canChange ? nil : calendar.dateRuleRefusal(at: now)?.message
        if refusal == nil {
            do { try access.require(.order) } catch { refusal = error.message }
        }
        let live = domain.liveServices(on: today)
        let domain = orderable(domain, live: live)
        return catalog.services.map { service in
            let reason =
                refusal
                ?? addRefusal([service.code], on: domain, live: live)?.reason(
                    for: service.code, on: domain, catalog: catalog)
            return ServiceAvailability(
                code: service.code, name: service.name(locale: "en"), available: reason == nil, reason: reason)
        }
    }
}

/// Every catalog service and whether it can be added to the domain now, with the reason if not.
public struct ServiceAvailable: PortalRequest, Executable, Equatable {
    public static let method = "service.available"
    static let isMutating = false
    public var domainId: String

    public init(domainId: String) { self.domainId = domainId }

    /// One entry per catalog service, in catalog order.
    public struct Response: Codable, Sendable, Equatable { public var services: [ServiceAvailability] }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let (domain, _) = try tx.domain(domainId)
        try tx.require(.see)
        return Response(services: tx.availability(on: domain))
    }
}
