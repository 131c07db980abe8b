import Foundation
public import TenantServices

/// A portal with partners, tenants and domains in any state, built in a few lines.
///
/// ```swift
/// let world = try WorldBuilder(clock: TestClock("2026-11-18"))
/// let partner = try world.partner("Muster IT")
/// let tenant = try world.tenant("Muster AG", of: partner)
/// let domain = try world.domain("muster.ch", of: tenant, mode: .inline, options: ["SC-F-OUTBOUND"],
///                               status: .provisioned, users: [.signEncrypt: 2, .none: 5])
/// let sales = world.actor(.sales, of: partner, tenant: tenant)
/// ```
public final class WorldBuilder: @unchecked Sendable {
    // Invariant for @unchecked Sendable: the builder is meant for one test at a time; its only
    // mutable state is the list of created IDs, touched by the thread that builds the world.

    public let clock: TestClock
    public let portal: Portal
    /// Every partner, tenant and domain created, in order.
    public private(set) var partners: [String] = []
    public private(set) var tenants: [String] = []
    public private(set) var domains: [String] = []
    private var tenantPartner: [String: String] = [:]
    private let admin = Principal.platformOperator(id: "world-builder")

    /// A builder over a store (in memory unless given).
    public init(
        clock: TestClock = TestClock("2026-11-18"), catalog: Catalog = .standard, store: any Store = InMemoryStore()
    ) throws {
        self.clock = clock
        faults = Faults()
        portal = try Portal(catalog: catalog, clock: clock, calendar: clock.calendar, store: store)
    }

    /// A builder whose portal has deliberately broken rules (to test invariant checks).
    package init(clock: TestClock, faults: Faults, catalog: Catalog = .standard, store: any Store = InMemoryStore())
        throws
    {
        self.clock = clock
        self.faults = faults
        portal = try Portal(catalog: catalog, clock: clock, calendar: clock.calendar, store: store, faults: faults)
    }

    private let faults: Faults

    /// A copy of this world (state, clock and known IDs) in memory, to try calls on without
    /// changing this one: for example every action a view advertises.
    ///
    /// The copy replays this portal's journal; request keys are not copied.
    public func fork() throws -> WorldBuilder {
        let store = InMemoryStore()
        _ = store.write(portal.journal)
        let copy = try WorldBuilder(
            clock: TestClock(instant: clock.now(), calendar: clock.calendar), faults: faults, catalog: portal.catalog,
            store: store)
        copy.partners = partners
        copy.tenants = tenants
        copy.domains = domains
        copy.tenantPartner = tenantPartner
        return copy
    }

    /// Creates a partner.
    @discardableResult
    public func partner(_ name: String) throws -> String {
        let id = try portal.perform(PartnerCreate(name: name), as: admin).partner.id
        partners.append(id)
        return id
    }

    /// Creates a tenant of a partner in a country (CH by default).
    @discardableResult
    public func tenant(_ name: String, of partner: String, country: String = "CH") throws -> String {
        let id = try portal.perform(
            TenantCreate(
                partnerId: partner, name: name,
                contact: Contact(email: "it@\(name.lowercased().filter(\.isLetter)).example"),
                address: Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: country)),
            as: admin
        ).tenant.id
        tenants.append(id)
        tenantPartner[id] = partner
        return id
    }

    /// Adds a domain the guided way and brings its services to a status (through the real workflow).
    ///
    /// Services without DNS tasks move on by themselves: at `provisioning` and `deprovisioning`
    /// they are already one step further (`provisioned`, `deprovisioned`).
    @discardableResult
    public func domain(
        _ name: String, of tenant: String, mode: IntegrationMode = .inline, options: [String] = [],
        status: ServiceStatus = .ordered, users: [Protection: Int] = [:]
    ) throws -> String {
        let id = try portal.perform(DomainAdd(tenantId: tenant, name: name, mode: mode, services: options), as: admin)
            .domain.id
        domains.append(id)
        if !users.isEmpty {
            let host = try portal.perform(DomainGet(domainId: id), as: admin).domain.name
            var entries: [UsersImport.Entry] = []
            for (protection, count) in users.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                for i in 0..<count {
                    entries.append(
                        .init(address: "\(protection.rawValue.lowercased())\(i)@\(host)", protection: protection))
                }
            }
            _ = try portal.perform(UsersImport(domainId: id, users: entries), as: admin)
        }
        try advance(domain: id, to: status)
        return id
    }

    /// Brings every service of a domain forward to a status.
    public func advance(domain id: String, to status: ServiceStatus) throws {
        if status >= .confirmed { _ = try portal.perform(DomainConfirm(domainId: id), as: admin) }
        if status >= .provisioning { _ = try portal.perform(DomainDeploy(domainId: id), as: admin) }
        if status >= .provisioned {
            for task in try portal.perform(TaskList(domainId: id, status: .open, limit: 1000), as: admin).tasks {
                _ = try portal.perform(TaskComplete(taskId: task.id), as: admin)
            }
        }
        if status >= .cancelled {
            let base = portal.catalog.baseService.code
            _ = try portal.perform(ServiceCancel(domainId: id, service: base), as: admin)
        }
        if status >= .deprovisioning {
            clock.set(clock.today.endOfMonth.adding(days: 32).description)
            _ = try portal.perform(WorkflowTick(), as: admin)
        }
        if status >= .deprovisioned {
            for task in try portal.perform(TaskList(domainId: id, status: .open, limit: 1000), as: admin).tasks {
                _ = try portal.perform(TaskComplete(taskId: task.id), as: admin)
            }
        }
    }

    /// A ready actor of a persona for a partner's tenant.
    public func actor(_ persona: Persona, of partner: String, tenant: String? = nil) -> Principal {
        persona.actor(partner: partner, tenant: tenant ?? tenants.first { tenantPartner[$0] == partner } ?? "")
    }

    /// Records a domain created outside the builder (by a generated step).
    func note(domain id: String) {
        if !domains.contains(id) { domains.append(id) }
    }

    /// Records a tenant created outside the builder (by a generated step).
    func note(tenant id: String, partner: String) {
        if !tenants.contains(id) {
            tenants.append(id)
            tenantPartner[id] = partner
        }
    }

    /// The partner a tenant belongs to.
    public func partner(of tenant: String) -> String? { tenantPartner[tenant] }
}
