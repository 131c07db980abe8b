import TenantServicesTesting
import Testing

@testable import TenantServices

/// One operation of the matrix and how to build it for a target tenant; the permission
/// matrix itself is `SpecPermissions` of TenantServicesTesting.
private struct Case: CustomTestStringConvertible, Sendable {
    let method: String
    /// Whether the call names a target tenant or domain (so "other partner" applies).
    let targeted: Bool
    let run: @Sendable (World, Int, Principal) throws -> Void

    var testDescription: String { method }
}

private func call<R: PortalRequest>(_ world: World, _ request: R, _ actor: Principal) throws {
    _ = try world.portal.perform(request, as: actor)
}

private let cases: [Case] = [
    Case(method: "catalog.get", targeted: false) { w, _, a in try call(w, CatalogGet(), a) },
    Case(method: "partner.create", targeted: false) { w, _, a in
        try call(w, PartnerCreate(name: "X"), a)
    },
    Case(method: "partner.list", targeted: false) { w, _, a in try call(w, PartnerList(), a) },
    Case(method: "tenant.create", targeted: true) { w, t, a in
        try call(w, TenantCreate(partnerId: w.partners[t], name: "New", contact: contact, address: zurich), a)
    },
    Case(method: "tenant.update", targeted: true) { w, t, a in
        try call(w, TenantUpdate(tenantId: w.tenants[t], name: "Renamed"), a)
    },
    Case(method: "tenant.get", targeted: true) { w, t, a in
        try call(w, TenantGet(tenantId: w.tenants[t]), a)
    },
    Case(method: "tenant.list", targeted: false) { w, _, a in try call(w, TenantList(), a) },
    Case(method: "tenant.import", targeted: true) { w, t, a in
        try call(w, TenantImport(partnerId: w.partners[t], tenants: [.init(name: "CRM", address: zurich)]), a)
    },
    Case(method: "domain.add", targeted: true) { w, t, a in
        try call(w, DomainAdd(tenantId: w.tenants[t], name: "new-\(t).ch", mode: .inline), a)
    },
    Case(method: "domain.addManually", targeted: true) { w, t, a in
        try call(w, DomainAddManually(tenantId: w.tenants[t], name: "manual-\(t).ch"), a)
    },
    Case(method: "domain.get", targeted: true) { w, t, a in
        try call(w, DomainGet(domainId: w.domains[t][0]), a)
    },
    Case(method: "domain.check", targeted: true) { w, t, a in
        try call(w, DomainCheck(domainId: w.domains[t][0]), a)
    },
    Case(method: "domain.confirm", targeted: true) { w, t, a in
        try call(w, DomainConfirm(domainId: w.domains[t][0]), a)
    },
    Case(method: "domain.deploy", targeted: true) { w, t, a in
        try call(w, DomainDeploy(domainId: w.domains[t][1]), a)
    },
    Case(method: "domain.setConfidential", targeted: true) { w, t, a in
        try call(w, DomainSetConfidential(domainId: w.domains[t][0], confidential: true), a)
    },
    Case(method: "domain.grantAccess", targeted: true) { w, t, a in
        try call(w, DomainGrantAccess(domainId: w.domains[t][0], principalId: "someone"), a)
    },
    Case(method: "domain.revokeAccess", targeted: true) { w, t, a in
        try call(w, DomainRevokeAccess(domainId: w.domains[t][0], principalId: "someone"), a)
    },
    Case(method: "service.add", targeted: true) { w, t, a in
        try call(w, ServiceAdd(domainId: w.domains[t][0], services: ["SC-F-OUTBOUND"]), a)
    },
    Case(method: "service.available", targeted: true) { w, t, a in
        try call(w, ServiceAvailable(domainId: w.domains[t][0]), a)
    },
    Case(method: "task.list", targeted: true) { w, t, a in
        try call(w, TaskList(tenantId: w.tenants[t]), a)
    },
    Case(method: "task.complete", targeted: true) { w, t, a in
        let task = try w.portal.perform(TaskList(domainId: w.domains[t][2]), as: op).tasks[0]
        try call(w, TaskComplete(taskId: task.id), a)
    },
    Case(method: "users.import", targeted: true) { w, t, a in
        try call(
            w,
            UsersImport(
                domainId: w.domains[t][0],
                users: [.init(address: "x@\(t == 0 ? "alpha" : "beta")-ordered.ch", protection: .none)]), a)
    },
    Case(method: "users.remove", targeted: true) { w, t, a in
        try call(w, UsersRemove(domainId: w.domains[t][0], addresses: ["x@y.ch"]), a)
    },
    Case(method: "users.list", targeted: true) { w, t, a in
        try call(w, UsersList(domainId: w.domains[t][0]), a)
    },
    Case(method: "workflow.tick", targeted: false) { w, _, a in try call(w, WorkflowTick(), a) },
    Case(method: "audit.list", targeted: true) { w, t, a in
        try call(w, AuditList(tenantId: w.tenants[t]), a)
    },
]

