import Foundation

/// The prices of a catalog as they are recorded in the history (the prices in force are part of the
/// history). A past month's statement is priced from the list in force at its end,
/// so a server started later with another catalog prices only the months from then on.
public struct PriceList: Codable, Sendable, Equatable {
    /// One service's billing terms, in catalog order.
    public struct Entry: Codable, Sendable, Equatable {
        public var code: String
        /// Which users the service counts.
        public var counts: Catalog.Service.Counting
        /// Monthly price per counted user, in minor units, by currency.
        public var prices: [String: Int]

        public init(code: String, counts: Catalog.Service.Counting, prices: [String: Int]) {
            self.code = code
            self.counts = counts
            self.prices = prices
        }
    }

    /// Every service of the catalog, in catalog order (the order of statement lines).
    public var services: [Entry]

    public init(services: [Entry]) { self.services = services }

    /// Looks up a service by code.
    public subscript(code: String) -> Entry? { services.first { $0.code == code } }
}

extension Catalog.Service.Counting {
    /// Whether a user is counted (active, and of the protection this rule counts).
    func includes(_ user: User) -> Bool {
        guard user.active else { return false }
        switch self {
        case .allActive: return true
        case .signOnly: return user.protection == .signOnly
        case .signEncrypt: return user.protection == .signEncrypt
        case .signing: return user.protection != .none
        }
    }
}

extension Transaction {
    /// Records the catalog's prices in the history when they differ from the last recorded ones
    /// (the first write after a server started on another catalog, or the first write of all).
    mutating func recordPricesIfChanged() {
        let prices = catalog.priceList
        guard state.prices != prices else { return }
        let summary =
            "prices in force from now on: "
            + prices.services.map { entry in
                entry.code + " "
                    + entry.prices.sorted { $0.key < $1.key }.map { OfferDocument.money($0.value, $0.key) }.joined(
                        separator: "/")
            }.joined(separator: ", ")
        let record = EventRecord(
            seq: (state.events.last?.seq ?? 0) + 1, at: now, actor: actor.reference, action: PriceList.action,
            target: "catalog", summary: summary, partnerId: nil, tenantId: nil, domainId: nil,
            changes: [.pricesRecorded(prices)])
        state.apply(record)
        records.append(record)
    }
}

extension PriceList {
    /// The audit action of the event that records prices.
    static let action = "catalog.prices"
}
