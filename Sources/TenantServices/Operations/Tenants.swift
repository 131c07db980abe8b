import Foundation
import OrderedCollections

/// Creates a tenant for the actor's partner (or, for the operator, the given partner).
public struct TenantCreate: PortalRequest, Executable, Equatable {
    public static let method = "tenant.create"
    static let isMutating = true
    public var partnerId: String?
    public var name: String
    public var contact: Contact
    public var address: Address
    public var invoiceReference: String?

    public init(
        partnerId: String? = nil, name: String, contact: Contact, address: Address, invoiceReference: String? = nil
    ) {
        self.partnerId = partnerId
        self.name = name
        self.contact = contact
        self.address = address
        self.invoiceReference = invoiceReference
    }

    /// The created tenant.
    public struct Response: Codable, Sendable, Equatable { public var tenant: TenantView }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let partnerId = try tx.partnerForNewTenant(partnerId)
        try tx.require(.editTenant)
        let tenant = tx.newTenant(
            of: partnerId, name: try requireText(name, "name"), contact: try validated(contact),
            address: try validated(address), invoiceReference: invoiceReference.flatMap(nonEmpty), source: .portal)
        tx.record(target: tenant.id, summary: "created tenant \(tenant.name)", tenant: tenant, [.tenantSaved(tenant)])
        return Response(tenant: tx.view(of: tenant))
    }
}

/// Changes a tenant's master data.
public struct TenantUpdate: PortalRequest, Executable, Equatable {
    public static let method = "tenant.update"
    static let isMutating = true
    public var tenantId: String
    public var expectedVersion: Int?
    public var name: String?
    public var contact: Contact?
    public var address: Address?
    public var invoiceReference: String?

    public init(
        tenantId: String, expectedVersion: Int? = nil, name: String? = nil, contact: Contact? = nil,
        address: Address? = nil, invoiceReference: String? = nil
    ) {
        self.tenantId = tenantId
        self.expectedVersion = expectedVersion
        self.name = name
        self.contact = contact
        self.address = address
        self.invoiceReference = invoiceReference
    }

    public typealias Response = TenantCreate.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var tenant = try tx.tenant(tenantId)
        try tx.require(.editTenant)
        try tx.check(expectedVersion: expectedVersion, current: tenant.version, of: "tenant \(tenantId)")
        let before = tenant
        if let name { tenant.name = try requireText(name, "name") }
        if let contact { tenant.contact = try validated(contact) }
        if let address { tenant.address = try validated(address) }
        if let invoiceReference { tenant.invoiceReference = nonEmpty(invoiceReference) }
        try tx.requireRegionKept(from: before, to: tenant)
        if tenant != before {
            tenant.version += 1
            tx.record(
                target: tenant.id, summary: "updated tenant \(tenant.name)", tenant: tenant, [.tenantSaved(tenant)])
        }
        return Response(tenant: tx.view(of: tenant))
    }
}

/// One tenant with every domain the actor may see (ended ones included), each with its services.
public struct TenantGet: PortalRequest, Executable, Equatable {
    public static let method = "tenant.get"
    static let isMutating = false
    public var tenantId: String

    public init(tenantId: String) { self.tenantId = tenantId }

    /// The tenant and its visible domains.
    public struct Response: Codable, Sendable, Equatable {
        public var tenant: TenantView
        public var domains: [DomainView]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let tenant = try tx.tenant(tenantId)
        try tx.require(.see)
        let domains = tx.state.domains(ofTenant: tenant.id).filter { tx.access.canSee($0, of: tenant) }
        return Response(tenant: tx.view(of: tenant), domains: domains.map(tx.view(of:)))
    }
}

/// The tenants the actor may see, in creation order, optionally filtered.
public struct TenantList: PortalRequest, Executable, Equatable {
    public static let method = "tenant.list"
    static let isMutating = false
    /// Matches name, ID, external ID or a visible domain name, case-insensitively.
    public var query: String?
    public var limit: Int?
    public var cursor: String?

    public init(query: String? = nil, limit: Int? = nil, cursor: String? = nil) {
        self.query = query
        self.limit = limit
        self.cursor = cursor
    }

    /// One page of tenants.
    public struct Response: Codable, Sendable, Equatable {
        public var tenants: [TenantView]
        public var nextCursor: String?
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try tx.require(.see)
        let needle = query.flatMap(nonEmpty)?.lowercased()
        let access = tx.access
        let state = tx.state
        let matching = state.tenants.values.lazy.filter { tenant in
            guard access.inScope(tenant) else { return false }
            guard let needle else { return true }
            if tenant.name.lowercased().contains(needle) || tenant.id.lowercased() == needle
                || tenant.externalId?.lowercased() == needle
            {
                return true
            }
            return state.domains(ofTenant: tenant.id).contains {
                access.canSee($0, of: tenant) && $0.name.contains(needle)
            }
        }
        let page = try Page(matching, key: { orderKey($0.id) }, limit: limit, cursor: cursor)
        return Response(tenants: page.items.map(tx.view(of:)), nextCursor: page.nextCursor)
    }
}

/// CRM sync: creates or updates a partner's tenants, idempotent by `externalId` (operator only).
public struct TenantImport: PortalRequest, Executable, Equatable {
    public static let method = "tenant.import"
    static let isMutating = true

