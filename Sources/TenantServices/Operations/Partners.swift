import Foundation
import OrderedCollections

/// Creates a partner (operator only).
public struct PartnerCreate: PortalRequest, Executable, Equatable {
    public static let method = "partner.create"
    static let isMutating = true
    public var name: String

    public init(name: String) { self.name = name }

    /// The created partner.
    public struct Response: Codable, Sendable, Equatable { public var partner: PartnerView }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try tx.requireOperator(for: "create partners")
        let name = try requireText(name, "name")
        let partner = Partner(id: tx.state.newID("P"), name: name, createdAt: tx.now)
        tx.record(target: partner.id, summary: "created partner \(name)", [.partnerSaved(partner)])
        return Response(partner: partner.view)
    }
}

/// Lists partners (operator only).
public struct PartnerList: PortalRequest, Executable, Equatable {
    public static let method = "partner.list"
    static let isMutating = false
    public var limit: Int?
    public var cursor: String?

    public init(limit: Int? = nil, cursor: String? = nil) {
        self.limit = limit
        self.cursor = cursor
    }

    /// One page of partners.
    public struct Response: Codable, Sendable, Equatable {
        public var partners: [PartnerView]
        public var nextCursor: String?
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try tx.requireOperator(for: "list partners")
        let page = try Page(tx.state.partners.values, key: { orderKey($0.id) }, limit: limit, cursor: cursor)
        return Response(partners: page.items.map(\.view), nextCursor: page.nextCursor)
    }
}

/// A required text, trimmed; empty is refused.
func requireText(_ text: String, _ field: String) throws(PortalError) -> String {
    let trimmed = text.trimming(.spacesAndNewlines)
    guard !trimmed.isEmpty else { throw PortalError(.invalidArgument, "\(field) must not be empty") }
    return trimmed
}
