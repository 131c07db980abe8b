import OrderedCollections

/// The audit events the actor may read, oldest first.
public struct AuditList: PortalRequest, Executable, Equatable {
    public static let method = "audit.list"
    static let isMutating = false
    public var tenantId: String?
    /// Only events after this sequence number.
    public var afterSeq: Int?
    public var limit: Int?
    public var cursor: String?

    public init(tenantId: String? = nil, afterSeq: Int? = nil, limit: Int? = nil, cursor: String? = nil) {
        self.tenantId = tenantId
        self.afterSeq = afterSeq
        self.limit = limit
        self.cursor = cursor
    }

    /// One page of events.
    public struct Response: Codable, Sendable, Equatable {
        public var events: [AuditEvent]
        public var nextCursor: String?
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        if let tenantId { _ = try tx.tenant(tenantId) }
        try tx.require(.readAudit)
        let state = tx.state
        let access = tx.access
        let isOperator = tx.actor.kind == .operator
        // Tenant admins never see offers (nor prices), so neither the events that save one.
        let offersHidden = tx.actor.kind == .tenantAdmin
        let actor = tx.actor
        let events = state.events.lazy.filter { event in
            // A record without changes only keeps a request key: nothing happened.
            if event.changes.isEmpty { return false }
            if let afterSeq, event.seq <= afterSeq { return false }
            if let tenantId, event.tenantId != tenantId { return false }
            if isOperator { return true }
            if offersHidden && event.changes.contains(where: { if case .offerSaved = $0 { true } else { false } }) {
                return false
            }
            guard let owning = event.tenantId else {
                // An offer for a prospect (no tenant yet) belongs to its partner.
                return !offersHidden
                    && event.changes.contains {
                        if case .offerSaved(let offer) = $0 { offer.partnerId == actor.partnerId } else { false }
                    }
            }
            guard let owner = state.tenants[owning], access.inScope(owner) else { return false }
            if let domainId = event.domainId, let domain = state.domains[domainId] {
                return access.canSee(domain, of: owner)
            }
            return true
        }
        let page = try Page(events, key: { orderKey("E\($0.seq)") }, limit: limit, cursor: cursor)
        return Response(
            events: page.items.map {
                AuditEvent(
                    seq: $0.seq, at: $0.at, actor: $0.actor, action: $0.action, target: $0.target, summary: $0.summary)
            }, nextCursor: page.nextCursor)
    }
}

/// The catalog: every service with its rules, for any actor; prices only for those who may see them.
public struct CatalogGet: PortalRequest, Executable, Equatable {
    public static let method = "catalog.get"
    static let isMutating = false
    /// `en` (default) or `de`.
    public var locale: String?

    public init(locale: String? = nil) { self.locale = locale }

    /// A catalog service as shown.
    public struct Entry: Codable, Sendable, Equatable {
        public var code: String
        public var name: String
        public var kind: Catalog.Service.Kind
        public var mode: IntegrationMode?
        public var requires: [String]
        public var requiresAny: [String]
        public var excludes: [String]
        public var modes: [IntegrationMode]?
        public var regions: [Region]?
        public var counts: Catalog.Service.Counting
        /// Monthly price per counted user in minor units by currency; null without the right to see prices.
        public var prices: [String: Int]?
    }

    /// Every service in catalog order.
    public struct Response: Codable, Sendable, Equatable {
        public var services: [Entry]
        public var freeMailDomains: [String]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let locale = locale ?? "en"
        guard ["en", "de"].contains(locale) else {
            throw PortalError(.invalidArgument, "locale must be 'en' or 'de', not '\(locale)'")
        }
        let prices = tx.access.allows(.seePrices)
        return Response(
            services: tx.catalog.services.map {
                Entry(
                    code: $0.code, name: $0.name(locale: locale), kind: $0.kind, mode: $0.mode, requires: $0.requires,
                    requiresAny: $0.requiresAny, excludes: $0.excludes, modes: $0.modes, regions: $0.regions,
                    counts: $0.counts, prices: prices ? $0.prices : nil)
            }, freeMailDomains: tx.catalog.freeMailDomains)
    }
}
