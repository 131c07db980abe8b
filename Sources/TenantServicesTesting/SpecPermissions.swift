public import TenantServices

/// The permission matrix (which actor kinds and roles may call which method) written out as data, independent of the library's own rules,
/// so tests can check the library against the specification.
public enum SpecPermissions {
    /// A column of the matrix.
    public enum Column: Sendable, CaseIterable {
        case see, edit, order, orderManually, confirm, deploy, confidential, users, seeOrUsers, audit, prices, everyone,
            operatorOnly
    }

    /// The column that governs a method.
    public static func column(of method: String) -> Column {
        switch method {
        case "catalog.get": .everyone
        case "partner.create", "partner.list", "tenant.import", "workflow.tick", "clock.get", "clock.set": .operatorOnly
        case "tenant.create", "tenant.update": .edit
        case "tenant.get", "tenant.list", "domain.get", "domain.check", "service.available", "task.list": .see
        case "domain.add", "service.add", "service.cancel", "service.uncancel", "service.setDiscount": .order
        case "domain.addManually": .orderManually
        case "domain.confirm": .confirm
        case "domain.deploy", "task.complete": .deploy
        case "domain.setConfidential", "domain.grantAccess", "domain.revokeAccess": .confidential
        case "users.import", "users.remove": .users
        case "users.list": .seeOrUsers
        case "audit.list": .audit
        default: method.hasPrefix("offer.") || method == "billing.statement" ? .prices : .operatorOnly
        }
    }

    static let partnerRoles: [Column: [Role]] = [
        .see: [.Sales, .Support, .Tech, .ALL], .edit: [.Sales, .ALL], .order: [.Sales, .ALL],
        .orderManually: [.Sales, .ALL], .confirm: [.Sales, .Tech, .ALL], .deploy: [.Tech, .ALL],
        .confidential: Role.allCases, .users: [.ALL, .UserManagement],
        .seeOrUsers: [.Sales, .Support, .Tech, .ALL, .UserManagement], .audit: [.ALL, .Audit], .prices: [.Sales, .ALL],
        .everyone: Role.allCases, .operatorOnly: [],
    ]

    static let tenantRoles: [Column: [Role]] = [
        .see: [.Support, .Tech, .ALL], .deploy: [.Tech, .ALL], .users: [.UserManagement, .ALL],
        .seeOrUsers: [.Support, .Tech, .ALL, .UserManagement], .audit: [.Audit, .ALL], .everyone: Role.allCases,
    ]

    /// Whether the permission matrix lets this actor call a method at all (scope aside).
    public static func allows(_ actor: Principal, _ method: String) -> Bool {
        let column = column(of: method)
        if column == .everyone { return true }  // catalog.get: for any actor, with roles or without
        switch actor.kind {
        case .operator:
            return true
        case .partnerAdmin:
            if (column == .orderManually || column == .confidential) && !actor.expertMode { return false }
            return actor.roles.contains { partnerRoles[column]!.contains($0) }
        case .tenantAdmin:
            return actor.roles.contains { tenantRoles[column]?.contains($0) ?? false }
        }
    }
}
