import Foundation
import Testing

@testable import TenantServices

/// An accepted offer books services that are billed in their region's currency (SPEC §2), so an
/// offer is accepted only when it is priced in that currency: a customer is never billed in
/// another currency, at other prices, than the offer they accepted.
@Suite struct OfferCurrencyTests {
    static let countries = ["CH", "LI", "DE", "AT"]

    static func address(_ country: String) -> Address {
        Address(street: "Hauptstrasse 1", postalCode: "1000", city: "Stadt", country: country)
    }

    /// Every offer currency against every country of the customer at accept time (for a prospect,
    /// and for a tenant whose address moved to another country after the offer was made).
    @Test(arguments: ["CHF", "EUR"], countries)
    func anOfferIsAcceptedOnlyInTheCurrencyItsServicesAreBilledIn(currency: String, country: String) throws {
        let billedIn = Region(country: country).currency
        // A prospect from `country`.
        do {
            let d = try Deployed(on: "2026-11-18")
            let offer = try d.portal.perform(
                OfferCreate(
                    prospect: Prospect(
                        name: "Neu AG", contact: Contact(email: "info@neu.ch"), address: Self.address(country)),
                    currency: currency, lines: [.init(domain: "neu-ag.ch", mode: .inline, users: 2)]),
                as: d.admin
            ).offer
            try Self.expectAccept(offer.id, in: d, succeeds: currency == billedIn, billedIn: billedIn)
        }
        // A tenant without domains, offered in its own country's currency, that moved to `country`.
        do {
            let d = try Deployed(on: "2026-11-18")
            let home = currency == "CHF" ? "CH" : "DE"
            let tenant = try d.portal.perform(
                TenantCreate(name: "Umzug AG", contact: Contact(email: "it@umzug.ch"), address: Self.address(home)),
                as: d.admin
            ).tenant
            let offer = try d.portal.perform(
                OfferCreate(tenantId: tenant.id, lines: [.init(domain: "umzug-ag.ch", mode: .inline, users: 2)]),
                as: d.admin
            ).offer
            #expect(offer.currency == currency)
            _ = try d.portal.perform(TenantUpdate(tenantId: tenant.id, address: Self.address(country)), as: d.admin)
            try Self.expectAccept(offer.id, in: d, succeeds: currency == billedIn, billedIn: billedIn)
        }
    }

    static func expectAccept(_ offerId: String, in d: Deployed, succeeds: Bool, billedIn: String) throws {
        let events = d.portal.journal.count
        if succeeds {
            let accepted = try d.portal.perform(OfferAccept(offerId: offerId), as: d.admin)
            #expect(accepted.offer.status == .accepted)
            #expect(accepted.offer.currency == billedIn)
            return
        }
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferAccept(offerId: offerId), as: d.admin)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("billed in \(billedIn)") == true, "\(String(describing: error))")
        #expect(d.portal.journal.count == events, "a refused accept changes nothing")
        #expect(try d.portal.perform(OfferGet(offerId: offerId), as: d.admin).offer.status == .draft)
    }
}
