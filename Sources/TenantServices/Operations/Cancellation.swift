import OrderedCollections

/// One service a cancel operation ends or cancels.
public struct CancelledService: Codable, Sendable, Equatable {
    public var code: String
    public var number: Int
    /// `deprovisioned` for a service that was never deployed (ended at once), else `cancelled`.
    public var status: ServiceStatus
    public var endDate: CivilDate
}

/// Cancels a service and everything that can no longer run without it.
///
/// Never-deployed services end at once; deployed ones are cancelled with an end date: by default
/// the last day of the current month (on the last day of a month, of the next month), at the
/// earliest tomorrow. Cancelling SC-SERVICE or the domain's mode service cancels the whole domain.
public struct ServiceCancel: PortalRequest, Executable, Equatable {
    public static let method = "service.cancel"
    static let isMutating = true
    public var domainId: String
    public var service: String
    public var endDate: CivilDate?
    /// Show the cascade and dates without changing anything.
    public var dryRun: Bool?
    public var expectedVersion: Int?

    public init(
        domainId: String, service: String, endDate: CivilDate? = nil, dryRun: Bool? = nil, expectedVersion: Int? = nil
    ) {
        self.domainId = domainId
        self.service = service
        self.endDate = endDate
        self.dryRun = dryRun
        self.expectedVersion = expectedVersion
    }

    /// The domain (unchanged on a dry run) and every service the operation ends or cancels.
    public struct Response: Codable, Sendable, Equatable {
        public var domain: DomainView
        public var cancelled: [CancelledService]
        public var dryRun: Bool
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .order, expectedVersion: expectedVersion)
        let target = try tx.booking(of: service, on: domain)
        guard target.isRunning(on: tx.today) else {
            let state =
                target.status == .cancelled ? "cancelled already (end date \(target.endDate!))" : target.status.rawValue
            throw PortalError(
                .invalidTransition,
                "\(service) on \(domain.name) is \(state); only a live service that is not cancelled can be cancelled"
            )
        }
        let affected = cascade(from: target, on: domain, catalog: tx.catalog, today: tx.today)
        let deployed = affected.contains { domain.services[$0].status >= .provisioning }
        let tomorrow = tx.today.adding(days: 1)
        let defaultEnd = tx.today == tx.today.endOfMonth ? tomorrow.endOfMonth : tx.today.endOfMonth
        let end = endDate ?? defaultEnd
        if deployed, !end.isRepresentable {
            throw PortalError(
                .dateRule, "the end date would be \(end), past \(CivilDate.latest), the last date the portal handles",
                details: .init(latest: CivilDate.latest.description))
        }
        if deployed, end < tomorrow {
            throw PortalError(
                .dateRule, "the end date \(end) is too early; the earliest end date is \(tomorrow) (tomorrow)",
                details: .init(earliest: tomorrow))
        }
        let operation = (tx.state.events.last?.seq ?? 0) + 1
        var result: [CancelledService] = []
        for i in affected {
            let before = domain.services[i]
            let cancellation = Cancellation(
                operation: operation, previousStatus: before.status, previousEndDate: before.endDate,
                previous: before.cancellation.map { [$0] } ?? [])
            if before.status < .provisioning {
                domain.services[i].status = .deprovisioned
                domain.services[i].endDate = tx.today
            } else if before.status == .cancelled {
                guard let current = before.endDate, current > end else { continue }
                domain.services[i].endDate = end
            } else {
                domain.services[i].status = .cancelled
                domain.services[i].endDate = end
            }
            domain.services[i].cancellation = cancellation
            let after = domain.services[i]
            result.append(
                CancelledService(code: after.code, number: after.number, status: after.status, endDate: after.endDate!))
        }
        if dryRun == true {
            let original = tx.state.domains[domain.id]!
            return Response(domain: tx.view(of: original), cancelled: result, dryRun: true)
        }
        let codes = result.map(\.code).joined(separator: ", ")
        tx.save(domain, of: tenant, summary: "cancelled \(codes) on \(domain.name) (end date \(end))")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!), cancelled: result, dryRun: false)
    }

    /// Indices of the target and of every live service that can no longer run without the
    /// services cancelled so far, to a fixed point; plus already cancelled services with a later end date.
    func cascade(from target: BookedService, on domain: Domain, catalog: Catalog, today: CivilDate) -> [Int] {
        let targetEntry = catalog[target.code]!
        let liveIndices = domain.services.indices.filter { domain.services[$0].isLive(on: today) }
        let wholeDomain = targetEntry.kind == .base || targetEntry.kind == .mode
        if wholeDomain { return liveIndices }
        // A requires-any alternative that is cancelled already is no way to run on: it is about to
        // end, and the dependant would outlive it (as `service.add` refuses to book on one).
        let running = Set(
            liveIndices.filter { domain.services[$0].status != .cancelled }.map { domain.services[$0].code })
        var removed: Set<String> = [target.code]
        var changed = true
        while changed {
            changed = false
            for i in liveIndices {
                let s = domain.services[i]
                guard !removed.contains(s.code), let entry = catalog[s.code] else { continue }
                let available = running.subtracting(removed)
                let brokenRequires = entry.requires.contains(where: removed.contains)
                let brokenAny = !entry.requiresAny.isEmpty && !entry.requiresAny.contains(where: available.contains)
                if brokenRequires || brokenAny {
                    removed.insert(s.code)
                    changed = true
                }
            }
        }
        return liveIndices.filter { removed.contains(domain.services[$0].code) }
    }
}

