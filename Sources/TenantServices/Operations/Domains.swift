import Foundation
import OrderedCollections

/// Adds a domain the guided way: the base and the mode service are booked automatically,
/// with the chosen options; the result must pass the full consistency check.
public struct DomainAdd: PortalRequest, Executable, Equatable {
    public static let method = "domain.add"
    static let isMutating = true
    public var tenantId: String
    public var name: String
    public var mode: IntegrationMode
    /// Option codes to book besides the base and the mode service.
    public var services: [String]?
    /// The tenant's version the caller saw (its region decides the domain's); `conflict` if it changed.
    public var expectedVersion: Int?

    public init(
        tenantId: String, name: String, mode: IntegrationMode, services: [String]? = nil, expectedVersion: Int? = nil
    ) {
        self.tenantId = tenantId
        self.name = name
        self.mode = mode
        self.services = services
        self.expectedVersion = expectedVersion
    }

    /// The new domain.
    public struct Response: Codable, Sendable, Equatable { public var domain: DomainView }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let tenant = try tx.tenant(tenantId)
        try tx.require(.order)
        try tx.check(expectedVersion: expectedVersion, current: tenant.version, of: "tenant \(tenantId)")
        try tx.requireKnown(services ?? [])
        let name = try tx.newDomainName(name)
        let codes = try tx.catalog.guidedBooking(
            of: name, mode: mode, options: services ?? [], region: tenant.region, chosen: "chosen")
        let domain = tx.newDomain(name, of: tenant, codes: codes)
        tx.save(
            domain, of: tenant, summary: "added domain \(name) (\(mode.rawValue)) with \(codes.joined(separator: ", "))"
        )
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// Adds a domain in expert mode with the base service only; further services follow with `service.add`.
public struct DomainAddManually: PortalRequest, Executable, Equatable {
    public static let method = "domain.addManually"
    static let isMutating = true
    public var tenantId: String
    public var name: String
    /// The tenant's version the caller saw (its region decides the domain's); `conflict` if it changed.
    public var expectedVersion: Int?

    public init(tenantId: String, name: String, expectedVersion: Int? = nil) {
        self.tenantId = tenantId
        self.name = name
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let tenant = try tx.tenant(tenantId)
        try tx.require(.orderManually)
        try tx.check(expectedVersion: expectedVersion, current: tenant.version, of: "tenant \(tenantId)")
        let name = try tx.newDomainName(name)
        let domain = tx.newDomain(name, of: tenant, codes: [tx.catalog.baseService.code])
        tx.save(domain, of: tenant, summary: "added domain \(name) manually")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// One domain with its services.
public struct DomainGet: PortalRequest, Executable, Equatable {
    public static let method = "domain.get"
    static let isMutating = false
    public var domainId: String

    public init(domainId: String) { self.domainId = domainId }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let (domain, _) = try tx.domain(domainId)
        try tx.require(.see)
        return Response(domain: tx.view(of: domain))
    }
}

/// The consistency report of a domain; changes nothing.
public struct DomainCheck: PortalRequest, Executable, Equatable {
    public static let method = "domain.check"
    static let isMutating = false
    public var domainId: String

    public init(domainId: String) { self.domainId = domainId }

    /// Whether the live services are consistent, and every violated rule.
    public struct Response: Codable, Sendable, Equatable {
        public var consistent: Bool
        public var violations: [Violation]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let (domain, _) = try tx.domain(domainId)
        try tx.require(.see)
        let violations = tx.catalog.violations(of: domain.liveServices(on: tx.today).map(\.code), region: domain.region)
        return Response(consistent: violations.isEmpty, violations: violations)
    }
}

/// Confirms every ordered service of a domain, if the consistency check passes.
public struct DomainConfirm: PortalRequest, Executable, Equatable {
    public static let method = "domain.confirm"
    static let isMutating = true
    public var domainId: String
    public var expectedVersion: Int?

    public init(domainId: String, expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .confirm, expectedVersion: expectedVersion)
        guard domain.services.contains(where: { $0.status == .ordered }) else {
            throw PortalError(
                .invalidTransition, "domain \(domain.name) has no ordered service to confirm; add services first")
        }
        let violations = tx.catalog.violations(of: domain.liveServices(on: tx.today).map(\.code), region: domain.region)
        guard violations.isEmpty else {
            throw PortalError(
                .dependencyViolation,
                "domain \(domain.name) does not pass the consistency check: \(violations.map(\.message).joined(separator: " "))",
                details: .init(violations: violations))
        }
        var confirmed: [String] = []
        for i in domain.services.indices where domain.services[i].status == .ordered {
            domain.services[i].status = .confirmed
            domain.services[i].confirmedAt = tx.now
            confirmed.append(domain.services[i].code)
        }
        tx.save(domain, of: tenant, summary: "confirmed \(confirmed.joined(separator: ", ")) on \(domain.name)")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// Starts deployment of every confirmed service of a domain and creates its DNS tasks.
public struct DomainDeploy: PortalRequest, Executable, Equatable {
    public static let method = "domain.deploy"
    static let isMutating = true
    public var domainId: String
    public var expectedVersion: Int?

