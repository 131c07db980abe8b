public import Foundation
import OrderedCollections

/// A customer who is not a tenant yet.
public struct Prospect: Codable, Sendable, Equatable {
    public var name: String
    public var contact: Contact
    public var address: Address

    public init(name: String, contact: Contact, address: Address) {
        self.name = name
        self.contact = contact
        self.address = address
    }
}

/// Where an offer stands. `expired` is shown once valid-until has passed on a draft or sent offer.
public enum OfferStatus: String, Codable, Sendable {
    case draft, sent, accepted, declined, expired
}

/// A discount as requested in params.
public struct DiscountRequest: Codable, Sendable, Equatable {
    public var percent: Double
    public var reason: Discount.Reason?

    public init(percent: Double, reason: Discount.Reason?) {
        self.percent = percent
        self.reason = reason
    }
}

/// One priced service of an offer line.
public struct OfferService: Codable, Sendable, Equatable {
    public var code: String
    public var quantity: Int
    public var unitPrice: Int
    public var discount: Discount?
    /// quantity × unitPrice × (100 − discount)/100, rounded half-up.
    public var monthly: Int
}

/// One domain of an offer with its services.
public struct OfferLine: Codable, Sendable, Equatable {
    public var domain: String
    public var mode: IntegrationMode
    public var users: Int
    public var services: [OfferService]
}

/// An offer as stored.
public struct Offer: Codable, Sendable, Equatable {
    public var id: String
    public var partnerId: String
    public var tenantId: String?
    public var prospect: Prospect?
    public var currency: String
    public var validUntil: CivilDate
    public var note: String?
    public var lines: [OfferLine]
    /// draft, sent, accepted or declined; `expired` is derived.
    public var status: OfferStatus
    public var createdAt: Date

    public var monthlyTotal: Int { lines.reduce(0) { $0 + $1.services.reduce(0) { $0 + $1.monthly } } }

    func status(on today: CivilDate) -> OfferStatus {
        (status == .draft || status == .sent) && validUntil < today ? .expired : status
    }
}

/// An offer as shown.
public struct OfferView: Codable, Sendable, Equatable {
    /// A priced service as shown.
    public struct Service: Codable, Sendable, Equatable {
        public var code: String
        public var name: String
        public var quantity: Int
        public var unitPrice: Int
        public var discount: DiscountView?
        public var monthly: Int
    }

    /// A line as shown.
    public struct Line: Codable, Sendable, Equatable {
        public var domain: String
        public var mode: IntegrationMode
        public var users: Int
        public var services: [Service]
        public var monthly: Int
    }

    public var id: String
    public var status: OfferStatus
    public var partnerId: String
    public var tenantId: String?
    public var prospect: Prospect?
    public var currency: String
    public var validUntil: CivilDate
    public var note: String?
    public var lines: [Line]
    public var monthlyTotal: Int
    public var yearlyTotal: Int
    public var createdAt: String
}

extension Transaction {
    func view(of offer: Offer) -> OfferView {
        OfferView(
            id: offer.id, status: offer.status(on: today), partnerId: offer.partnerId, tenantId: offer.tenantId,
            prospect: offer.prospect, currency: offer.currency, validUntil: offer.validUntil, note: offer.note,
            lines: offer.lines.map { line in
                OfferView.Line(
                    domain: line.domain, mode: line.mode, users: line.users,
                    services: line.services.map {
                        OfferView.Service(
                            code: $0.code, name: catalog[$0.code]?.name(locale: "en") ?? $0.code, quantity: $0.quantity,
                            unitPrice: $0.unitPrice, discount: $0.discount?.view, monthly: $0.monthly)
                    }, monthly: line.services.reduce(0) { $0 + $1.monthly })
            }, monthlyTotal: offer.monthlyTotal, yearlyTotal: 12 * offer.monthlyTotal,
            createdAt: timestamp(offer.createdAt))
    }

    /// An offer the actor may see (own partner's, with the right to see prices), else `not-found`.
    func offer(_ id: String) throws(PortalError) -> Offer {
        guard let offer = state.offers[id],
            actor.kind == .operator || (actor.kind == .partnerAdmin && actor.partnerId == offer.partnerId),
            offer.tenantId.map({ state.tenants[$0].map(access.inScope) ?? false }) ?? true
        else { throw .notFound("offer", id) }
        return offer
    }

    mutating func saveOffer(_ offer: Offer, summary: String, extra: [Change] = []) {
        record(
            target: offer.id, summary: summary, tenant: offer.tenantId.flatMap { state.tenants[$0] },
            [.offerSaved(offer)] + extra)
    }
}