/// Every kind of actor: partner admin with each role and with none (with and without expert
/// mode), tenant admin with each role, operator.
private struct ActorSpec: CustomTestStringConvertible, Sendable {
    let kind: Principal.Kind
    let role: Role?
    let expert: Bool
    var testDescription: String { "\(kind.rawValue) \(role?.rawValue ?? "no role")\(expert ? " expert" : "")" }

    static let all: [ActorSpec] =
        Role.allCases.flatMap {
            [
                ActorSpec(kind: .partnerAdmin, role: $0, expert: false),
                ActorSpec(kind: .partnerAdmin, role: $0, expert: true),
            ]
        }
        + [
            ActorSpec(kind: .partnerAdmin, role: nil, expert: false),
            ActorSpec(kind: .partnerAdmin, role: nil, expert: true),
        ]
        + Role.allCases.map { ActorSpec(kind: .tenantAdmin, role: $0, expert: false) }
        + [ActorSpec(kind: .operator, role: nil, expert: false)]

    func actor(in world: World) -> Principal {
        switch kind {
        case .partnerAdmin: world.partnerAdmin(role.map { [$0] } ?? [], expert: expert)
        case .tenantAdmin: world.tenantAdmin([role!])
        case .operator: op
        }
    }

    func allowed(_ method: String, in world: World) -> Bool { SpecPermissions.allows(actor(in: world), method) }
}

