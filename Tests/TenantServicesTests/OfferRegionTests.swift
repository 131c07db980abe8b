import Foundation
import Testing

@testable import TenantServices

/// An accepted offer books its services as `service.add` would (SPEC §3): never one that can
/// never become valid in the customer's region. The offer's lines passed the check in the region
/// the customer had at create; a tenant without live domains may move to the other region since
/// (SPEC §2), and an offer may be priced in that region's currency (`currency?`), so the currency
/// check of accept alone does not stop it.
@Suite struct OfferRegionTests {
    /// A CH tenant offered SC-HIN (region CH only) in EUR, which moves to DE before accepting.
    static func movedWithHINOffer() throws -> (d: Deployed, tenant: String, offer: String) {
        let d = try Deployed(on: "2026-11-18")
        let tenant = try d.portal.perform(
            TenantCreate(name: "Umzug AG", contact: contact, address: zurich), as: d.admin
        ).tenant.id
        let offer = try d.portal.perform(
            OfferCreate(
                tenantId: tenant, currency: "EUR",
                lines: [.init(domain: "umzug-ag.ch", mode: .inline, services: ["SC-F-OUTBOUND", "SC-HIN"], users: 2)]),
            as: d.admin
        ).offer.id
        let moved = try d.portal.perform(TenantUpdate(tenantId: tenant, address: berlin), as: d.admin).tenant
        #expect(moved.region == .DE)
        return (d, tenant, offer)
    }

    @Test func anAcceptedOfferNeverBooksAServiceTheCustomersRegionRefuses() throws {
        let (d, tenant, offer) = try Self.movedWithHINOffer()
        let events = d.portal.journal.count
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferAccept(offerId: offer), as: d.admin)
        }
        #expect(error?.code == .dependencyViolation, "\(String(describing: error))")
        #expect(error?.details.violations?.map(\.rule) == [.region], "\(String(describing: error))")
        #expect(error?.details.violations?.first?.services == ["SC-HIN"])
        #expect(d.portal.journal.count == events, "a refused accept changes nothing")
        #expect(try d.portal.perform(TenantGet(tenantId: tenant), as: d.admin).domains.isEmpty)
        #expect(try d.portal.perform(OfferGet(offerId: offer), as: d.admin).offer.status == .draft)
    }

    /// A line whose domain was booked meanwhile is `conflict`, checked before the region's
    /// `dependency-violation` (SPEC §7's order of the domain rules).
    @Test func aDomainBookedMeanwhileIsRefusedBeforeTheRegion() throws {
        let (d, _, offer) = try Self.movedWithHINOffer()
        _ = try d.portal.perform(DomainAdd(tenantId: d.tenantId, name: "umzug-ag.ch", mode: .inline), as: d.admin)
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferAccept(offerId: offer), as: d.admin)
        }
        #expect(error?.code == .conflict, "\(String(describing: error))")
    }

    /// `invalid-domain` comes before `conflict` (SPEC §7): a server started since with a catalog
    /// whose free-mail list holds a line's domain refuses the accept with `invalid-domain`, also
    /// when the offer's currency is not the one it would be billed in (that was answered first).
    @Test func aDomainThatIsFreeMailNowIsRefusedBeforeTheCurrency() throws {
        let store = InMemoryStore()
        let clock = ManualClock(BusinessCalendar().start(of: CivilDate("2026-11-18")!).addingTimeInterval(43_200))
        let first = try Portal(clock: clock, store: store)
        let partner = try first.perform(PartnerCreate(name: "P"), as: op).partner.id
        let sales = Principal(id: "pa", kind: .partnerAdmin, partnerId: partner, roles: [.ALL])
        let tenant = try first.perform(TenantCreate(name: "T", contact: contact, address: zurich), as: sales).tenant.id
        let offer = try first.perform(
            OfferCreate(
                tenantId: tenant, currency: "EUR", lines: [.init(domain: "umzug-ag.ch", mode: .inline, users: 2)]),
            as: sales
        ).offer.id
        let standard = Catalog.standard
        let catalog = try Catalog(
            services: standard.services, currencies: standard.currencies,
            freeMailDomains: standard.freeMailDomains + ["umzug-ag.ch"])
        let later = try Portal(catalog: catalog, clock: clock, store: store)
        let error = #expect(throws: PortalError.self) {
            try later.perform(OfferAccept(offerId: offer), as: sales)
        }
        #expect(error?.code == .invalidDomain, "\(String(describing: error))")
    }
}
