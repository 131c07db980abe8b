import Foundation
import OrderedCollections

/// Where a page of a statement begins: a tenant (its index in the statement's tenant order), a
/// domain (its index among that tenant's domains) and a line among that domain's lines.
struct StatementPosition: Equatable {
    var tenant: Int
    var domain: Int
    var line: Int

    static let start = StatementPosition(tenant: 0, domain: 0, line: 0)
}

/// The cursor of a paged statement: which statement it continues, the store seq of the state
/// the previous page was computed on, and where the next page begins.
///
/// As text: `s2.<statement>.<c|p>.<seq>.<tenant>.<domain>.<line>.<prices>.<check>`, where
/// `<statement>` is a digest of the actor's identity (kind, ID, partner, tenant), the month, the
/// tenant filter and the format, `c`/`p` says whether the month was the current one, `<prices>`
/// a digest of the price list the pages are priced with (a server on another catalog, or a price
/// change, would mix two price lists and shift lines), and `<check>` a digest of the rest, so that
/// an accidentally altered or damaged cursor is refused (it is a checksum, not a signature). The cursor is no credential: every
/// page is computed for the actor of its own request, so a cursor can only choose where among
/// that actor's lines a page begins.
struct StatementCursor: Equatable {
    var current: Bool
    var seq: Int
    var position: StatementPosition
    /// The digest of the price list the statement is priced with (``digest(of:)``).
    var prices: String

    static let version = "s2"

    init(current: Bool, seq: Int, position: StatementPosition, prices: String) {
        self.current = current
        self.seq = seq
        self.position = position
        self.prices = prices
    }

    /// Reads a cursor given with `request` by `actor`; refuses one that is malformed, altered,
    /// or issued for another statement.
    init(_ text: String, of request: BillingStatement, by actor: Principal) throws(PortalError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 9, parts[0] == Self.version else {
            throw PortalError(
                .invalidArgument,
                "cursor is not a billing.statement cursor: pass the nextCursor of the previous page as it was given")
        }
        guard parts[8] == Self.check(parts[0..<8].joined(separator: ".")), parts[2] == "c" || parts[2] == "p",
            let seq = Int(parts[3]), let tenant = Int(parts[4]), let domain = Int(parts[5]), let line = Int(parts[6]),
            seq >= 0, tenant >= 0, domain >= 0, line >= 0
        else {
            throw PortalError(
                .invalidArgument,
                "cursor was altered or damaged (its check does not match): pass the nextCursor of the previous page as it was given, or start again without a cursor"
            )
        }
        guard parts[1] == Self.statement(of: request, by: actor) else {
            throw PortalError(
                .invalidArgument,
                "cursor belongs to another statement (another actor, month, tenantId or format): it continues only the request it was given for"
            )
        }
        self.init(
            current: parts[2] == "c", seq: seq, position: StatementPosition(tenant: tenant, domain: domain, line: line),
            prices: String(parts[7]))
    }

    /// The cursor's text for a statement (``statement(of:by:)``).
    func text(statement: String) -> String {
        let body =
            "\(Self.version).\(statement).\(current ? "c" : "p").\(seq).\(position.tenant).\(position.domain).\(position.line).\(prices)"
        return body + "." + Self.check(body)
    }

    /// The digest naming a statement: the actor's identity, the month, the tenant filter and the format.
    static func statement(of request: BillingStatement, by actor: Principal) -> String {
        let fields = [
            actor.kind.rawValue, actor.id, actor.partnerId ?? "", actor.tenantId ?? "", request.month.description,
            request.tenantId ?? "", (request.format ?? .json).rawValue,
        ]
        return String(SHA256.hexDigest(Array(fields.joined(separator: "\u{1F}").utf8)).prefix(16))
    }

    /// The digest of a price list: its codes, counting rules and prices in catalog order.
    static func digest(of prices: PriceList) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(prices)).map(Array.init) ?? Array("\(prices)".utf8)
        return String(SHA256.hexDigest(bytes).prefix(16))
    }

    private static func check(_ body: String) -> String {
        String(SHA256.hexDigest(Array(("billing.statement cursor\u{1F}" + body).utf8)).prefix(16))
    }
}

/// The tenants and domains a statement walks, in the statement's order.
enum StatementSource {
    /// The current month: the state as it is now.
    case current(PortalState)
    /// A past month: the entities as they were at its end.
    case past(PastEntities)

    /// Calls `visit` with every domain of the statement the actor may see, from `start` on, in the
    /// statement's order, with its tenant's and its own position, until `visit` returns false.
    func walk(
        from start: StatementPosition, access: Access, tenantId: String?,
        _ visit: (_ t: Int, Tenant, _ d: Int, Domain) -> Bool
    ) {
        switch self {
        case .current(let state):
            var tenants = start.tenant..<max(state.tenants.count, start.tenant)
            if let tenantId {
                guard let i = state.tenants.index(forKey: tenantId) else { return }
                tenants = tenants.clamped(to: i..<(i + 1))
            }
            for t in tenants {
                let tenant = state.tenants.values[t]
                guard access.inScope(tenant), let ids = state.domainsByTenant[tenant.id] else { continue }
                for d in (t == start.tenant ? start.domain : 0)..<max(ids.count, t == start.tenant ? start.domain : 0) {
                    guard let domain = state.domains[ids[d]], access.canSee(domain, of: tenant) else { continue }
                    if !visit(t, tenant, d, domain) { return }
                }
            }
        case .past(let past):
            for t in start.tenant..<max(past.tenants.count, start.tenant) {
                let tenant = past.tenants[t]
                guard access.inScope(tenant), tenantId == nil || tenant.id == tenantId else { continue }
                var d = past.firstDomain[t]
                var ordinal = 0
                while d >= 0 {
                    if t != start.tenant || ordinal >= start.domain {
                        let domain = past.domains[d]
                        if access.canSee(domain, of: tenant), !visit(t, tenant, ordinal, domain) { return }
                    }
                    d = past.nextDomain[d]
                    ordinal += 1
                }
            }
        }
    }
}