/// Restores every service of a cancel operation that is still cancelled.
public struct ServiceUncancel: PortalRequest, Executable, Equatable {
    public static let method = "service.uncancel"
    static let isMutating = true
    public var domainId: String
    public var service: String
    public var expectedVersion: Int?

    public init(domainId: String, service: String, expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.service = service
        self.expectedVersion = expectedVersion
    }

    /// The domain and the codes restored.
    public struct Response: Codable, Sendable, Equatable {
        public var domain: DomainView
        public var restored: [String]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let (domain, tenant) = try tx.domain(domainId, for: .order, expectedVersion: expectedVersion)
        _ = try tx.booking(of: service, on: domain)
        var (restoredDomain, codes) = try tx.uncancelled(service, on: domain)
        // A restored service continues its workflow at once (a provisioning one whose tasks are
        // done is provisioned now, and its billing starts from today, never backdated).
        tx.advance(&restoredDomain)
        tx.save(restoredDomain, of: tenant, summary: "uncancelled \(codes.joined(separator: ", ")) on \(domain.name)")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!), restored: codes)
    }
}

extension Transaction {
    /// The domain with the cancel operation of a code's cancelled booking undone, and the codes
    /// restored; the same check decides the `service.uncancel` action.
    ///
    /// Only a booking cancelled and still live today can be restored (`invalid-transition`
    /// otherwise, also before `workflow.tick` has ended it); a restored service whose
    /// requirement stays cancelled by another operation is `dependency-violation`.
    func uncancelled(_ code: String, on domain: Domain) throws(PortalError) -> (Domain, [String]) {
        var domain = domain
        guard let target = domain.services.last(where: { $0.code == code }), target.status == .cancelled,
            let operation = target.cancellation?.operation
        else {
            throw PortalError(
                .invalidTransition,
                "\(code) on \(domain.name) is not cancelled; only a cancelled service before its end date can be restored"
            )
        }
        guard target.isLive(on: today) else {
            throw PortalError(
                .invalidTransition,
                "\(code) on \(domain.name) ended on \(target.endDate!); a service can be uncancelled only until its end date"
            )
        }
        let restore = domain.services.indices.filter {
            domain.services[$0].isCancelledAndLive(on: today)
                && domain.services[$0].cancellation?.operation == operation
        }
        for i in restore {
            domain.services[i].status = domain.services[i].cancellation!.previousStatus
            domain.services[i].endDate = domain.services[i].cancellation!.previousEndDate
            domain.services[i].cancellation = domain.services[i].cancellation!.previous.first
        }
        // Every restored service needs its requirements live and not ending.
        let running = Set(domain.services.filter { $0.isRunning(on: today) }.map(\.code))
        var violations: [Violation] = []
        for i in restore {
            let s = domain.services[i]
            guard s.status != .cancelled, let entry = catalog[s.code] else { continue }
            for dep in entry.requires where !running.contains(dep) {
                violations.append(
                    Violation(
                        rule: .requires, services: [s.code, dep],
                        message:
                            "\(s.code) requires \(dep), which stays cancelled by another operation; uncancel \(dep) first"
                    ))
            }
            if !entry.requiresAny.isEmpty && !entry.requiresAny.contains(where: running.contains) {
                violations.append(
                    Violation(
                        rule: .requiresAny, services: [s.code] + entry.requiresAny,
                        message:
                            "\(s.code) requires one of \(entry.requiresAny.joined(separator: ", ")), which stay cancelled; uncancel one of them first"
                    ))
            }
        }
        guard violations.isEmpty else {
            throw PortalError(
                .dependencyViolation, violations.map(\.message).joined(separator: " "),
                details: .init(violations: violations))
        }
        return (domain, restore.map { domain.services[$0].code })
    }
}
