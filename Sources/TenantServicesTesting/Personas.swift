public import TenantServices

/// Every kind of actor the portal knows, for tests that go through all of them.
public enum Persona: String, CaseIterable, Sendable, CustomStringConvertible {
    case sales, support, tech, all, audit, userManagement
    case salesExpert, allExpert
    case tenantSupport, tenantTech, tenantAll, tenantAudit, tenantUserManagement
    case platformOperator

    public var description: String { rawValue }

    /// The roles of this persona.
    public var roles: [Role] {
        switch self {
        case .sales, .salesExpert: [.Sales]
        case .support, .tenantSupport: [.Support]
        case .tech, .tenantTech: [.Tech]
        case .all, .allExpert, .tenantAll: [.ALL]
        case .audit, .tenantAudit: [.Audit]
        case .userManagement, .tenantUserManagement: [.UserManagement]
        case .platformOperator: []
        }
    }

    /// The kind of principal.
    public var kind: Principal.Kind {
        switch self {
        case .tenantSupport, .tenantTech, .tenantAll, .tenantAudit, .tenantUserManagement: .tenantAdmin
        case .platformOperator: .operator
        default: .partnerAdmin
        }
    }

    public var expertMode: Bool { self == .salesExpert || self == .allExpert }

    /// This persona as an actor of a partner (partner admins) or a tenant (tenant admins).
    public func actor(partner: String, tenant: String, id: String? = nil) -> Principal {
        let id = id ?? "\(rawValue)@\(kind == .tenantAdmin ? tenant : partner)"
        switch kind {
        case .operator: return Principal.platformOperator(id: id)
        case .partnerAdmin:
            return Principal(id: id, kind: .partnerAdmin, partnerId: partner, roles: roles, expertMode: expertMode)
        case .tenantAdmin: return Principal(id: id, kind: .tenantAdmin, tenantId: tenant, roles: roles)
        }
    }
}
