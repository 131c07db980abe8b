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
