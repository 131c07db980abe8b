import Foundation
import JSONRPC
import JanssonJSON
import PropertyBased
import TenantServices
import TenantServicesRPC
import TenantServicesTesting
import Testing

/// A world over RPC: partner P1 with tenant T1 (domain D1 deployed with task K1 open, offer O1, and a
/// confidential domain), partner P2 with tenant T2 and domain D2.
private func rpcWorld() throws -> (WorldBuilder, Dispatcher) {
    let world = try WorldBuilder(clock: TestClock("2026-11-18"))
    for name in ["Alpha", "Beta"] {
        let partner = try world.partner("Partner \(name)")
        let tenant = try world.tenant("Tenant \(name)", of: partner)
        try world.domain(
            "\(name.lowercased()).ch", of: tenant, options: ["SC-F-OUTBOUND", "SC-SIGENC"], status: .provisioning,
            users: [.signEncrypt: 1])
    }
    _ = try world.portal.perform(
        OfferCreate(tenantId: "T1", lines: [.init(domain: "offer-alpha.ch", mode: .inline, users: 3)]),
        as: .platformOperator())
    // A confidential domain of T1 that T1's tenant admins do not see (no grant).
    let secret = try world.domain("secret-alpha.ch", of: "T1", status: .provisioned, users: [.none: 1])
    _ = try world.portal.perform(DomainSetConfidential(domainId: secret, confidential: true), as: .platformOperator())
    return (world, Dispatcher(methods: try TenantServicesMethods.table(portal: world.portal, clock: nil)))
}

private func call(_ d: Dispatcher, _ method: String, _ params: JSONValue) throws -> JSONValue {
    let request: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": JSONValue(method), "params": params]
    return try JSONValue.parse(d.reply(to: request.serialized())!)
}

@Suite struct SecurityTests {
    static let methods = SchemaSet.embedded.methodNames.filter { !$0.hasPrefix("clock.") && $0 != "rpc.discover" }

    /// Every persona × every method over RPC, on its own partner's data, as the permission
    /// matrix (`SpecPermissions`) says.
    @Test(arguments: Persona.allCases)
    func everyRoleAndMethodAsTheSpecificationSays(persona: Persona) throws {
        for method in Self.methods {
            let (world, dispatcher) = try rpcWorld()
            let actor = world.actor(persona, of: "P1", tenant: "T1")
            var params = try #require(SchemaSet.embedded.files["methods/\(method).params.json"]?["examples"]?[0])
            params = params.setting("actor", to: try JSONValueEncoder().encode(actor))
            if actor.kind == .operator && (method == "tenant.create" || method == "offer.create") {
                params = params.setting("partnerId", to: "P1")
            }
            let reply = try call(dispatcher, method, params)
            let code = reply["error"]?["code"]?.intValue
            if SpecPermissions.allows(actor, method) {
                #expect(code != 1001, "\(persona) may call \(method): \(reply)")
                #expect(code != -32602 && code != -32603, "\(persona) \(method): \(reply)")
            } else {
                #expect(code == 1001 || code == 1000, "\(persona) may not call \(method): \(reply)")
            }
        }
    }