    public init(domainId: String, expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.expectedVersion = expectedVersion
    }

    /// The domain and the tasks the deployment created.
    public struct Response: Codable, Sendable, Equatable {
        public var domain: DomainView
        public var tasks: [TaskView]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let (domain, tenant) = try tx.domain(domainId, for: .deploy, expectedVersion: expectedVersion)
        guard domain.services.contains(where: { $0.status == .confirmed }) else {
            throw PortalError(
                .invalidTransition, "domain \(domain.name) has no confirmed service to deploy; confirm the order first")
        }
        let tasks = tx.deploy(domain, of: tenant)
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!), tasks: tasks.map(tx.view(of:)))
    }
}

/// Marks a domain confidential (or not): then only the owning partner's admins, the operator and
/// principals granted access see it.
public struct DomainSetConfidential: PortalRequest, Executable, Equatable {
    public static let method = "domain.setConfidential"
    static let isMutating = true
    public var domainId: String
    public var confidential: Bool
    public var expectedVersion: Int?

    public init(domainId: String, confidential: Bool, expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.confidential = confidential
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .setConfidential, expectedVersion: expectedVersion)
        if domain.confidential != confidential {
            domain.confidential = confidential
            tx.save(domain, of: tenant, summary: "\(domain.name) is \(confidential ? "now" : "no longer") confidential")
        }
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// Grants a principal access to a confidential domain.
public struct DomainGrantAccess: PortalRequest, Executable, Equatable {
    public static let method = "domain.grantAccess"
    static let isMutating = true
    public var domainId: String
    public var principalId: String
    public var expectedVersion: Int?

    public init(domainId: String, principalId: String, expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.principalId = principalId
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try changeAccess(in: &tx, domainId: domainId, expectedVersion: expectedVersion) { domain in
            guard !domain.access.contains(principalId) else { return nil }
            domain.access.append(principalId)
            return "granted \(principalId) access to \(domain.name)"
        }
    }
}

/// Revokes a principal's access to a confidential domain.
public struct DomainRevokeAccess: PortalRequest, Executable, Equatable {
    public static let method = "domain.revokeAccess"
    static let isMutating = true
    public var domainId: String
    public var principalId: String
    public var expectedVersion: Int?

    public init(domainId: String, principalId: String, expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.principalId = principalId
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try changeAccess(in: &tx, domainId: domainId, expectedVersion: expectedVersion) { domain in
            guard domain.access.contains(principalId) else { return nil }
            domain.access.removeAll { $0 == principalId }
            return "revoked \(principalId)'s access to \(domain.name)"
        }
    }
}

private func changeAccess(
    in tx: inout Transaction, domainId: String, expectedVersion: Int?, _ change: (inout Domain) -> String?
) throws(PortalError) -> DomainAdd.Response {
    var (domain, tenant) = try tx.domain(domainId, for: .setConfidential, expectedVersion: expectedVersion)
    if let summary = change(&domain) { tx.save(domain, of: tenant, summary: summary) }
    return DomainAdd.Response(domain: tx.view(of: tx.state.domains[domain.id]!))
}

extension Transaction {
    /// Every code must be in the catalog, else `not-found` naming the first unknown one.
    func requireKnown(_ codes: [String]) throws(PortalError) {
        if let unknown = codes.first(where: { catalog[$0] == nil }) {
            throw PortalError(
                .notFound,
                "service '\(unknown)' is not in the catalog; known codes: \(catalog.services.map(\.code).joined(separator: ", "))"
            )
        }
    }

    /// The latest booking of a code on a domain. A code outside the catalog, and a catalog code
    /// the domain has never booked, are both `not-found`, checked after the version and before
    /// the domain rules.
    func booking(of code: String, on domain: Domain) throws(PortalError) -> BookedService {
        try requireKnown([code])
        guard let booking = domain.services.last(where: { $0.code == code }) else {
            throw PortalError(.notFound, "\(code) is not booked on \(domain.name)")
        }
        return booking
    }

    /// The stored form of a name for a new domain: valid, not free-mail, not booked elsewhere.
    func newDomainName(_ raw: String) throws(PortalError) -> String {
        let name = try validDomainName(raw)
        try requireUnbooked(name)
        return name
    }

