import Foundation
import OrderedCollections

/// One line of a usage statement: a tenant × domain × service for a month.
public struct StatementLine: Codable, Sendable, Equatable {
    public var month: Month
    public var tenantId: String
    public var tenantName: String
    public var domainId: String
    public var domain: String
    public var service: String
    public var quantity: Int
    /// Price per counted user and month, in minor units.
    public var unitPrice: Int
    public var currency: String
    public var discount: DiscountView?
    /// quantity × unitPrice × (100 − discount) / 100, rounded half-up to the minor unit.
    public var total: Int
}

/// The sum of a statement's lines in one currency.
public struct CurrencyTotal: Codable, Sendable, Equatable {
    public var currency: String
    public var total: Int
}

/// The usage statement of a month, as JSON lines and optionally CSV: one line per tenant, domain
/// and service live in the month, priced with the prices in force at the month's end.
public struct BillingStatement: PortalRequest, Executable, Equatable {
    public static let method = "billing.statement"
    static let isMutating = false

    /// The output formats.
    public enum Format: String, Codable, Sendable { case json, csv }

    public var month: Month
    public var tenantId: String?
    public var format: Format?
    /// Asks for one page of at most this many lines (1…``maximumLimit``); see ``cursor``.
    public var limit: Int?
    /// The `nextCursor` of the previous page: asks for the page after it.
    ///
    /// A request with `limit` or `cursor` is paged: each page holds the next lines in the
    /// unpaged statement's order and `nextCursor` (nil on the last page); `totals` (of the whole
    /// statement) are on the last page only; for format `csv`, each page's `csv` holds its own
    /// rows and the first page also the header row, so the pages' texts in order make the
    /// unpaged text. A cursor belongs to its statement (actor, month, tenant filter, format);
    /// another's, or an altered one, is `invalid-params`. When a tenant or domain the statement
    /// covers was saved after the first page (or, for a past month, anything before the
    /// month's end was recorded), the next page is `conflict`: start again without a cursor.
    public var cursor: String?

    /// The page size of a paged request without `limit`.
    public static let defaultLimit = 1_000
    /// The largest `limit`.
    public static let maximumLimit = 10_000

    public init(
        month: Month, tenantId: String? = nil, format: Format? = nil, limit: Int? = nil, cursor: String? = nil
    ) {
        self.month = month
        self.tenantId = tenantId
        self.format = format
        self.limit = limit
        self.cursor = cursor
    }

    /// The statement (or one page of it): lines, totals per currency, and the CSV text for format `csv`.
    public struct Response: Codable, Sendable, Equatable {
        public var month: Month
        public var lines: [StatementLine]
        /// The totals of the whole statement; nil on a page before the last.
        public var totals: [CurrencyTotal]?
        public var csv: String?
        /// For a page: the cursor of the next one, nil on the last page.
        public var nextCursor: String? = nil
        /// Whether this is a page of a paged request (then `nextCursor` is sent, null on the last page).
        public var isPage = false

        private enum CodingKeys: String, CodingKey { case month, lines, totals, csv, nextCursor }