    /// Random operations by actors of two partners; every read of every actor, its errors and the
    /// audit log mention nothing of another partner or tenant, nor confidential domains it may not see.
    @Test func nothingLeaksAcrossPartnersAndTenants() async {
        await propertyCheck(count: 15, input: Generators.operations(count: 5...30)) { steps in
            do {
                let (world, dispatcher) = try rpcWorld()
                var actors: [Principal] = [.platformOperator()]
                for (p, t) in [("P1", "T1"), ("P2", "T2")] {
                    actors += Persona.allCases.filter { $0 != .platformOperator }.map {
                        world.actor($0, of: p, tenant: t)
                    }
                }
                for step in steps { step.run(in: world, actors: actors) }
                let op = Principal.platformOperator()
                // Who owns what, from the operator's view.
                var owner: [String: (partner: String, tenant: String?)] = [:]
                var names: [String: String] = [:]  // name → ID
                var confidential: [String: [String]] = [:]  // domain ID → access
                for tenant in try world.portal.perform(TenantList(limit: 1000), as: op).tenants {
                    owner[tenant.id] = (tenant.partnerId, tenant.id)
                    names[tenant.name] = tenant.id
                    for domain in try world.portal.perform(TenantGet(tenantId: tenant.id), as: op).domains {
                        owner[domain.id] = (tenant.partnerId, tenant.id)
                        names[domain.name] = domain.id
                        if domain.confidential { confidential[domain.id] = domain.access }
                    }
                }
                for actor in actors where actor.kind != .operator {
                    func mayKnow(_ id: String) -> Bool {
                        guard let o = owner[id] else { return true }
                        if actor.kind == .partnerAdmin { return o.partner == actor.partnerId }
                        guard o.tenant == actor.tenantId else { return false }
                        return confidential[id].map { $0.contains(actor.id) } ?? true
                    }
                    let encodedActor = try JSONValueEncoder().encode(actor)
                    var texts: [String] = []
                    for (method, params) in [
                        ("tenant.list", JSONValue.object([])), ("task.list", [:]), ("audit.list", [:]),
                        ("offer.list", [:]),
                        ("billing.statement", ["month": "2026-11"]), ("tenant.get", ["tenantId": "T1"]),
                        ("tenant.get", ["tenantId": "T2"]),
                        ("domain.get", ["domainId": "D1"]), ("domain.get", ["domainId": "D2"]),
                        ("users.list", ["domainId": "D2"]),
                    ] {
                        texts.append(try call(dispatcher, method, params.setting("actor", to: encodedActor)).text())
                    }
                    let all = texts.joined(separator: "\n")
                    for (name, id) in names where !mayKnow(id) {
                        #expect(
                            !all.contains("\"\(name)\"") && !all.contains(" \(name)"),
                            "\(actor.id) learns \(name) (\(id))")
                    }
                    for (id, _) in owner where !mayKnow(id) {
                        #expect(
                            !all.contains("\"id\":\"\(id)\"") && !all.contains("Id\":\"\(id)\""),
                            "\(actor.id) sees \(id)")
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Tenant admins never see offers (SPEC §4), so not in their tenant's audit log either: the
    /// events of offer O1 for T1 are there for the partner's auditors and the operator only.
    @Test func tenantAdminsSeeNoOfferEventInTheAuditLog() throws {
        let (world, dispatcher) = try rpcWorld()
        for persona in [Persona.tenantAudit, .tenantAll, .audit, .platformOperator] {
            let actor = world.actor(persona, of: "P1", tenant: "T1")
            let reply = try call(dispatcher, "audit.list", ["actor": try JSONValueEncoder().encode(actor)]).text()
            #expect(reply.contains("\"events\":[{"), "\(persona): \(reply)")
            let showsOffer = reply.contains("\"action\":\"offer.create\"") || reply.contains("offer O1")
            #expect(showsOffer == (actor.kind != .tenantAdmin), "\(persona): \(reply)")
        }
    }

    /// A partner's audit log holds the offers its admins made for prospects (no tenant yet), for
    /// the partner's auditors and the operator only: not for another partner, nor a tenant admin.
    @Test func aProspectOfferIsInItsPartnersAuditLogOnly() throws {
        let (world, dispatcher) = try rpcWorld()
        let sales = world.actor(.sales, of: "P1", tenant: "T1")
        let prospect = Prospect(
            name: "Neu AG", contact: Contact(email: "info@neu.ch"),
            address: Address(street: "Weg 1", postalCode: "8000", city: "Zürich", country: "CH"))
        let offer = try world.portal.perform(
            OfferCreate(prospect: prospect, lines: [.init(domain: "neu.ch", mode: .inline, users: 2)]), as: sales
        ).offer.id
        for (persona, partner) in [
            (Persona.audit, "P1"), (.all, "P1"), (.platformOperator, "P1"), (.audit, "P2"), (.tenantAudit, "P1"),
        ] {
            let actor = world.actor(persona, of: partner, tenant: partner == "P1" ? "T1" : "T2")
            let reply = try call(dispatcher, "audit.list", ["actor": try JSONValueEncoder().encode(actor)]).text()
            let sees = reply.contains("offer \(offer)")
            #expect(sees == (partner == "P1" && actor.kind != .tenantAdmin), "\(persona) of \(partner): \(reply)")
        }
    }
}
