import Foundation
import TenantServices
import TenantServicesTesting

/// 2026-11-18 11:06:40 UTC (12:06:40 in Zurich).
let fixedNow = Date(timeIntervalSince1970: 1_795_000_000)

let op = Actor.platformOperator()
let zurich = Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")
let berlin = Address(street: "Unter den Linden 1", postalCode: "10117", city: "Berlin", country: "DE")
let contact = Contact(email: "it@example.ch", phone: "+41 44 000 00 00")

/// Two partners with one tenant each, and per tenant three domains in typical states:
/// `ordered` (guided inline, all ordered), `confirmed` (parallel, confirmed) and `deploying`
/// (inline, deployed with the MX task open).
struct World {
    let portal: Portal
    var partners: [String] = []
    var tenants: [String] = []
    /// Per tenant: ordered, confirmed, deploying domain IDs.
    var domains: [[String]] = []

    init(region: Address = zurich) throws {
        portal = try Portal(clock: TestClock(instant: fixedNow))
        for (i, name) in ["alpha", "beta"].enumerated() {
            let partner = try portal.perform(PartnerCreate(name: "Partner \(name)"), as: op).partner.id
            partners.append(partner)
            let tenant = try portal.perform(
                TenantCreate(partnerId: partner, name: "Tenant \(name)", contact: contact, address: region), as: op
            ).tenant.id
            tenants.append(tenant)
            let ordered = try portal.perform(
                DomainAdd(tenantId: tenant, name: "\(name)-ordered.ch", mode: .inline), as: op
            ).domain.id
            let confirmed = try portal.perform(
                DomainAdd(tenantId: tenant, name: "\(name)-confirmed.ch", mode: .parallel), as: op
            ).domain.id
            _ = try portal.perform(DomainConfirm(domainId: confirmed), as: op)
            let deploying = try portal.perform(
                DomainAdd(tenantId: tenant, name: "\(name)-deploying.ch", mode: .inline), as: op
            ).domain.id
            _ = try portal.perform(DomainConfirm(domainId: deploying), as: op)
            _ = try portal.perform(DomainDeploy(domainId: deploying), as: op)
            domains.append([ordered, confirmed, deploying])
            _ = i
        }
    }

    func partnerAdmin(_ roles: [Role], expert: Bool = false, of index: Int = 0, id: String? = nil) -> Actor {
        Actor(
            id: id ?? "pa-\(index)", kind: .partnerAdmin, partnerId: partners[index], roles: roles, expertMode: expert)
    }

    func tenantAdmin(_ roles: [Role], of index: Int = 0, id: String? = nil) -> Actor {
        Actor(id: id ?? "ta-\(index)", kind: .tenantAdmin, tenantId: tenants[index], roles: roles)
    }

    /// Everything the operator sees, for "nothing changed" assertions.
    func snapshot() throws -> [TenantGet.Response] {
        try tenants.map { try portal.perform(TenantGet(tenantId: $0), as: op) }
    }

    var journalCount: Int { portal.journal.count }
}

/// Runs a call that must be refused, and returns the error.
func refusal<R: PortalRequest>(_ world: World, _ request: R, as actor: Actor, requestKey: String? = nil) throws
    -> PortalError
{
    let before = try world.snapshot()
    let events = world.journalCount
    do {
        _ = try world.portal.perform(request, as: actor, requestKey: requestKey)
    } catch {
        guard try world.snapshot() == before, world.journalCount == events else {
            throw Unexpected("state changed although \(R.method) was refused with \(error)")
        }
        return error
    }
    throw Unexpected("\(R.method) succeeded but should have been refused")
}

struct Unexpected: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