/// Creates a priced offer for a tenant or a prospect: one quantity per line for each of its
/// services, the line's discount on each, in the given currency or the country's.
public struct OfferCreate: PortalRequest, Executable, Equatable {
    public static let method = "offer.create"
    static let isMutating = true

    /// One domain to offer.
    public struct LineRequest: Codable, Sendable, Equatable {
        public var domain: String
        public var mode: IntegrationMode
        public var services: [String]?
        public var users: Int
        public var discount: DiscountRequest?

        public init(
            domain: String, mode: IntegrationMode, services: [String]? = nil, users: Int,
            discount: DiscountRequest? = nil
        ) {
            self.domain = domain
            self.mode = mode
            self.services = services
            self.users = users
            self.discount = discount
        }
    }

    public var tenantId: String?
    public var prospect: Prospect?
    public var partnerId: String?
    public var currency: String?
    public var validUntil: CivilDate?
    public var note: String?
    public var lines: [LineRequest]

    public init(
        tenantId: String? = nil, prospect: Prospect? = nil, partnerId: String? = nil, currency: String? = nil,
        validUntil: CivilDate? = nil, note: String? = nil, lines: [LineRequest]
    ) {
        self.tenantId = tenantId
        self.prospect = prospect
        self.partnerId = partnerId
        self.currency = currency
        self.validUntil = validUntil
        self.note = note
        self.lines = lines
    }

    /// The offer.
    public struct Response: Codable, Sendable, Equatable { public var offer: OfferView }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let partner: String
        let region: Region
        var prospect = self.prospect
        if let tenantId {
            let tenant = try tx.tenant(tenantId)
            partner = tenant.partnerId
            region = tenant.region
        } else {
            guard let given = prospect else {
                throw PortalError(.invalidArgument, "an offer needs a tenantId or a prospect")
            }
            switch tx.actor.kind {
            case .operator:
                guard let partnerId else {
                    throw PortalError(.invalidArgument, "the operator must name the partnerId of a prospect offer")
                }
                guard tx.state.partners[partnerId] != nil else { throw .notFound("partner", partnerId) }
                partner = partnerId
            case .partnerAdmin:
                if let partnerId, partnerId != tx.actor.partnerId { throw .notFound("partner", partnerId) }
                partner = tx.actor.partnerId ?? ""
            case .tenantAdmin:
                try tx.require(.seePrices)
                partner = ""
            }
            prospect = Prospect(
                name: try requireText(given.name, "prospect.name"), contact: try validated(given.contact),
                address: try validated(given.address))
            region = Region(country: prospect!.address.country)
        }
        try tx.require(.seePrices)
        let currency = self.currency ?? region.currency
        guard tx.catalog.currencies.contains(currency) else {
            throw PortalError(
                .invalidArgument,
                "currency must be one of \(tx.catalog.currencies.joined(separator: ", ")), not \(currency)")
        }
        try tx.requireKnown(lines.flatMap { $0.services ?? [] })
        let priced = try tx.priceLines(lines, region: region, currency: currency)
        let validUntil = self.validUntil ?? tx.today.adding(days: 30)
        guard validUntil.isRepresentable else {
            throw PortalError(
                .dateRule,
                "the default validity (today + 30 days) would end on \(validUntil), past \(CivilDate.latest), the last date the portal handles; give a validUntil",
                details: .init(latest: CivilDate.latest.description))
        }
        guard validUntil >= tx.today else {
            throw PortalError(
                .dateRule, "validUntil \(validUntil) is in the past; the earliest is \(tx.today) (today)",
                details: .init(earliest: tx.today))
        }
        let offer = Offer(
            id: tx.state.newID("O"), partnerId: partner, tenantId: tenantId, prospect: prospect, currency: currency,
            validUntil: validUntil, note: note.flatMap(nonEmpty), lines: priced, status: .draft, createdAt: tx.now)
        tx.saveOffer(offer, summary: "created offer \(offer.id) for \(prospect?.name ?? tenantId ?? "")")
        return Response(offer: tx.view(of: offer))
    }
}

