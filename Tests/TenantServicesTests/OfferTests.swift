import Foundation
import Testing

@testable import TenantServices

@Suite struct OfferTests {
    let d: Deployed
    let prospect = Prospect(name: "Neu AG", contact: Contact(email: "info@neu.ch"), address: zurich)

    init() throws { d = try Deployed(on: "2026-11-18") }

    func create(_ lines: [OfferCreate.LineRequest], validUntil: String? = nil) throws -> OfferView {
        try d.portal.perform(
            OfferCreate(prospect: prospect, validUntil: validUntil.flatMap(CivilDate.init), lines: lines), as: d.admin
        ).offer
    }

    @Test func pricesLinesWithBaseAndModeAndTotals() throws {
        let offer = try create([
            .init(
                domain: "Neu.ch", mode: .inline, services: ["SC-F-OUTBOUND"], users: 10,
                discount: DiscountRequest(percent: 10, reason: .promotion)),
            .init(domain: "neu.li", mode: .parallel, users: 3),
        ])
        #expect(offer.status == .draft)
        #expect(offer.validUntil == CivilDate("2026-12-18"))
        #expect(offer.currency == "CHF")
        #expect(offer.lines[0].services.map(\.code) == ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND"])
        #expect(offer.lines[0].services.map(\.monthly) == [900, 1350, 720])
        #expect(offer.lines[1].services.map(\.monthly) == [300, 360])
        #expect(offer.monthlyTotal == offer.lines.flatMap(\.services).reduce(0) { $0 + $1.monthly })
        #expect(offer.yearlyTotal == 12 * offer.monthlyTotal)
    }

    @Test func refusals() throws {
        let inconsistent = #expect(throws: PortalError.self) {
            try create([.init(domain: "x.ch", mode: .parallel, services: ["SC-HIN"], users: 1)])
        }
        #expect(inconsistent?.code == .dependencyViolation)
        let booked = #expect(throws: PortalError.self) { try create([.init(domain: "d.ch", mode: .inline, users: 1)]) }
        #expect(booked?.code == .conflict)
        let past = #expect(throws: PortalError.self) {
            try create([.init(domain: "x.ch", mode: .inline, users: 1)], validUntil: "2026-11-17")
        }
        #expect(past?.code == .dateRule)
        let freeMail = #expect(throws: PortalError.self) {
            try create([.init(domain: "gmail.com", mode: .inline, users: 1)])
        }
        #expect(freeMail?.code == .invalidDomain)
        let tech = Principal(id: "t", kind: .partnerAdmin, partnerId: d.admin.partnerId, roles: [.Tech])
        #expect(throws: PortalError.self) {
            try d.portal.perform(
                OfferCreate(prospect: prospect, lines: [.init(domain: "x.ch", mode: .inline, users: 1)]), as: tech)
        }
    }

    @Test func acceptBooksEverythingAtomically() throws {
        let offer = try create([
            .init(
                domain: "neu.ch", mode: .inline, services: ["SC-F-OUTBOUND"], users: 10,
                discount: DiscountRequest(percent: 10, reason: .promotion))
        ])
        _ = try d.portal.perform(OfferSend(offerId: offer.id), as: d.admin)
        let accepted = try d.portal.perform(OfferAccept(offerId: offer.id), as: d.admin)
        #expect(accepted.offer.status == .accepted)
        #expect(accepted.tenant.name == "Neu AG")
        #expect(accepted.offer.tenantId == accepted.tenant.id)
        #expect(
            accepted.domains[0].services.allSatisfy {
                $0.status == .ordered && $0.discount?.label == "10 % (promotion)"
            })
        #expect(throws: PortalError.self) { try d.portal.perform(OfferAccept(offerId: offer.id), as: d.admin) }
    }

    @Test func acceptChangesNothingWhenADomainWasBookedMeanwhile() throws {
        let offer = try create([
            .init(domain: "a.ch", mode: .inline, users: 1), .init(domain: "b.ch", mode: .inline, users: 1),
        ])
        _ = try d.portal.perform(DomainAdd(tenantId: d.tenantId, name: "b.ch", mode: .inline), as: d.admin)
        let events = d.portal.journal.count
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferAccept(offerId: offer.id), as: d.admin)
        }
        #expect(error?.code == .conflict)
        #expect(d.portal.journal.count == events)
        #expect(try d.portal.perform(OfferGet(offerId: offer.id), as: d.admin).offer.status == .draft)
        #expect(try d.portal.perform(TenantList(query: "Neu"), as: d.admin).tenants.isEmpty, "no tenant was created")
    }

    @Test func expiryDeclineAndVisibility() throws {
        let offer = try create([.init(domain: "a.ch", mode: .inline, users: 1)], validUntil: "2026-11-20")
        d.clock.set(BusinessCalendar().start(of: CivilDate("2026-11-21")!))
        #expect(try d.portal.perform(OfferGet(offerId: offer.id), as: d.admin).offer.status == .expired)
        #expect(try d.portal.perform(OfferList(status: .expired), as: d.admin).offers.count == 1)
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferAccept(offerId: offer.id), as: d.admin)
        }
        #expect(error?.code == .invalidTransition)
        let fresh = try create([.init(domain: "c.ch", mode: .inline, users: 1)])
        #expect(try d.portal.perform(OfferDecline(offerId: fresh.id), as: d.admin).offer.status == .declined)
        let stranger = Principal(id: "s", kind: .partnerAdmin, partnerId: "P99", roles: [.ALL])
        #expect(throws: PortalError.notFound("offer", fresh.id)) {
            try d.portal.perform(OfferGet(offerId: fresh.id), as: stranger)
        }
        #expect(try d.portal.perform(OfferList(), as: stranger).offers.isEmpty)
    }

    @Test func rendersMarkdownAndSelfContainedHTML() throws {
        let offer = try create([
            .init(domain: "neu.ch", mode: .inline, services: ["SC-SIGENC", "SC-F-OUTBOUND"], users: 5)
        ])
        let md = try d.portal.perform(OfferRender(offerId: offer.id, format: .markdown), as: d.admin).document
        #expect(md.contains("# Offer \(offer.id)"))
        #expect(md.contains("| SC-SIGENC | seppmail.cloud sign+encrypt | 5 | CHF 3.00 | – | CHF 15.00 |"))
        #expect(
            md.contains(
                "**Yearly total:** CHF \(offer.yearlyTotal / 100).\(String(format: "%02d", offer.yearlyTotal % 100))"))
        let html = try d.portal.perform(OfferRender(offerId: offer.id, format: .html), as: d.admin).document
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<style>"))
        #expect(!html.contains("<script") && !html.contains("http"), "self-contained")
    }
}
