import Foundation
import TenantServices
import TenantServicesTesting

/// 2026-11-18 11:06:40 UTC (12:06:40 in Zurich).
let fixedNow = Date(timeIntervalSince1970: 1_795_000_000)

let op = Principal.platformOperator()
let zurich = Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")
let berlin = Address(street: "Unter den Linden 1", postalCode: "10117", city: "Berlin", country: "DE")
let contact = Contact(email: "it@example.ch", phone: "+41 44 000 00 00")

/// The world most of these tests start from, built with the shipped `WorldBuilder`: two partners
/// with one tenant each, and per tenant three domains in typical states: `ordered` (guided
/// inline), `confirmed` (parallel) and `deploying` (inline, deployed with the MX task open).
struct World {
    let builder: WorldBuilder
    var portal: Portal { builder.portal }
    var partners: [String] { builder.partners }
    var tenants: [String] { builder.tenants }
    /// Per tenant: ordered, confirmed, deploying domain IDs.
    let domains: [[String]]

    init(country: String = "CH") throws {
        builder = try WorldBuilder(clock: TestClock(instant: fixedNow))
        var domains: [[String]] = []
        for name in ["alpha", "beta"] {
            let partner = try builder.partner("Partner \(name)")
            let tenant = try builder.tenant("Tenant \(name)", of: partner, country: country)
            domains.append([
                try builder.domain("\(name)-ordered.ch", of: tenant, mode: .inline),
                try builder.domain("\(name)-confirmed.ch", of: tenant, mode: .parallel, status: .confirmed),
                try builder.domain("\(name)-deploying.ch", of: tenant, mode: .inline, status: .provisioning),
            ])
        }
        self.domains = domains
    }

    func partnerAdmin(_ roles: [Role], expert: Bool = false, of index: Int = 0, id: String? = nil) -> Principal {
        Principal(
            id: id ?? "pa-\(index)", kind: .partnerAdmin, partnerId: partners[index], roles: roles, expertMode: expert)
    }

    func tenantAdmin(_ roles: [Role], of index: Int = 0, id: String? = nil) -> Principal {
        Principal(id: id ?? "ta-\(index)", kind: .tenantAdmin, tenantId: tenants[index], roles: roles)
    }

    /// Everything the operator sees, for "nothing changed" assertions.
    func snapshot() throws -> [TenantGet.Response] {
        try tenants.map { try portal.perform(TenantGet(tenantId: $0), as: op) }
    }

    var journalCount: Int { portal.journal.count }
}

/// Runs a call that must be refused, and returns the error.
func refusal<R: PortalRequest>(_ world: World, _ request: R, as actor: Principal, requestKey: String? = nil) throws
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