extension Transaction {
    /// Validates and prices offer lines with the booking rules: base and mode service added, the full check.
    ///
    /// Each rule is checked across all lines before the next, in the order every request
    /// checks domain rules:
    /// `invalid-domain`, `conflict`, `dependency-violation`.
    func priceLines(_ lines: [OfferCreate.LineRequest], region: Region, currency: String) throws(PortalError)
        -> [OfferLine]
    {
        var discounts: [Discount?] = []
        for line in lines {
            guard line.users >= 0 else { throw PortalError(.invalidArgument, "users must not be negative") }
            let discount = try line.discount.flatMap { d throws(PortalError) in
                try Discount(percent: d.percent, reason: d.reason)
            }
            discounts.append(discount)
        }
        var names: [String] = []
        for line in lines { names.append(try validDomainName(line.domain)) }
        var seen: Set<String> = []
        for name in names {
            guard seen.insert(name).inserted else {
                throw PortalError(.conflict, "domain \(name) appears twice in the offer")
            }
            try requireUnbooked(name)
        }
        var codesOf: [[String]] = []
        for (line, name) in zip(lines, names) {
            codesOf.append(
                try catalog.guidedBooking(
                    of: name, mode: line.mode, options: line.services ?? [], region: region, chosen: "offered"))
        }
        var result: [OfferLine] = []
        for (i, line) in lines.enumerated() {
            let (name, codes, discount) = (names[i], codesOf[i], discounts[i])
            result.append(
                OfferLine(
                    domain: name, mode: line.mode, users: line.users,
                    services: codes.map { code in
                        let price = catalog[code]!.prices[currency] ?? 0
                        return OfferService(
                            code: code, quantity: line.users, unitPrice: price, discount: discount,
                            monthly: BillingStatement.total(quantity: line.users, unitPrice: price, discount: discount))
                    }))
        }
        return result
    }
}

/// One offer.
public struct OfferGet: PortalRequest, Executable, Equatable {
    public static let method = "offer.get"
    static let isMutating = false
    public var offerId: String

    public init(offerId: String) { self.offerId = offerId }

    public typealias Response = OfferCreate.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let offer = try tx.offer(offerId)
        try tx.require(.seePrices)
        return Response(offer: tx.view(of: offer))
    }
}

/// The offers the actor may see, oldest first.
public struct OfferList: PortalRequest, Executable, Equatable {
    public static let method = "offer.list"
    static let isMutating = false
    public var status: OfferStatus?
    public var limit: Int?
    public var cursor: String?

    public init(status: OfferStatus? = nil, limit: Int? = nil, cursor: String? = nil) {
        self.status = status
        self.limit = limit
        self.cursor = cursor
    }

    /// One page of offers.
    public struct Response: Codable, Sendable, Equatable {
        public var offers: [OfferView]
        public var nextCursor: String?
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        try tx.require(.seePrices)
        let visible = tx.state.offers.values.filter { (try? tx.offer($0.id)) != nil }
            .filter { status == nil || $0.status(on: tx.today) == status }
        let page = try Page(visible, key: { orderKey($0.id) }, limit: limit, cursor: cursor)
        return Response(offers: page.items.map(tx.view(of:)), nextCursor: page.nextCursor)
    }
}

/// Moves an offer along `draft → sent → accepted | declined`.
enum OfferTransition {
    static func move(_ tx: inout Transaction, _ offerId: String, to target: OfferStatus) throws(PortalError) -> Offer {
        var offer = try tx.offer(offerId)
        try tx.require(.seePrices)
        let current = offer.status(on: tx.today)
        let allowed: [OfferStatus] = target == .sent ? [.draft] : [.draft, .sent]
        guard allowed.contains(current) else {
            throw PortalError(
                .invalidTransition,
                "offer \(offerId) is \(current.rawValue); it can be \(target.rawValue) only when \(allowed.map(\.rawValue).joined(separator: " or "))"
                    + (current == .expired ? " (it expired after \(offer.validUntil))" : ""))
        }
        offer.status = target
        return offer
    }
}

/// Marks a draft offer as sent to the customer.
public struct OfferSend: PortalRequest, Executable, Equatable {
    public static let method = "offer.send"
    static let isMutating = true
    public var offerId: String

    public init(offerId: String) { self.offerId = offerId }

    public typealias Response = OfferCreate.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let offer = try OfferTransition.move(&tx, offerId, to: .sent)
        tx.saveOffer(offer, summary: "sent offer \(offer.id)")
        return Response(offer: tx.view(of: offer))
    }
}

/// Records that the customer declined an offer.
public struct OfferDecline: PortalRequest, Executable, Equatable {
    public static let method = "offer.decline"
    static let isMutating = true
    public var offerId: String

    public init(offerId: String) { self.offerId = offerId }

    public typealias Response = OfferCreate.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let offer = try OfferTransition.move(&tx, offerId, to: .declined)
        tx.saveOffer(offer, summary: "offer \(offer.id) declined")
        return Response(offer: tx.view(of: offer))
    }
}

/// Turns an offer into real bookings in one atomic step: creates the tenant for a prospect, adds
/// the domains and services as `ordered` with the lines' discounts; or changes nothing.
public struct OfferAccept: PortalRequest, Executable, Equatable {
    public static let method = "offer.accept"
    static let isMutating = true
    public var offerId: String