    /// The stored form of a valid domain name that is not free-mail, else `invalid-domain`.
    func validDomainName(_ raw: String) throws(PortalError) -> String {
        let name: String
        do {
            name = try DomainName.normalize(raw)
        } catch {
            throw PortalError(.invalidDomain, error.description)
        }
        guard !catalog.isFreeMail(name) else {
            throw PortalError(
                .invalidDomain, "'\(name)' is a free-mail domain; only a customer's own domains can be added")
        }
        return name
    }

    /// `conflict` when a stored name is booked with a live service.
    func requireUnbooked(_ name: String) throws(PortalError) {
        if let taken = state.domains(named: name).first(where: { $0.hasLiveService(on: today) }) {
            let mine = state.tenants[taken.tenantId].map { access.canSee(taken, of: $0) } ?? false
            throw PortalError(
                .conflict,
                mine
                    ? "domain \(name) is already booked as \(taken.id); add services to it instead"
                    : "domain \(name) is already booked on the platform; it can be added once its services have ended")
        }
    }

    /// A new tenant with the next ID, at version 1, created now.
    mutating func newTenant(
        of partnerId: String, name: String, contact: Contact?, address: Address, invoiceReference: String? = nil,
        source: TenantSource, externalId: String? = nil, products: [String] = []
    ) -> Tenant {
        Tenant(
            id: state.newID("T"), partnerId: partnerId, name: name, contact: contact, address: address,
            invoiceReference: invoiceReference, source: source, externalId: externalId, products: products,
            version: 1, createdAt: now)
    }

    mutating func newDomain(_ name: String, of tenant: Tenant, codes: [String]) -> Domain {
        var domain = Domain(
            id: state.newID("D"), tenantId: tenant.id, name: name, region: tenant.region, lastMode: nil,
            confidential: false, access: [], services: [], nextServiceNumber: 1, users: [], version: 0,
            createdAt: now)
        book(codes, on: &domain)
        return domain
    }

    /// Books services as `ordered` with the next sequential numbers.
    func book(_ codes: [String], on domain: inout Domain) {
        for code in codes {
            domain.services.append(
                BookedService(
                    number: domain.nextServiceNumber, code: code, status: .ordered, orderedAt: now, confirmedAt: nil,
                    provisionedAt: nil, billingStart: nil, endDate: nil, discount: nil, cancellation: nil))
            domain.nextServiceNumber += 1
        }
        if let mode = catalog.mode(of: domain.liveServices(on: today).map(\.code)) { domain.lastMode = mode }
    }

    /// Moves every confirmed service to `provisioning`, creates its tasks and advances what can go live.
    ///
    /// A record that an ended booking of the same name set and nobody has removed yet is still in
    /// place: the new booking takes it over (its task is done at once) and the ended booking's
    /// removal of it is cancelled, so the tasks never ask to remove a record a booking needs nor
    /// to set one that is there. The ended booking's domain is saved as the system's change, with
    /// a summary that names nothing of the new booking.
    mutating func deploy(_ domain: Domain, of tenant: Tenant) -> [DeployTask] {
        var domain = domain
        var tasks: [DeployTask] = []
        var deployed: [String] = []
        var released: [DeployTask] = []
        for i in domain.services.indices where domain.services[i].status == .confirmed {
            domain.services[i].status = .provisioning
            let service = domain.services[i]
            deployed.append(service.code)
            if let template = catalog[service.code]?.task {
                var task = DeployTask(
                    id: state.newID("K"), domainId: domain.id, service: service.code,
                    serviceNumber: service.number, kind: .deploy,
                    record: template.record(for: domain.name), status: .open, createdAt: now, doneAt: nil)
                let holders = holders(of: task.record, named: domain.name)
                if !holders.isEmpty {
                    task.status = .done
                    task.doneAt = now
                    for holder in holders { released.append(releasing(holder)) }
                }
                tasks.append(task)
            }
        }
        for task in tasks + released { state.apply(.taskSaved(task)) }
        // The ended bookings on other domains first, so that the operation's last record (which
        // carries its request key) is the deployed domain's own.
        var others: OrderedDictionary<String, [DeployTask]> = [:]
        for task in released where task.domainId != domain.id { others[task.domainId, default: []].append(task) }
        for (id, cancelled) in others {
            guard var other = state.domains[id], let owner = state.tenants[other.tenantId] else { continue }
            advance(&other)
            let records = cancelled.map { "\($0.record.type) \($0.record.name)" }.joined(separator: ", ")
            save(
                other, of: owner,
                summary:
                    "removal of \(records) cancelled: \(other.name) is booked again and needs it, so it stays in place",
                tasks: cancelled, by: Principal.system.reference)
        }
        let own = released.filter { $0.domainId == domain.id }
        advance(&domain)
        let taken = tasks.filter { $0.status == .done }.map { "\($0.record.type) \($0.record.name)" }
        save(
            domain, of: tenant,
            summary: "deployed \(deployed.joined(separator: ", ")) on \(domain.name)"
                + (taken.isEmpty ? "" : "; took over \(taken.joined(separator: ", ")), still in place"),
            tasks: tasks + own)
        return tasks
    }

