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

    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable {
        var (domain, tenant) = try tx.domain(domainId, for: .order, expectedVersion: expectedVersion)
        try tx.requireKnown(services)
        var codes: [String] = []
        for code in services where !codes.contains(code) { codes.append(code) }
        guard !codes.isEmpty else { throw PortalError(.invalidArgument, "services must name at least one code") }
        if !domain.hasLiveService,
            tx.state.domains.values.contains(where: { $0.name == domain.name && $0.hasLiveService })
        {
            throw PortalError(
                .conflict, "domain \(domain.name) has been booked again on the platform since its services ended")
        }
        let live = domain.liveServices
        try refuseOnEndingRequirements(codes, live: live, domain: domain, catalog: tx.catalog)
        if let existing = live.first(where: { codes.contains($0.code) }) {
            throw PortalError(
                .conflict,
                "\(existing.code) is already booked on \(domain.name) as number \(existing.number) (\(existing.status.rawValue))"
            )
        }
        let violations = tx.catalog.permanentViolations(of: live.map(\.code) + codes, region: domain.region)
        guard violations.isEmpty else {
            throw PortalError(
                .dependencyViolation,
                "cannot book \(codes.joined(separator: ", ")) on \(domain.name): \(violations.map(\.message).joined(separator: " "))",
                details: .init(violations: violations))
        }
        tx.book(codes, on: &domain)
        tx.save(domain, of: tenant, summary: "ordered \(codes.joined(separator: ", ")) on \(domain.name)")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// A new service must not depend on services that are cancelled and about to end: it would outlive them.
private func refuseOnEndingRequirements(_ codes: [String], live: [BookedService], domain: Domain, catalog: Catalog)
    throws(PortalError)
{
    let ending = Dictionary(live.filter { $0.status == .cancelled }.map { ($0.code, $0) }, uniquingKeysWith: { $1 })
    guard !ending.isEmpty else { return }
    let running = Set(live.filter { $0.status != .cancelled }.map(\.code)).union(codes)
    if let base = ending[catalog.baseService.code] {
        throw PortalError(
            .invalidTransition,
            "domain \(domain.name) is cancelled (\(base.code) ends \(base.endDate!)); uncancel it before ordering more services"
        )
    }
    for code in codes {
        guard let entry = catalog[code] else { continue }
        if let dep = entry.requires.first(where: { ending[$0] != nil }) {
            throw PortalError(
                .invalidTransition,
                "\(code) requires \(dep), which is cancelled and ends \(ending[dep]!.endDate!); uncancel \(dep) before booking \(code)"
            )
        }
        if !entry.requiresAny.isEmpty && !entry.requiresAny.contains(where: running.contains),
            let dep = entry.requiresAny.first(where: { ending[$0] != nil })
        {
            throw PortalError(
                .invalidTransition,
                "\(code) needs one of \(entry.requiresAny.joined(separator: ", ")); \(dep) is cancelled and ends \(ending[dep]!.endDate!); uncancel it first"
            )
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

    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable {
        let (domain, _) = try tx.domain(domainId)
        try tx.require(.see)
        return Response(services: tx.availability(on: domain))
    }
}