    /// One tenant as the CRM knows it.
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var address: Address
        public var contact: Contact?
        public var externalId: String?
        public var products: [String]?

        public init(
            name: String, address: Address, contact: Contact? = nil, externalId: String? = nil,
            products: [String]? = nil
        ) {
            self.name = name
            self.address = address
            self.contact = contact
            self.externalId = externalId
            self.products = products
        }
    }

    public var partnerId: String
    public var tenants: [Entry]

    public init(partnerId: String, tenants: [Entry]) {
        self.partnerId = partnerId
        self.tenants = tenants
    }

    /// The created or updated tenants, in the order given.
    public struct Response: Codable, Sendable, Equatable { public var tenants: [TenantView] }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try tx.requireOperator(for: "import tenants from the CRM")
        guard tx.state.partners[partnerId] != nil else { throw .notFound("partner", partnerId) }
        var results: [String] = []
        for entry in tenants {
            let name = try requireText(entry.name, "tenants[].name")
            let address = try validated(entry.address)
            let contact = try entry.contact.map(validated)
            let externalId = entry.externalId.flatMap(nonEmpty)
            if let externalId,
                let id = tx.state.tenantsByExternalId[
                    PortalState.externalKey(partnerId: partnerId, externalId: externalId)],
                var tenant = tx.state.tenants[id]
            {
                let before = tenant
                tenant.name = name
                tenant.address = address
                if let contact { tenant.contact = contact }
                if let products = entry.products { tenant.products = products }
                try tx.requireRegionKept(from: before, to: tenant)
                if tenant != before {
                    tenant.version += 1
                    tx.record(
                        target: tenant.id, summary: "CRM sync updated tenant \(name)", tenant: tenant,
                        [.tenantSaved(tenant)])
                }
                results.append(id)
            } else {
                let tenant = tx.newTenant(
                    of: partnerId, name: name, contact: contact, address: address, source: .crm,
                    externalId: externalId, products: entry.products ?? [])
                tx.record(
                    target: tenant.id, summary: "CRM sync created tenant \(name)", tenant: tenant,
                    [.tenantSaved(tenant)])
                results.append(tenant.id)
            }
        }
        let state = tx.state
        return Response(tenants: results.map { tx.view(of: state.tenants[$0]!) })
    }
}

extension Transaction {
    /// A country change may not move a tenant with a live domain to the other region (its mail is
    /// processed there, and its region decides the currency): `conflict` naming the live domains.
    func requireRegionKept(from before: Tenant, to after: Tenant) throws(PortalError) {
        guard after.region != before.region else { return }
        let live = state.domains(ofTenant: before.id).filter { $0.hasLiveService(on: today) }
        guard !live.isEmpty else { return }
        let shown = live.filter { access.canSee($0, of: before) }.map { "\($0.name) (\($0.id))" }
        let hidden = live.count - shown.count
        let names =
            shown.joined(separator: ", ") + (hidden > 0 ? (shown.isEmpty ? "" : " and ") + "\(hidden) more" : "")
        throw PortalError(
            .conflict,
            "moving tenant \(before.id) from \(before.address.country) to \(after.address.country) would move it from region \(before.region.rawValue) to \(after.region.rawValue), but it has live domains in region \(before.region.rawValue): \(names); cancel their services and let them end first, or keep a country of region \(before.region.rawValue)"
        )
    }

    /// The partner a new tenant belongs to: the actor's own, or for the operator the one given.
    func partnerForNewTenant(_ requested: String?) throws(PortalError) -> String {
        switch actor.kind {
        case .operator:
            guard let requested else {
                throw PortalError(.invalidArgument, "the operator must name the partnerId the tenant belongs to")
            }
            guard state.partners[requested] != nil else { throw .notFound("partner", requested) }
            return requested
        case .partnerAdmin:
            let own = actor.partnerId ?? ""
            if let requested, requested != own { throw .notFound("partner", requested) }
            return own
        case .tenantAdmin:
            try require(.editTenant)
            return ""
        }
    }
}

func nonEmpty(_ text: String) -> String? {
    let trimmed = text.trimming(.spacesAndNewlines)
    return trimmed.isEmpty ? nil : trimmed
}

func validated(_ contact: Contact) throws(PortalError) -> Contact {
    let email = contact.email.trimming(.spaces)
    let parts = email.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !email.containsSpace else {
        throw PortalError(
            .invalidArgument, "contact.email '\(contact.email)' is not an e-mail address like anna@example.ch")
    }
    return Contact(email: email, phone: contact.phone.flatMap(nonEmpty))
}

func validated(_ address: Address) throws(PortalError) -> Address {
    let country = address.country.uppercased()
    guard country.count == 2, country.allSatisfy({ ("A"..."Z").contains($0) }) else {
        throw PortalError(
            .invalidArgument, "address.country '\(address.country)' is not an ISO 3166 two-letter code such as CH or DE"
        )
    }
    return Address(
        street: try requireText(address.street, "address.street"),
        postalCode: try requireText(address.postalCode, "address.postalCode"),
        city: try requireText(address.city, "address.city"), country: country)
}