    /// The done deploy tasks of ended bookings of a name whose record is still in place: no
    /// removal task of that booking for the record is done or cancelled.
    func holders(of record: DNSRecord, named name: String) -> [DeployTask] {
        var holders: [DeployTask] = []
        for domain in state.domains(named: name) {
            let tasks = state.tasks(ofDomain: domain.id)
            for task in tasks where task.kind == .deploy && task.status == .done && task.record == record {
                guard let service = domain.services.first(where: { $0.number == task.serviceNumber }),
                    !service.isLive(on: today)
                else { continue }
                let gone = tasks.contains {
                    $0.kind == .remove && $0.serviceNumber == task.serviceNumber && $0.record == record
                        && $0.status != .open
                }
                if !gone { holders.append(task) }
            }
        }
        return holders
    }

    /// The ended booking's removal of a record it handed over, cancelled: its open removal task,
    /// or, before `workflow.tick` has given it one, a new one that is cancelled from the start
    /// (so the tick gives it none).
    mutating func releasing(_ holder: DeployTask) -> DeployTask {
        let removal = state.tasks(ofDomain: holder.domainId).first {
            $0.kind == .remove && $0.serviceNumber == holder.serviceNumber && $0.record == holder.record
                && $0.status == .open
        }
        var task =
            removal
            ?? DeployTask(
                id: state.newID("K"), domainId: holder.domainId, service: holder.service,
                serviceNumber: holder.serviceNumber, kind: .remove, record: holder.record, status: .open,
                createdAt: now, doneAt: nil)
        task.status = .cancelled
        return task
    }

    /// Provisions every service whose own tasks are done and whose requirements are provisioned,
    /// finishes deprovisioning without open removal tasks, and sets billing start where a counted
    /// user exists.
    func advance(_ domain: inout Domain) {
        func isUp(_ s: BookedService) -> Bool { s.provisionedAt != nil && s.isLive(on: today) }
        for code in catalog.topologicalOrder {
            guard let i = domain.services.firstIndex(where: { $0.code == code && $0.status == .provisioning }),
                let entry = catalog[code]
            else { continue }
            let service = domain.services[i]
            let tasksOpen = state.tasks(ofDomain: domain.id).contains {
                $0.serviceNumber == service.number && $0.kind == .deploy && $0.status == .open
            }
            let up = domain.services.filter(isUp).map(\.code)
            let requirementsUp =
                entry.requires.allSatisfy(up.contains)
                && (entry.requiresAny.isEmpty || entry.requiresAny.contains(where: up.contains))
            if !tasksOpen && requirementsUp {
                domain.services[i].status = .provisioned
                domain.services[i].provisionedAt = now
            }
        }
        for i in domain.services.indices where domain.services[i].status == .deprovisioning {
            let number = domain.services[i].number
            let open = state.tasks(ofDomain: domain.id).contains {
                $0.serviceNumber == number && $0.kind == .remove && $0.status == .open
            }
            if !open { domain.services[i].status = .deprovisioned }
        }
        for i in domain.services.indices where domain.services[i].billingStart == nil && isUp(domain.services[i]) {
            if let entry = catalog[domain.services[i].code], domain.users.contains(where: entry.counts) {
                domain.services[i].billingStart = today
            }
        }
    }
}

extension Catalog.Service.TaskTemplate {
    func record(for domain: String) -> DNSRecord {
        let dashed = domain.replacingOccurrences(of: ".", with: "-")
        func fill(_ text: String) -> String {
            text.replacingOccurrences(of: "{domain}", with: domain).replacingOccurrences(of: "{dashed}", with: dashed)
        }
        return DNSRecord(type: type, name: fill(name ?? "{domain}"), value: fill(value))
    }
}

extension Catalog {
    /// What a guided booking of a domain books: the base service, the mode's service, then the
    /// options in their order without repeats; `dependency-violation` naming the domain and every
    /// rule broken unless they are consistent. `chosen` says how they came: "chosen" or "offered".
    func guidedBooking(
        of name: String, mode: IntegrationMode, options: [String], region: Region, chosen: String
    ) throws(PortalError) -> [String] {
        var codes = [baseService.code, modeService(for: mode)!.code]
        for code in options where !codes.contains(code) { codes.append(code) }
        let violations = violations(of: codes, region: region)
        guard violations.isEmpty else {
            throw PortalError(
                .dependencyViolation,
                "the services \(chosen) for \(name) are not consistent: \(violations.map(\.message).joined(separator: " "))",
                details: .init(violations: violations))
        }
        return codes
    }
}
