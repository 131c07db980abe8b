import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct RegionTests {
    /// A country change that would move a tenant with a live domain to the other region is
    /// refused (conflict, naming the live domains); free within a region or without live domains.
    @Test func aCountryChangeMayNotMoveLiveDomainsToTheOtherRegion() throws {
        let world = try WorldBuilder()
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        let domain = try world.domain("muster.ch", of: tenant, status: .provisioned)
        let sales = world.actor(.sales, of: partner)
        let germany = Address(street: "Unter den Linden 1", postalCode: "10117", city: "Berlin", country: "DE")
        let liechtenstein = Address(street: "Städtle 1", postalCode: "9490", city: "Vaduz", country: "LI")
        let before = try world.portal.perform(TenantGet(tenantId: tenant), as: sales)
        let error = #expect(throws: PortalError.self) {
            try world.portal.perform(TenantUpdate(tenantId: tenant, address: germany), as: sales)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("muster.ch") == true)
        #expect(error?.message.contains(domain) == true)
        #expect(try world.portal.perform(TenantGet(tenantId: tenant), as: sales) == before, "nothing changed")
        // The same through the CRM import, which updates a tenant by its external ID.
        let zurich = Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")
        let imported = try world.portal.perform(
            TenantImport(partnerId: partner, tenants: [.init(name: "CRM AG", address: zurich, externalId: "crm-1")]),
            as: .platformOperator()
        ).tenants[0].id
        try world.domain("crm.ch", of: imported, status: .provisioned)
        let crm = #expect(throws: PortalError.self) {
            try world.portal.perform(
                TenantImport(
                    partnerId: partner, tenants: [.init(name: "CRM AG", address: germany, externalId: "crm-1")]),
                as: .platformOperator())
        }
        #expect(crm?.code == .conflict)
        #expect(crm?.message.contains("crm.ch") == true)
        // Within the region the country may change.
        let moved = try world.portal.perform(TenantUpdate(tenantId: tenant, address: liechtenstein), as: sales)
        #expect(moved.tenant.region == .CH)
        #expect(moved.tenant.currency == "CHF")
        // A tenant without live domains may move.
        let other = try world.tenant("Neu AG", of: partner)
        let ordered = try world.domain("neu.ch", of: other)
        _ = try world.portal.perform(ServiceCancel(domainId: ordered, service: "SC-SERVICE"), as: sales)
        let free = try world.portal.perform(TenantUpdate(tenantId: other, address: germany), as: sales)
        #expect(free.tenant.region == .DE)
        #expect(free.tenant.currency == "EUR")
    }

    /// A CH tenant whose only domain (provisioned on 2026-11-05, with `options`) ended on
    /// 2026-11-10, moved to Berlin on 2026-11-15 (free, as nothing is live).
    static func movedAfterItsDomainEnded(options: [String] = []) throws -> (
        world: WorldBuilder, clock: TestClock, tenant: String, domain: String, sales: Principal
    ) {
        let clock = TestClock("2026-11-05")
        let world = try WorldBuilder(clock: clock)
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        let domain = try world.domain(
            "muster.ch", of: tenant, options: options, status: .provisioned, users: [.none: 2])
        let sales = Principal(id: "pa", kind: .partnerAdmin, partnerId: partner, roles: [.ALL])
        _ = try world.portal.perform(
            ServiceCancel(domainId: domain, service: "SC-SERVICE", endDate: CivilDate("2026-11-10")), as: sales)
        clock.set("2026-11-15")
        let germany = Address(street: "Unter den Linden 1", postalCode: "10117", city: "Berlin", country: "DE")
        _ = try world.portal.perform(TenantUpdate(tenantId: tenant, address: germany), as: sales)
        return (world, clock, tenant, domain, sales)
    }

    /// Region is the tenant's: a domain whose services have all ended, of a tenant that has
    /// since moved to the other region (free without live domains), is booked again in the
    /// tenant's region, once no month that is still open bills it in the old one. So a DE tenant
    /// never gets a live CH domain (SC-HIN, CH only, is refused there as for any DE domain), and
    /// `service.available` and the `service.add` action agree.
    @Test func aDomainBookedAgainAfterAMoveTakesItsTenantsRegion() throws {
        let (world, clock, _, domain, sales) = try Self.movedAfterItsDomainEnded(
            options: ["SC-F-OUTBOUND", "SC-HIN"])

        // In November the domain still has lines, billed in CH where its services ran: booked
        // again now it would move to DE and reprice them, so it is refused until December (a new
        // domain of that name may be added at once).
        let november = try world.portal.perform(BillingStatement(month: Month("2026-11")!), as: sales)
        #expect(!november.lines.isEmpty && november.lines.allSatisfy { $0.currency == "CHF" })
        let stillBilled = #expect(throws: PortalError.self) {
            try world.portal.perform(ServiceAdd(domainId: domain, services: ["SC-SERVICE", "SC-F-INBOUND"]), as: sales)
        }
        #expect(stillBilled?.code == .conflict)
        #expect(stillBilled?.message.contains("2026-12-01") == true, "\(String(describing: stillBilled))")
        #expect(
            try world.portal.perform(ServiceAvailable(domainId: domain), as: sales).services.allSatisfy {
                !$0.available
            })
        #expect(try world.portal.perform(BillingStatement(month: Month("2026-11")!), as: sales) == november)
        clock.set("2026-12-02")

        let available = try world.portal.perform(ServiceAvailable(domainId: domain), as: sales).services
        let hin = try #require(available.first { $0.code == "SC-HIN" })
        #expect(!hin.available && hin.reason?.contains("region") == true, "\(hin)")
        let refused = #expect(throws: PortalError.self) {
            try world.portal.perform(
                ServiceAdd(domainId: domain, services: ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-HIN"]),
                as: sales)
        }
        #expect(refused?.code == .dependencyViolation)
        #expect(refused?.details.violations?.contains { $0.rule == .region } == true)

        let booked = try world.portal.perform(
            ServiceAdd(domainId: domain, services: ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND"]), as: sales
        ).domain
        #expect(booked.region == .DE)
        let check = try world.portal.perform(DomainCheck(domainId: domain), as: sales)
        #expect(check.consistent, "\(check.violations)")
        let hinNow = try world.portal.perform(ServiceAvailable(domainId: domain), as: sales).services
        #expect(hinNow.first { $0.code == "SC-HIN" }?.available == false)
    }

    /// While the ended domain cannot be booked again in the new region (its month is still
    /// billed in the old one), a new domain of the same name can, at once and in the new region.
    @Test func aNewDomainOfTheNameMayBeAddedWhileTheEndedOneIsStillBilled() throws {
        let (world, _, tenant, domain, sales) = try Self.movedAfterItsDomainEnded()
        let november = try world.portal.perform(BillingStatement(month: Month("2026-11")!), as: sales)
        let added = try world.portal.perform(DomainAdd(tenantId: tenant, name: "muster.ch", mode: .inline), as: sales)
        #expect(added.domain.id != domain && added.domain.region == .DE)
        #expect(try world.portal.perform(BillingStatement(month: Month("2026-11")!), as: sales) == november)
    }
}