        init(
            month: Month, lines: [StatementLine], totals: [CurrencyTotal]?, csv: String?, nextCursor: String? = nil,
            isPage: Bool = false
        ) {
            self.month = month
            self.lines = lines
            self.totals = totals
            self.csv = csv
            self.nextCursor = nextCursor
            self.isPage = isPage
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            month = try c.decode(Month.self, forKey: .month)
            lines = try c.decode([StatementLine].self, forKey: .lines)
            totals = try c.decodeIfPresent([CurrencyTotal].self, forKey: .totals)
            csv = try c.decodeIfPresent(String.self, forKey: .csv)
            isPage = c.contains(.nextCursor)
            nextCursor = try c.decodeIfPresent(String.self, forKey: .nextCursor)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(month, forKey: .month)
            try c.encode(lines, forKey: .lines)
            if let totals { try c.encode(totals, forKey: .totals) }
            if let csv { try c.encode(csv, forKey: .csv) }
            if isPage {
                if let nextCursor {
                    try c.encode(nextCursor, forKey: .nextCursor)
                } else {
                    try c.encodeNil(forKey: .nextCursor)
                }
            }
        }
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        // A cursor is a parameter: checked before anything else.
        let resume = try cursor.map { text throws(PortalError) in try StatementCursor(text, of: self, by: tx.actor) }
        if let limit, !(1...Self.maximumLimit).contains(limit) {
            throw PortalError(.invalidArgument, "limit must be between 1 and \(Self.maximumLimit), not \(limit)")
        }
        if let tenantId { _ = try tx.tenant(tenantId) }
        try tx.require(.seePrices)
        guard month >= Month(CivilDate.earliest) else {
            throw PortalError(
                .dateRule,
                "the month \(month) lies before \(CivilDate.earliest), the first date the portal handles; the earliest month with a statement is \(Month(CivilDate.earliest))",
                details: .init(earliest: CivilDate.earliest))
        }
        let current = Month(tx.today)
        guard month <= current else {
            throw PortalError(
                .dateRule, "the month \(month) has not begun; the latest month with a statement is \(current)",
                details: .init(latest: current.description))
        }
        if limit != nil || cursor != nil { return try page(after: resume, in: tx, current: month == current) }
        // A past month is priced from the state and the prices recorded in force at its end, which
        // later events (and a later catalog) cannot change; the current month from the catalog in force.
        let builder: StatementBuilder
        if month == current {
            builder = Self.statement(
                month, of: tx.state, prices: tx.catalog.priceList, access: tx.access, tenantId: tenantId)
        } else {
            let end = tx.calendar.start(of: month.last.adding(days: 1))
            builder = Self.statement(
                month, of: PastEntities(tx.state.events, before: end), catalog: tx.catalog.priceList,
                access: tx.access, tenantId: tenantId)
        }
        let lines = builder.lines
        return Response(
            month: month, lines: lines, totals: builder.totals, csv: format == .csv ? Self.csv(lines) : nil)
    }

    /// The lines of the current month: from the state, priced from the catalog in force.
    static func statement(_ month: Month, of state: PortalState, prices: PriceList, access: Access, tenantId: String?)
        -> StatementBuilder
    {
        var builder = StatementBuilder(month: month, prices: prices)
        let tenants = tenantId.map { id in state.tenants[id].map { [$0] } ?? [] } ?? state.tenants.values.elements
        var bound = 0
        for tenant in tenants where access.inScope(tenant) {
            for id in state.domainsByTenant[tenant.id] ?? [] { bound += (state.domains[id]?.services.count ?? 0) + 1 }
        }
        builder.reserveLines(bound)
        for tenant in tenants where access.inScope(tenant) {
            for id in state.domainsByTenant[tenant.id] ?? [] {
                guard let domain = state.domains[id], access.canSee(domain, of: tenant) else { continue }
                builder.add(domain, of: tenant)
            }
        }
        return builder
    }

    /// The lines of a past month: from the entities as they were at its end, priced from the
    /// prices recorded in force then (the catalog's when none were ever recorded).
    static func statement(
        _ month: Month, of past: PastEntities, catalog: PriceList, access: Access, tenantId: String?
    ) -> StatementBuilder {
        var builder = StatementBuilder(month: month, prices: past.prices ?? catalog)
        var bound = 0
        for (t, tenant) in past.tenants.enumerated()
        where access.inScope(tenant) && (tenantId == nil || tenant.id == tenantId) {
            var d = past.firstDomain[t]
            while d >= 0 {
                bound += past.domains[d].services.count + 1
                d = past.nextDomain[d]
            }
        }
        builder.reserveLines(bound)
        for (t, tenant) in past.tenants.enumerated()
        where access.inScope(tenant) && (tenantId == nil || tenant.id == tenantId) {
            var d = past.firstDomain[t]
            while d >= 0 {
                let domain = past.domains[d]
                if access.canSee(domain, of: tenant) { builder.add(domain, of: tenant) }
                d = past.nextDomain[d]
            }
        }
        return builder
    }

    /// quantity × price × (100 − discount)/100, rounded half-up to the minor unit, in integers.
    static func total(quantity: Int, unitPrice: Int, discount: Discount?) -> Int {
        // In 128 bits: quantity × price × 10,000 leaves 64 bits long before the total does (10
        // million users at a catalog price of 10 million minor units would have trapped).
        let gross = Int128(quantity) * Int128(unitPrice) * Int128(10_000 - (discount?.basisPoints ?? 0))
        return Int((gross + 5_000) / 10_000)
    }

    static let csvHeader =
        "month,tenantId,tenantName,domainId,domain,service,quantity,unitPrice,currency,discountPercent,discountReason,total"