extension BillingStatement {
    /// One page of the statement (a request with `limit` or `cursor`), after `resume`'s position.
    func page(after resume: StatementCursor?, in tx: Transaction, current: Bool) throws(PortalError) -> Response {
        let seq = tx.state.events.last?.seq ?? 0
        let access = tx.access
        if let resume {
            guard resume.seq <= seq else {
                throw PortalError(
                    .invalidArgument,
                    "cursor was computed at seq \(resume.seq), after this server's latest (\(seq)): it comes from another store; start again without a cursor"
                )
            }
            guard resume.current == current else {
                throw PortalError(
                    .conflict,
                    "the month \(month) \(current ? "became the current one" : "ended") between pages, so its statement is now computed otherwise: start again without a cursor"
                )
            }
        }
        let source: StatementSource
        let prices: PriceList
        if current {
            if let resume, let event = Self.firstEvent(after: resume.seq, in: tx.state, where: { covers($0, tx) }) {
                throw PortalError(
                    .conflict,
                    "the statement changed after the previous page (event \(event.seq), \(event.action), changed a tenant or domain it covers): start again without a cursor"
                )
            }
            source = .current(tx.state)
            prices = tx.catalog.priceList
        } else {
            let end = tx.calendar.start(of: month.last.adding(days: 1))
            if let resume, let event = Self.firstEvent(after: resume.seq, in: tx.state, where: { $0.at < end }) {
                throw PortalError(
                    .conflict,
                    "the history of \(month) changed after the previous page (event \(event.seq) is dated before the month's end): start again without a cursor"
                )
            }
            let past = PastEntities(tx.state.events, before: end)
            source = .past(past)
            prices = past.prices ?? tx.catalog.priceList
        }
        let pricesDigest = StatementCursor.digest(of: prices)
        if let resume, resume.prices != pricesDigest {
            throw PortalError(
                .conflict,
                "the prices of \(month) changed after the previous page (or this server has another catalog than the one that gave it): start again without a cursor"
            )
        }
        let limit = self.limit ?? Self.defaultLimit
        let start = resume?.position ?? .start
        var builder = StatementBuilder(month: month, prices: prices)
        var next: StatementPosition?
        source.walk(from: start, access: access, tenantId: tenantId) { t, tenant, d, domain in
            let before = builder.lines.count
            builder.add(domain, of: tenant)
            var given = 0
            if t == start.tenant, d == start.domain, start.line > 0 {
                given = min(start.line, builder.lines.count - before)
                builder.dropLines(from: before, count: given)
            }
            guard builder.lines.count > limit else { return true }
            // The line after the page is this domain's line number `given + limit - before`.
            next = StatementPosition(tenant: t, domain: d, line: given + limit - before)
            return false
        }
        let lines = Array(builder.lines.prefix(limit))
        var totals: [CurrencyTotal]?
        if next == nil {
            var sums = StatementBuilder(month: month, prices: prices)
            sums.keepsLines = false
            source.walk(from: .start, access: access, tenantId: tenantId) { _, tenant, _, domain in
                sums.add(domain, of: tenant)
                return true
            }
            totals = sums.totals
        }
        let statement = StatementCursor.statement(of: self, by: tx.actor)
        return Response(
            month: month, lines: lines, totals: totals,
            csv: format == .csv ? Self.csv(lines, header: resume == nil) : nil,
            nextCursor: next.map {
                StatementCursor(current: current, seq: seq, position: $0, prices: pricesDigest).text(
                    statement: statement)
            },
            isPage: true)
    }

    /// Whether a record saves a tenant or domain of this current-month statement.
    private func covers(_ record: EventRecord, _ tx: Transaction) -> Bool {
        let access = tx.access
        return record.changes.contains { change in
            let tenant: Tenant?
            switch change {
            case .tenantSaved(let t): tenant = t
            case .domainSaved(let d): tenant = tx.state.tenants[d.tenantId]
            case .pricesRecorded: return true
            default: tenant = nil
            }
            guard let tenant else { return false }
            return access.inScope(tenant) && (tenantId == nil || tenant.id == tenantId)
        }
    }

    /// The first event recorded after `seq` that `matches`.
    static func firstEvent(after seq: Int, in state: PortalState, where matches: (EventRecord) -> Bool)
        -> EventRecord?
    {
        let events = state.events
        // The history runs from seq 1 without gaps, so seq n is at index n - 1 (checked, not assumed).
        var i = min(seq, events.count)
        while i > 0, events[i - 1].seq > seq { i -= 1 }
        while i < events.count, events[i].seq <= seq { i += 1 }
        return events[i...].first(where: matches)
    }
}