@Suite struct PermissionMatrixTests {
    @Test(arguments: ActorSpec.all, cases)
    fileprivate func ownTarget(spec: ActorSpec, operation: Case) throws {
        let world = try World()
        let actor = spec.actor(in: world)
        if spec.allowed(operation.method, in: world) {
            #expect(throws: Never.self, "\(spec.testDescription) may call \(operation.method)") {
                try operation.run(world, 0, actor)
            }
        } else {
            let before = try world.snapshot()
            let error = #expect(throws: PortalError.self) { try operation.run(world, 0, actor) }
            #expect(error?.code == .permissionDenied)
            #expect(try world.snapshot() == before)
        }
    }

    @Test(arguments: ActorSpec.all.filter { $0.kind != .operator }, cases.filter(\.targeted))
    fileprivate func otherPartnersTargetIsNotFound(spec: ActorSpec, operation: Case) throws {
        let world = try World()
        let actor = spec.actor(in: world)
        let before = try world.snapshot()
        let error = try #require(throws: PortalError.self) { try operation.run(world, 1, actor) }
        // A caller without the role may be refused by role before the lookup (nothing is revealed
        // either way); a caller with the role must get exactly not-found.
        if spec.allowed(operation.method, in: world) {
            #expect(error.code == .notFound)
        } else {
            #expect(error.code == .notFound || error.code == .permissionDenied)
        }
        #expect(!error.message.contains("beta"))
        #expect(try world.snapshot() == before)
    }

    @Test func otherTenantOfTheSamePartnerIsNotFoundForATenantAdmin() throws {
        let world = try World()
        let second = try world.portal.perform(
            TenantCreate(partnerId: world.partners[0], name: "Second", contact: contact, address: zurich), as: op
        ).tenant.id
        let admin = world.tenantAdmin([.ALL])
        #expect(throws: PortalError.notFound("tenant", second)) {
            try world.portal.perform(TenantGet(tenantId: second), as: admin)
        }
        #expect(try world.portal.perform(TenantList(), as: admin).tenants.map(\.id) == [world.tenants[0]])
        #expect(
            try world.portal.perform(TenantList(), as: world.partnerAdmin([.Support])).tenants.map(\.id) == [
                world.tenants[0], second,
            ])
    }

    @Test func listsShowOnlyTheActorsOwnData() throws {
        let world = try World()
        for actor in [world.partnerAdmin([.ALL]), world.tenantAdmin([.ALL])] {
            #expect(try world.portal.perform(TenantList(), as: actor).tenants.map(\.id) == [world.tenants[0]])
            let tasks = try world.portal.perform(TaskList(), as: actor).tasks
            #expect(!tasks.isEmpty)
            #expect(tasks.allSatisfy { world.domains[0].contains($0.domainId) })
            let events = try world.portal.perform(AuditList(), as: actor).events
            #expect(!events.isEmpty)
            #expect(events.allSatisfy { !$0.summary.contains("beta") })
        }
    }

    @Test func confidentialDomainsVanishForTheUnentitled() throws {
        let world = try World()
        let expert = world.partnerAdmin([.Sales], expert: true)
        let secret = world.domains[0][2]
        _ = try world.portal.perform(DomainSetConfidential(domainId: secret, confidential: true), as: expert)
        let tenantAdmin = world.tenantAdmin([.ALL], id: "ta-anna")
        #expect(throws: PortalError.notFound("domain", secret)) {
            try world.portal.perform(DomainGet(domainId: secret), as: tenantAdmin)
        }
        let view = try world.portal.perform(TenantGet(tenantId: world.tenants[0]), as: tenantAdmin)
        #expect(!view.domains.map(\.id).contains(secret))
        #expect(view.tenant.managedDomains == 2)
        #expect(view.tenant.totalServices == 4)
        #expect(try world.portal.perform(TaskList(), as: tenantAdmin).tasks.isEmpty)
        #expect(
            try world.portal.perform(AuditList(), as: tenantAdmin).events.allSatisfy {
                !$0.summary.contains("alpha-deploying")
            })
        #expect(try world.portal.perform(TenantList(query: "alpha-deploying"), as: tenantAdmin).tenants.isEmpty)
        // Partner admins of the owner still see it, in any role.
        #expect(
            try world.portal.perform(DomainGet(domainId: secret), as: world.partnerAdmin([.Support])).domain
                .confidential)
        // A grant makes it visible to that principal only.
        _ = try world.portal.perform(DomainGrantAccess(domainId: secret, principalId: "ta-anna"), as: expert)
        #expect(try world.portal.perform(DomainGet(domainId: secret), as: tenantAdmin).domain.id == secret)
        #expect(throws: PortalError.self) {
            try world.portal.perform(DomainGet(domainId: secret), as: world.tenantAdmin([.ALL], id: "ta-ben"))
        }
        _ = try world.portal.perform(DomainRevokeAccess(domainId: secret, principalId: "ta-anna"), as: expert)
        #expect(throws: PortalError.self) { try world.portal.perform(DomainGet(domainId: secret), as: tenantAdmin) }
    }

    @Test func permissionDeniedNamesTheRolesThatWouldDo() throws {
        let world = try World()
        let error = try refusal(world, DomainDeploy(domainId: world.domains[0][1]), as: world.partnerAdmin([.Sales]))
        #expect(error.details.required == [.Tech, .ALL])
        let manual = try refusal(
            world, DomainAddManually(tenantId: world.tenants[0], name: "m.ch"), as: world.partnerAdmin([.Sales]))
        #expect(manual.message.contains("expert mode"))
        let tenantAdmin = try refusal(
            world, ServiceAdd(domainId: world.domains[0][0], services: ["SC-F-OUTBOUND"]), as: world.tenantAdmin([.ALL])
        )
        #expect(tenantAdmin.code == .permissionDenied)
        #expect(tenantAdmin.message.contains("partner function"))
    }
}
