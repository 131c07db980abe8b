/// A role a partner admin or tenant admin can hold.
public enum Role: String, Codable, Sendable, CaseIterable {
    case Sales, Support, Tech, ALL, Audit, UserManagement
}

/// Who performs a call. The host authenticates; the library authorizes.
public struct Principal: Codable, Sendable, Equatable, Hashable {
    /// The three kinds of principal.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case partnerAdmin, tenantAdmin, `operator`
    }

    public var id: String
    public var kind: Kind
    public var partnerId: String?
    public var tenantId: String?
    public var roles: [Role]
    public var expertMode: Bool

    public init(
        id: String, kind: Kind, partnerId: String? = nil, tenantId: String? = nil, roles: [Role] = [],
        expertMode: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.partnerId = partnerId
        self.tenantId = tenantId
        self.roles = roles
        self.expertMode = expertMode
    }

    private enum CodingKeys: String, CodingKey { case id, kind, partnerId, tenantId, roles, expertMode }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(Kind.self, forKey: .kind)
        partnerId = try c.decodeIfPresent(String.self, forKey: .partnerId)
        tenantId = try c.decodeIfPresent(String.self, forKey: .tenantId)
        roles = try c.decodeIfPresent([Role].self, forKey: .roles) ?? []
        expertMode = try c.decodeIfPresent(Bool.self, forKey: .expertMode) ?? false
    }

    /// The platform operator, who may do everything.
    public static func platformOperator(id: String = "operator") -> Principal {
        Principal(id: id, kind: .operator)
    }

    /// The scheduler that runs `workflow.tick`.
    static let system = Principal(id: "system", kind: .operator)

    func has(anyOf roles: [Role]) -> Bool { self.roles.contains { roles.contains($0) } }

    /// The actor as shown in audit events.
    public var reference: PrincipalReference { PrincipalReference(id: id, kind: kind) }
}

/// Who did something, as recorded in the audit log.
public struct PrincipalReference: Codable, Sendable, Equatable {
    public var id: String
    public var kind: Principal.Kind
}