    public init(offerId: String) { self.offerId = offerId }

    /// The accepted offer, the tenant and the domains booked.
    public struct Response: Codable, Sendable, Equatable {
        public var offer: OfferView
        public var tenant: TenantView
        public var domains: [DomainView]
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var offer = try OfferTransition.move(&tx, offerId, to: .accepted)
        let customer = try offer.tenantId.map { id throws(PortalError) in
            guard let existing = tx.state.tenants[id] else { throw .notFound("tenant", id) }
            return existing
        }
        // The domain rules in their order (SPEC §7), each across all lines: `invalid-domain` (a
        // catalog with another free-mail list since), `conflict` (booked meanwhile, or the currency
        // below), `dependency-violation` (the region below).
        for line in offer.lines { _ = try tx.validDomainName(line.domain) }
        for line in offer.lines { try tx.requireUnbooked(line.domain) }
        // The booked services are billed in their region's currency: an offer priced in another
        // (given at create, or the tenant moved since) would bill other prices than accepted.
        let region = customer?.region ?? Region(country: offer.prospect!.address.country)
        guard offer.currency == region.currency else {
            throw PortalError(
                .conflict,
                "offer \(offer.id) is priced in \(offer.currency), but its services would be billed in \(region.currency) (region \(region.rawValue), from the customer's country \(customer?.address.country ?? offer.prospect!.address.country)); make a new offer in \(region.currency)"
            )
        }
        // The lines passed the check in the customer's region at create; the tenant may have moved
        // since, and nothing is booked that `service.add` would refuse there.
        for line in offer.lines {
            let violations = tx.catalog.permanentViolations(of: line.services.map(\.code), region: region)
            guard violations.isEmpty else {
                throw PortalError(
                    .dependencyViolation,
                    "offer \(offer.id) cannot be accepted: on \(line.domain) in region \(region.rawValue): \(violations.map(\.message).joined(separator: " ")) Make a new offer for the customer's region.",
                    details: .init(violations: violations))
            }
        }
        var tenant: Tenant
        if let customer {
            tenant = customer
        } else {
            let prospect = offer.prospect!
            tenant = tx.newTenant(
                of: offer.partnerId, name: prospect.name, contact: prospect.contact, address: prospect.address,
                source: .portal)
            tx.record(
                target: tenant.id, summary: "created tenant \(tenant.name) from offer \(offer.id)", tenant: tenant,
                [.tenantSaved(tenant)])
            offer.tenantId = tenant.id
        }
        var domainIds: [String] = []
        for line in offer.lines {
            var domain = tx.newDomain(line.domain, of: tenant, codes: line.services.map(\.code))
            for i in domain.services.indices {
                domain.services[i].discount = line.services.first { $0.code == domain.services[i].code }?.discount
            }
            tx.save(domain, of: tenant, summary: "added domain \(line.domain) from offer \(offer.id)")
            domainIds.append(domain.id)
        }
        tx.saveOffer(
            offer, summary: "offer \(offer.id) accepted: \(domainIds.count) domain(s) ordered for \(tenant.name)")
        let state = tx.state
        return Response(
            offer: tx.view(of: offer), tenant: tx.view(of: state.tenants[tenant.id]!),
            domains: domainIds.map { tx.view(of: state.domains[$0]!) })
    }
}

/// An offer as a document a partner can send to a customer.
public struct OfferRender: PortalRequest, Executable, Equatable {
    public static let method = "offer.render"
    static let isMutating = false

    /// The document formats.
    public enum Format: String, Codable, Sendable { case markdown, html }

    public var offerId: String
    public var format: Format

    public init(offerId: String, format: Format) {
        self.offerId = offerId
        self.format = format
    }

    /// The rendered document.
    public struct Response: Codable, Sendable, Equatable {
        public var format: Format
        public var document: String
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let offer = tx.view(of: try tx.offer(offerId))
        try tx.require(.seePrices)
        let partner = tx.state.partners[offer.partnerId]?.name ?? offer.partnerId
        let customer = offer.prospect?.name ?? offer.tenantId.flatMap { tx.state.tenants[$0]?.name } ?? ""
        let address = offer.prospect?.address ?? offer.tenantId.flatMap { tx.state.tenants[$0]?.address }
        let document =
            format == .markdown
            ? OfferDocument.markdown(offer, partner: partner, customer: customer, address: address)
            : OfferDocument.html(offer, partner: partner, customer: customer, address: address)
        return Response(format: format, document: document)
    }
}
