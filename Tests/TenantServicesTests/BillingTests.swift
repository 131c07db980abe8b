import Foundation
import Testing

@testable import TenantServices

@Suite struct BillingTests {
    func statement(_ d: Deployed, _ month: String, format: BillingStatement.Format? = nil) throws
        -> BillingStatement.Response
    {
        try d.portal.perform(BillingStatement(month: Month(month)!, format: format), as: d.admin)
    }

    @Test func linesQuantitiesDiscountsAndTheAutomaticSignOnlyLine() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.portal.perform(
            ServiceSetDiscount(domainId: d.domainId, service: "SC-SIGENC", percent: 12.5, reason: .nfr), as: d.admin)
        let s = try statement(d, "2026-11")
        let byService = Dictionary(uniqueKeysWithValues: s.lines.map { ($0.service, $0) })
        // users: a (signEncrypt), b (signOnly), c (none), all active
        #expect(byService["SC-SERVICE"]?.quantity == 3)
        #expect(byService["SC-F-INBOUND"]?.total == 450)
        #expect(byService["SC-SIGENC"]?.quantity == 1)
        #expect(byService["SC-SIGENC"]?.total == 263, "300 × 87.5 % = 262.5, rounded half-up")
        #expect(byService["SC-SIGONLY"]?.quantity == 1, "the automatic sign-only line")
        #expect(byService["SC-SIGONLY"]?.unitPrice == 150)
        #expect(byService["SC-SIGONLY"]?.discount?.label == "12.5 % (nfr)", "with SC-SIGENC's discount")
        #expect(byService["SC-SIGONLY"]?.total == 131, "150 × 87.5 % = 131.25")
        #expect(byService["SC-CERT"]?.quantity == 2)
        #expect(
            s.lines.map(\.service) == [
                "SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-SIGONLY", "SC-SIGENC", "SC-CERT",
            ])
        #expect(s.totals == [CurrencyTotal(currency: "CHF", total: s.lines.reduce(0) { $0 + $1.total })])
    }

    @Test func csvIsRFC4180WithAHeader() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.portal.perform(TenantUpdate(tenantId: d.tenantId, name: "Muster, \"Die\" AG"), as: d.admin)
        let csv = try #require(try statement(d, "2026-11", format: .csv).csv)
        let rows = csv.components(separatedBy: "\r\n")
        #expect(rows[0] == BillingStatement.csvHeader)
        #expect(rows[1].hasPrefix(#"2026-11,T1,"Muster, ""Die"" AG",D1,d.ch,SC-SERVICE,3,1.00,CHF,0.00,,3.00"#))
        #expect(rows.last == "")
        #expect(try statement(d, "2026-11").csv == nil)
    }

    @Test func aMonthThatHasNotBegunIsADateRuleError() throws {
        let d = try Deployed(on: "2026-11-18")
        let error = #expect(throws: PortalError.self) { try statement(d, "2026-12") }
        #expect(error?.code == .dateRule)
        #expect(error?.details.latest == "2026-11")
    }

    @Test func nothingIsBilledBeforeItIsLiveOrAfterItEnded() throws {
        let d = try Deployed(on: "2026-11-18")
        #expect(try statement(d, "2026-10").lines.isEmpty, "before the billing start")
        _ = try d.cancel("SC-SIGENC", end: "2026-11-30")
        _ = try d.tick(on: "2026-12-01")
        d.clock.set(BusinessCalendar().start(of: CivilDate("2027-01-15")!))
        let december = try statement(d, "2026-12")
        #expect(!december.lines.contains { $0.service == "SC-SIGENC" || $0.service == "SC-CERT" })
        #expect(!december.lines.contains { $0.service == "SC-SIGONLY" }, "the automatic line ends with SC-SIGENC")
        #expect(try statement(d, "2026-11").lines.contains { $0.service == "SC-SIGENC" }, "billed through its end date")
    }

    @Test func aPastMonthNeverChanges() throws {
        let d = try Deployed(on: "2026-11-18")
        d.clock.set(BusinessCalendar().start(of: CivilDate("2026-12-02")!))
        let before = try statement(d, "2026-11")
        _ = try d.portal.perform(
            UsersImport(
                domainId: d.domainId,
                users: [
                    .init(address: "x@d.ch", protection: .signEncrypt), .init(address: "a@d.ch", protection: .none),
                ]),
            as: d.admin)
        _ = try d.portal.perform(
            ServiceSetDiscount(domainId: d.domainId, service: "SC-SERVICE", percent: 50, reason: .test), as: d.admin)
        _ = try d.portal.perform(TenantUpdate(tenantId: d.tenantId, name: "Renamed AG"), as: d.admin)
        #expect(try statement(d, "2026-11") == before)
        #expect(try statement(d, "2026-12") != before)
    }

    @Test func statementsAreForSalesAllAndTheOperatorOnly() throws {
        let d = try Deployed(on: "2026-11-18")
        for actor in [
            Principal(id: "t", kind: .partnerAdmin, partnerId: d.admin.partnerId, roles: [.Tech]),
            Principal(id: "ta", kind: .tenantAdmin, tenantId: d.tenantId, roles: [.ALL]),
        ] {
            let error = #expect(throws: PortalError.self) {
                try d.portal.perform(BillingStatement(month: Month("2026-11")!), as: actor)
            }
            #expect(error?.code == .permissionDenied)
        }
        let other = Principal(id: "o", kind: .partnerAdmin, partnerId: "P99", roles: [.Sales])
        #expect(try d.portal.perform(BillingStatement(month: Month("2026-11")!), as: other).lines.isEmpty)
        #expect(try d.portal.perform(BillingStatement(month: Month("2026-11")!), as: op).lines.count == 6)
    }
}

/// A line's total is exact wherever the catalog's price cap and any realistic count put it: the
/// product quantity × price × 10,000 left 64 bits (and trapped) long before the total does.
@Suite struct LineTotalRangeTests {
    @Test func totalsAtTheCatalogPriceCapAreExact() {
        let cap = 1_000_000_000
        #expect(BillingStatement.total(quantity: 10_000_000, unitPrice: cap, discount: nil) == 10_000_000 * cap)
        #expect(
            BillingStatement.total(
                quantity: 9_000_000_000, unitPrice: cap, discount: Discount(basisPoints: 5_000, reason: .promotion))
                == 4_500_000_000 * cap)
        // Rounded half-up to the minor unit, as below the old range.
        #expect(
            BillingStatement.total(
                quantity: 3, unitPrice: 1, discount: Discount(basisPoints: 5_000, reason: .promotion))
                == 2)
    }
}
