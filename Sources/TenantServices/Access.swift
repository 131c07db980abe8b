/// What an actor wants to do, in the terms of the permission matrix (which roles may see,
/// order, confirm, deploy, manage users or read the audit log).
enum Capability: CaseIterable {
    case see, seePrices, editTenant, order, orderManually, confirm, deploy, setConfidential, manageUsers, readAudit

    /// Roles that grant this capability to a partner admin.
    var partnerRoles: [Role] {
        switch self {
        case .see: [.Sales, .Support, .Tech, .ALL]
        case .seePrices, .editTenant, .order, .orderManually: [.Sales, .ALL]
        case .confirm: [.Sales, .Tech, .ALL]
        case .deploy: [.Tech, .ALL]
        case .setConfidential: Role.allCases  // any role, with expert mode
        case .manageUsers: [.ALL, .UserManagement]
        case .readAudit: [.ALL, .Audit]
        }
    }

    /// Roles that grant this capability to a tenant admin (for its own tenant); empty if none can.
    var tenantRoles: [Role] {
        switch self {
        case .see: [.Support, .Tech, .ALL]
        case .deploy: [.Tech, .ALL]
        case .manageUsers: [.UserManagement, .ALL]
        case .readAudit: [.Audit, .ALL]
        case .seePrices, .editTenant, .order, .orderManually, .confirm, .setConfidential: []
        }
    }

    var needsExpertMode: Bool { self == .orderManually || self == .setConfidential }

    var phrase: String {
        switch self {
        case .see: "see tenants, domains, services and tasks"
        case .seePrices: "see prices, offers and statements"
        case .editTenant: "create or edit tenants"
        case .order: "order (add domains and services)"
        case .orderManually: "add domains manually"
        case .confirm: "confirm orders"
        case .deploy: "deploy services and complete tasks"
        case .setConfidential: "manage confidential domains and their access"
        case .manageUsers: "manage users"
        case .readAudit: "read the audit log"
        }
    }
}

/// The permission rules for one actor: its kind, roles and expert mode decide what it may do,
/// and whatever lies outside its partner or tenant is `not-found`, never `permission-denied`.
struct Access {
    let actor: Principal
    var faults = Faults()

    /// Whether the tenant lies in the actor's scope (own partner, own tenant, or operator).
    func inScope(_ tenant: Tenant) -> Bool {
        switch actor.kind {
        case .operator: true
        case .partnerAdmin: actor.partnerId == tenant.partnerId
        case .tenantAdmin: actor.tenantId == tenant.id
        }
    }

    /// Whether the domain exists for this actor: its tenant is in scope and, if it is confidential,
    /// the actor is the owning partner's admin, the operator or an explicitly granted principal.
    func canSee(_ domain: Domain, of tenant: Tenant) -> Bool {
        guard inScope(tenant) else { return false }
        guard domain.confidential else { return true }
        switch actor.kind {
        case .operator, .partnerAdmin: return true
        case .tenantAdmin: return domain.access.contains(actor.id)
        }
    }

    func allows(_ capability: Capability) -> Bool {
        switch actor.kind {
        case .operator:
            return true
        case .partnerAdmin:
            if faults.supportMayOrder && capability == .order && actor.has(anyOf: [.Support]) { return true }
            if capability.needsExpertMode && !actor.expertMode { return false }
            return actor.has(anyOf: capability.partnerRoles)
        case .tenantAdmin:
            return actor.has(anyOf: capability.tenantRoles)
        }
    }

    /// Throws `permission-denied` naming the roles that would do.
    func require(_ capability: Capability) throws(PortalError) {
        guard !allows(capability) else { return }
        let roles: [Role]
        var message: String
        switch actor.kind {
        case .operator:
            return
        case .partnerAdmin:
            roles = capability.partnerRoles
            if capability.needsExpertMode && !actor.expertMode && actor.has(anyOf: roles) {
                message = "to \(capability.phrase) a partner admin needs expert mode"
                if capability != .setConfidential { message += " and one of the roles \(list(roles))" }
            } else {
                message = "to \(capability.phrase) a partner admin needs one of the roles \(list(roles))"
                if capability.needsExpertMode { message += " and expert mode" }
            }
        case .tenantAdmin:
            roles = capability.tenantRoles
            message =
                roles.isEmpty
                ? "tenant admins may not \(capability.phrase); this is a partner function"
                : "to \(capability.phrase) a tenant admin needs one of the roles \(list(roles))"
        }
        throw PortalError(.permissionDenied, message, details: .init(required: roles))
    }

    private func list(_ roles: [Role]) -> String { roles.map(\.rawValue).joined(separator: ", ") }
}