    /// RFC 4180 text: CRLF line ends, a header row, fields quoted when they hold a comma, quote or line break.
    static func csv(_ lines: [StatementLine], header: Bool = true) -> String {
        let month = lines.first?.month.description ?? ""
        // At most: every text byte doubled inside quotes, 20 digits per number, the separators.
        var bound = header ? csvHeader.utf8.count + 2 : 0
        for l in lines {
            bound += 2 * (month.utf8.count + l.tenantId.utf8.count + l.tenantName.utf8.count + l.domainId.utf8.count)
            bound += 2 * (l.domain.utf8.count + l.service.utf8.count + l.currency.utf8.count) + 14 + 5 * 24 + 16
        }
        return String(unsafeUninitializedCapacity: bound) { buffer in
            guard bound > 0 else { return 0 }
            var out = CSVOutput(buffer.baseAddress!)
            if header {
                out.text(csvHeader)
                out.byte(0x0D)
                out.byte(0x0A)
            }
            for l in lines {
                out.field(month)
                out.byte(0x2C)
                out.field(l.tenantId)
                out.byte(0x2C)
                out.field(l.tenantName)
                out.byte(0x2C)
                out.field(l.domainId)
                out.byte(0x2C)
                out.field(l.domain)
                out.byte(0x2C)
                out.field(l.service)
                out.byte(0x2C)
                out.integer(l.quantity)
                out.byte(0x2C)
                out.decimal(l.unitPrice)
                out.byte(0x2C)
                out.field(l.currency)
                out.byte(0x2C)
                out.decimal(Int((l.discount?.percent ?? 0) * 100 + 0.5))
                out.byte(0x2C)
                if let reason = l.discount?.reason { out.text(reason.rawValue) }
                out.byte(0x2C)
                out.decimal(l.total)
                out.byte(0x0D)
                out.byte(0x0A)
            }
            precondition(out.count <= bound, "the CSV bound is too small")
            return out.count
        }
    }
}

/// Writes CSV bytes into memory sized beforehand (no capacity check per byte).
private struct CSVOutput {
    let base: UnsafeMutablePointer<UInt8>
    var count = 0

    init(_ base: UnsafeMutablePointer<UInt8>) { self.base = base }

    mutating func byte(_ b: UInt8) {
        base[count] = b
        count += 1
    }

