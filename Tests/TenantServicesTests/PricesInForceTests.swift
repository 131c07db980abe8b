import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

/// Regression tests of issue 13, one per rule, each named after the rule it enforces.

/// The standard catalog with every price doubled (another catalog a server might start with).
func catalogWithOtherPrices() throws -> Catalog {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/TenantServices/Resources/catalog.json")
    var document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    document["services"] = (document["services"] as! [[String: Any]]).map { service in
        var service = service
        service["prices"] = (service["prices"] as! [String: Int]).mapValues { $0 * 2 + 5 }
        return service
    }
    return try Catalog(json: JSONSerialization.data(withJSONObject: document))
}

@Suite struct PricesInForceTests {
    func statement(_ portal: Portal, _ month: String) throws -> (json: Data, csv: String) {
        let response = try portal.perform(
            BillingStatement(month: Month(month)!, format: .csv), as: .platformOperator())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try encoder.encode(response), response.csv ?? "")
    }

    /// A past month is priced as at its end; a server started later with another catalog
    /// prices only the months from then on.
    @Test func aPastMonthIsPricedAsAtItsEndAlsoAfterARestartOnAnotherCatalog() throws {
        let store = InMemoryStore()
        let clock = TestClock("2026-11-18")
        let world = try WorldBuilder(clock: clock, store: store)
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        try world.domain(
            "muster.ch", of: tenant, options: ["SC-F-OUTBOUND", "SC-SIGENC"], status: .provisioned,
            users: [.signEncrypt: 2, .signOnly: 1, .none: 3])
        clock.set("2026-12-03")
        let november = try statement(world.portal, "2026-11")
        #expect(november.csv.components(separatedBy: "\r\n").count > 4)

        let other = try catalogWithOtherPrices()
        let restarted = try Portal(catalog: other, clock: clock, calendar: clock.calendar, store: store)
        #expect(try statement(restarted, "2026-11") == november, "byte-identical after a restart on another catalog")
        // The first write records the new prices; November stays as it was.
        _ = try restarted.perform(PartnerCreate(name: "Later IT"), as: .platformOperator())
        #expect(try statement(restarted, "2026-11") == november)
        let third = try Portal(catalog: .standard, clock: clock, calendar: clock.calendar, store: store)
        #expect(try statement(third, "2026-11") == november, "and again on the first catalog")

        // The current month uses the prices in force now.
        let december = try restarted.perform(BillingStatement(month: Month("2026-12")!), as: .platformOperator())
        #expect(!december.lines.isEmpty)
        for line in december.lines {
            #expect(line.unitPrice == other[line.service]!.prices[line.currency], "\(line.service)")
        }
        // Once December has passed, it keeps the prices recorded in force at its end, whatever the catalog.
        clock.set("2027-01-04")
        let decemberLater = try third.perform(BillingStatement(month: Month("2026-12")!), as: .platformOperator())
        #expect(decemberLater.lines == december.lines)
    }

    /// The prices are recorded once per change, not with every write, and survive a reload.
    @Test func pricesAreRecordedOnlyWhenTheyChange() throws {
        let store = InMemoryStore()
        let clock = TestClock("2026-11-18")
        let world = try WorldBuilder(clock: clock, store: store)
        _ = try world.partner("A")
        _ = try world.partner("B")
        func recorded(_ portal: Portal) -> Int {
            portal.journal.filter { $0.action == "catalog.prices" }.count
        }
        #expect(recorded(world.portal) == 1)
        let same = try Portal(catalog: .standard, clock: clock, calendar: clock.calendar, store: store)
        _ = try same.perform(PartnerCreate(name: "C"), as: .platformOperator())
        #expect(recorded(same) == 1, "the same prices are not recorded again after a restart")
        let other = try Portal(
            catalog: try catalogWithOtherPrices(), clock: clock, calendar: clock.calendar, store: store)
        _ = try other.perform(PartnerCreate(name: "D"), as: .platformOperator())
        _ = try other.perform(PartnerCreate(name: "E"), as: .platformOperator())
        #expect(recorded(other) == 2)
        #expect(other.state.prices == (try catalogWithOtherPrices()).priceList)
    }
}
