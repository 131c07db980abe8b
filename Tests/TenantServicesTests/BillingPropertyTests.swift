import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

/// Seeded property tests for cancellation, billing and offers.
@Suite struct BillingPropertyTests {
    static let codes = ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-SIGONLY", "SC-SIGENC", "SC-CERT", "SC-HIN"]

    /// Cancel then uncancel leaves every deployed service exactly as it was.
    @Test func uncancelRestoresExactly() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...6), Gen.int(in: 1...60), Gen.int(in: 0...3)) {
            target, days, preCancelled in
            do {
                let d = try Deployed(on: "2026-11-18", services: ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"])
                if preCancelled > 0 {
                    _ = try? d.cancel(["SC-CERT", "SC-SIGENC", "SC-F-OUTBOUND"][preCancelled - 1], end: "2027-03-31")
                }
                let before = try d.services()
                let code = Self.codes[target]
                let end = CivilDate("2026-11-18")!.adding(days: days).description
                guard (try? d.cancel(code, end: end)) != nil else { return }
                guard (try? d.portal.perform(ServiceUncancel(domainId: d.domainId, service: code), as: d.admin)) != nil
                else { return }
                let after = try d.services()
                for (c, s) in before {
                    #expect(after[c]?.status == s.status, "\(c) status after cancel+uncancel of \(code)")
                    #expect(after[c]?.endDate == s.endDate, "\(c) end date after cancel+uncancel of \(code)")
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// A line is priced in the currency of the region its domain's services ran in (SPEC §2,
    /// CHF for CH, EUR for DE): a tenant may move to the other region once its domains have
    /// ended, and what ran before is not repriced in the new currency, neither in the month of
    /// the move nor once that month is past.
    @Test func linesArePricedInTheCurrencyOfTheRegionTheServicesRanIn() async {
        await propertyCheck(count: 20, input: Gen.int(in: 19...29), Gen.int(in: 1...11), Gen.bool) {
            endDay, wait, fromGermany in
            do {
                let (from, to) = fromGermany ? (berlin, zurich) : (zurich, berlin)
                let currency = fromGermany ? "EUR" : "CHF"
                let d = try Deployed(on: "2026-11-18", address: from)
                _ = try d.cancel("SC-SERVICE", end: "2026-11-\(endDay)")
                let moveDay = min(endDay + wait, 30)
                d.clock.set(BusinessCalendar().start(of: CivilDate("2026-11-\(moveDay)")!).addingTimeInterval(3600))
                let moved = try d.portal.perform(TenantUpdate(tenantId: d.tenantId, address: to), as: d.admin)
                #expect(moved.tenant.currency != currency, "the tenant moved to the other region")
                for asOf in ["2026-11-\(moveDay)", "2026-12-02"] {
                    d.clock.set(BusinessCalendar().start(of: CivilDate(asOf)!).addingTimeInterval(3600))
                    let statement = try d.portal.perform(BillingStatement(month: Month("2026-11")!), as: d.admin)
                    #expect(!statement.lines.isEmpty)
                    for line in statement.lines {
                        #expect(line.currency == currency, "\(line.service) as of \(asOf), ended \(endDay)")
                        #expect(line.unitPrice == Catalog.standard.priceList[line.service]?.prices[currency])
                    }
                    #expect(statement.totals?.map(\.currency) == [currency])
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Offer totals equal the sum of their lines, yearly = 12 × monthly.
    @Test func offerTotalsEqualTheSumOfTheirLines() async {
        await propertyCheck(count: 80, input: Gen.int(in: 0...500).array(of: 1...5), Gen.int(in: 0...10000)) {
            users, basisPoints in
            do {
                let d = try Deployed(on: "2026-11-18")
                let lines = users.enumerated().map { i, n in
                    OfferCreate.LineRequest(
                        domain: "o\(i).ch", mode: i % 2 == 0 ? .inline : .parallel,
                        services: i % 2 == 0 ? ["SC-F-OUTBOUND", "SC-SIGENC"] : ["SC-SIGONLY"],
                        users: n, discount: DiscountRequest(percent: Double(basisPoints) / 100, reason: .volume))
                }
                let offer = try d.portal.perform(
                    OfferCreate(prospect: Prospect(name: "X", contact: contact, address: berlin), lines: lines),
                    as: d.admin
                ).offer
                #expect(offer.currency == "EUR")
                #expect(offer.monthlyTotal == offer.lines.reduce(0) { $0 + $1.monthly })
                #expect(offer.lines.allSatisfy { $0.monthly == $0.services.reduce(0) { $0 + $1.monthly } })
                #expect(offer.yearlyTotal == 12 * offer.monthlyTotal)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