    /// Text as it is.
    mutating func text(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let start = bytes.baseAddress else { return }
            (base + count).update(from: start, count: bytes.count)
            count += bytes.count
        }
    }

    /// A field: quoted, with quotes doubled, when it holds a comma, quote or line break.
    mutating func field(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard !bytes.isEmpty else { return }
            guard bytes.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
                (base + count).update(from: bytes.baseAddress!, count: bytes.count)
                count += bytes.count
                return
            }
            byte(0x22)
            for b in bytes {
                byte(b)
                if b == 0x22 { byte(0x22) }
            }
            byte(0x22)
        }
    }

    /// A whole number in decimal digits.
    mutating func integer(_ n: Int) {
        guard n >= 0 else { return text(String(n)) }
        var divisor = 1
        while divisor <= n / 10 { divisor *= 10 }
        var rest = n
        while divisor > 0 {
            byte(UInt8(48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Minor units as major units with two decimals (also hundredths of a percent).
    mutating func decimal(_ minor: Int) {
        integer(minor / 100)
        byte(0x2E)
        byte(UInt8(48 + (minor % 100) / 10))
        byte(UInt8(48 + minor % 10))
    }
}

/// Builds a statement's lines and totals domain by domain, in one pass and without a
/// dictionary per domain: booked services are matched to the price list's codes by position,
/// users are counted once per domain, and discount labels and a tenant's prices are worked out
/// once per statement.
struct StatementBuilder {
    let month: Month
    let prices: PriceList
    /// The lines so far, in the order added (tenant, domain, price list order).
    private(set) var lines: [StatementLine] = []
    /// Whether lines are kept (else only their sums: the totals of a paged statement).
    var keepsLines = true
    /// The sum of the lines per currency, in the order the currencies first appeared.
    private var sums: [(currency: String, total: Int)] = []
    /// The distinct codes of the price list, in order; an entry's slot is its code's position here.
    private let codes: [String]
    private let slotOfEntry: [Int]
    /// The slot of SC-SIGONLY when the price list has it (the automatic sign-only line).
    private let signOnlySlot: Int?
    /// Per slot, for the domain being added: the index of the chosen booking in its services, or -1.
    private var chosen: [Int]
    /// Each currency's price per price list entry (missing prices are 0).
    private var pricesByCurrency: [(currency: String, prices: [Int])] = []
    /// Discounts already shown, with their view.
    private var views: [(discount: Discount, view: DiscountView)] = []
    /// The region and currency of the lines being added, that currency's prices and its sum's index.
    private var currency = ""
    private var region: Region?
    private var unitPrices: [Int] = []
    private var sumIndex = 0

    init(month: Month, prices: PriceList) {
        self.month = month
        self.prices = prices
        var codes: [String] = []
        var slotOfEntry: [Int] = []
        for entry in prices.services {
            if let slot = codes.firstIndex(of: entry.code) {
                slotOfEntry.append(slot)
            } else {
                slotOfEntry.append(codes.count)
                codes.append(entry.code)
            }
        }
        self.codes = codes
        self.slotOfEntry = slotOfEntry
        signOnlySlot = codes.firstIndex(of: "SC-SIGONLY")
        chosen = Array(repeating: -1, count: codes.count)
    }

    /// The totals per currency that has lines, by currency code.
    var totals: [CurrencyTotal] {
        sums.sorted { $0.currency < $1.currency }.map { CurrencyTotal(currency: $0.currency, total: $0.total) }
    }

    /// Prices the next lines in the currency of a region: the one a domain's services ran in.
    private mutating func use(_ region: Region) {
        guard region != self.region || unitPrices.count != prices.services.count else { return }
        self.region = region
        let currency = region.currency
        self.currency = currency
        if let known = pricesByCurrency.first(where: { $0.currency == currency }) {
            unitPrices = known.prices
        } else {
            unitPrices = prices.services.map { $0.prices[currency] ?? 0 }
            pricesByCurrency.append((currency, unitPrices))
        }
        sumIndex = sums.firstIndex { $0.currency == currency } ?? -1
    }

    /// Makes room for about `count` lines at once: growing a large array by doubling would hold
    /// the old and the new copy at the same time (a statement of a million lines: 200 MB more at
    /// its peak). A bound from above costs only address space, since untouched pages stay unused.
    mutating func reserveLines(_ count: Int) {
        lines.reserveCapacity(count)
    }

    /// Removes `count` lines from `start` on (the lines of a domain a previous page already gave).
    mutating func dropLines(from start: Int, count: Int) {
        lines.removeSubrange(start..<min(start + count, lines.count))
    }

    /// The slot of a code, looking first at `hint` (bookings mostly follow the price list's order).
    private func slot(of code: String, from hint: Int) -> Int? {
        var i = hint
        for _ in 0..<codes.count {
            if i == codes.count { i = 0 }
            if codes[i] == code { return i }
            i += 1
        }
        return nil
    }

    /// Adds the chargeable lines of one domain of a tenant: services billed on at least one day
    /// of the month; per code the latest chargeable booking decides the discount. They are priced
    /// in the currency of the domain's region, where its services ran: a tenant may move to the
    /// other region once its domains have ended, and that does not reprice what ran before.
    mutating func add(_ domain: Domain, of tenant: Tenant) {
        use(domain.region)
        let first = month.first
        let last = month.last
        let services = domain.services
        for slot in chosen.indices { chosen[slot] = -1 }
        var hint = 0
        for (i, s) in services.enumerated() {
            guard let start = s.billingStart, start <= last, s.endDate.map({ $0 >= first }) ?? true,
                let slot = slot(of: s.code, from: hint)
            else { continue }
            hint = slot + 1
            let other = chosen[slot]
            if other >= 0, services[other].number > s.number { continue }
            chosen[slot] = i
        }
        var active = 0
        var signOnly = 0
        var signEncrypt = 0
        for user in domain.users where user.active {
            active += 1
            switch user.protection {
            case .none: break
            case .signOnly: signOnly += 1
            case .signEncrypt: signEncrypt += 1
            }
        }
        // SC-SIGENC domains pay sign-only users at the SC-SIGONLY price with SC-SIGENC's discount.
        var signOnlyDiscount: Discount?? = nil
        if signOnly > 0, let signOnlySlot {
            var sigenc = -1
            for (i, s) in services.enumerated() where s.code == "SC-SIGENC" && s.provisionedAt != nil {
                if sigenc < 0 || services[sigenc].number < s.number { sigenc = i }
            }
            // provisioned before the statement's as-of instant, since the state is taken then
            if sigenc >= 0, services[sigenc].endDate.map({ $0 >= first }) ?? true {
                let booked = chosen[signOnlySlot]
                if booked < 0 {
                    chosen[signOnlySlot] = sigenc
                } else if services[sigenc].number > services[booked].number {
                    signOnlyDiscount = .some(services[sigenc].discount)
                }
            }
        }
        for (e, entry) in prices.services.enumerated() {
            let slot = slotOfEntry[e]
            let booking = chosen[slot]
            guard booking >= 0 else { continue }
            let quantity =
                switch entry.counts {
                case .allActive: active
                case .signOnly: signOnly
                case .signEncrypt: signEncrypt
                case .signing: signOnly + signEncrypt
                }
            guard quantity > 0 else { continue }
            let price = unitPrices[e]
            let discount =
                slot == signOnlySlot ? signOnlyDiscount ?? services[booking].discount : services[booking].discount
            let total = BillingStatement.total(quantity: quantity, unitPrice: price, discount: discount)
            if keepsLines {
                let shown = discount.map { view($0) }
                lines.append(
                    StatementLine(
                        month: month, tenantId: tenant.id, tenantName: tenant.name, domainId: domain.id,
                        domain: domain.name, service: entry.code, quantity: quantity, unitPrice: price,
                        currency: currency, discount: shown, total: total))
            }
            if sumIndex < 0 {
                sumIndex = sums.count
                sums.append((currency, 0))
            }
            sums[sumIndex].total += total
        }
    }

    /// A discount's view, worked out once per distinct discount of the statement.
    private mutating func view(_ discount: Discount) -> DiscountView {
        if let known = views.first(where: { $0.discount == discount }) { return known.view }
        let view = discount.view
        if views.count < 64 { views.append((discount, view)) }
        return view
    }
}

extension Discount {
    var view: DiscountView { DiscountView(percent: Double(basisPoints) / 100, reason: reason, label: label) }
}

/// The tenants and domains as they were at an instant, and the prices then in force (what a past
/// statement needs), from every change recorded before it; nothing else is rebuilt. Before the
/// first recorded prices (a history written before prices were recorded), the first recorded
/// ones stand in, so the month never changes afterwards.
struct PastEntities {
    /// Every tenant saved before the instant, as last saved then, in the order first saved.
    var tenants: [Tenant] = []
    /// Every domain saved before the instant, as last saved then, in the order first saved.
    var domains: [Domain] = []
    /// Per tenant, its first domain (an index into `domains`, -1 for none); per domain, the next
    /// domain of its tenant: the domains of a tenant in the order first saved.
    var firstDomain: [Int] = []
    var nextDomain: [Int] = []
    var prices: PriceList?

    init(_ events: [EventRecord], before instant: Date) {
        var tenantIndex: [String: Int] = [:]
        var domainIndex: [String: Int] = [:]
        var firstPrices: PriceList?
        for r in events.indices {
            guard events[r].at < instant else {
                if firstPrices == nil, prices == nil {
                    for case .pricesRecorded(let list) in events[r].changes { firstPrices = list }
                }
                continue
            }
            for change in events[r].changes {
                switch change {
                case .pricesRecorded(let list):
                    prices = list
                case .tenantSaved(let t):
                    if let i = tenantIndex[t.id] {
                        tenants[i] = t
                    } else {
                        tenantIndex[t.id] = tenants.count
                        tenants.append(t)
                    }
                case .domainSaved(let d):
                    if let i = domainIndex[d.id] {
                        domains[i] = d
                    } else {
                        domainIndex[d.id] = domains.count
                        domains.append(d)
                    }
                default:
                    continue
                }
            }
        }
        prices = prices ?? firstPrices
        firstDomain = Array(repeating: -1, count: tenants.count)
        nextDomain = Array(repeating: -1, count: domains.count)
        var lastDomain = firstDomain
        for (d, domain) in domains.enumerated() {
            guard let t = tenantIndex[domain.tenantId] else { continue }
            if lastDomain[t] < 0 { firstDomain[t] = d } else { nextDomain[lastDomain[t]] = d }
            lastDomain[t] = d
        }
    }
}
