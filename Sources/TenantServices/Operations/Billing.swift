import Foundation
import OrderedCollections

/// A calendar month, `YYYY-MM`.
public struct Month: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let y = Int(parts[0]), let m = Int(parts[1]),
            (1...12).contains(m)
        else { return nil }
        year = y
        month = m
    }

    init(_ date: CivilDate) {
        year = date.year
        month = date.month
    }

    public var description: String {
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + (month < 10 ? "-0" : "-") + String(month)
    }
    public var first: CivilDate { CivilDate(year: year, month: month, day: 1) }
    public var last: CivilDate { first.endOfMonth }

    public static func < (a: Month, b: Month) -> Bool { (a.year, a.month) < (b.year, b.month) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let month = Month(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a month YYYY-MM"))
        }
        self = month
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

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

/// The usage statement of a month (SPEC §5), as JSON lines and optionally CSV.
public struct BillingStatement: PortalRequest, Executable, Equatable {
    public static let method = "billing.statement"
    static let isMutating = false

    /// The output formats.
    public enum Format: String, Codable, Sendable { case json, csv }

    public var month: Month
    public var tenantId: String?
    public var format: Format?

    public init(month: Month, tenantId: String? = nil, format: Format? = nil) {
        self.month = month
        self.tenantId = tenantId
        self.format = format
    }

    /// The statement: lines, totals per currency, and the CSV text for format `csv`.
    public struct Response: Codable, Sendable, Equatable {
        public var month: Month
        public var lines: [StatementLine]
        public var totals: [CurrencyTotal]
        public var csv: String?

        private enum CodingKeys: String, CodingKey { case month, lines, totals, csv }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(month, forKey: .month)
            try c.encode(lines, forKey: .lines)
            try c.encode(totals, forKey: .totals)
            if let csv { try c.encode(csv, forKey: .csv) }
        }
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> any Sendable {
        if let tenantId { _ = try tx.tenant(tenantId) }
        try tx.require(.seePrices)
        let current = Month(tx.today)
        guard month <= current else {
            throw PortalError(
                .dateRule, "the month \(month) has not begun; the latest month with a statement is \(current)",
                details: .init(latest: current.description))
        }
        // A past month is priced from the state and the prices recorded in force at its end, which
        // later events (and a later catalog) cannot change; the current month from the catalog in force.
        let state: PortalState
        let prices: PriceList
        if month == current {
            state = tx.state
            prices = tx.catalog.priceList
        } else {
            let end = tx.calendar.start(of: month.last.adding(days: 1))
            state = tx.state.asOf(end)
            prices = state.prices ?? tx.catalog.priceList
        }
        let lines = Self.lines(month: month, state: state, prices: prices, access: tx.access, tenantId: tenantId)
        var totals: OrderedDictionary<String, Int> = [:]
        for line in lines { totals[line.currency, default: 0] += line.total }
        return Response(
            month: month, lines: lines,
            totals: totals.sorted { $0.key < $1.key }.map { CurrencyTotal(currency: $0.key, total: $0.value) },
            csv: format == .csv ? Self.csv(lines) : nil)
    }

    static func lines(month: Month, state: PortalState, prices: PriceList, access: Access, tenantId: String?)
        -> [StatementLine]
    {
        var lines: [StatementLine] = []
        for tenant in state.tenants.values where access.inScope(tenant) && (tenantId == nil || tenant.id == tenantId) {
            for domain in state.domains(ofTenant: tenant.id) where access.canSee(domain, of: tenant) {
                lines += Self.lines(month: month, domain: domain, tenant: tenant, prices: prices)
            }
        }
        return lines
    }

    /// The chargeable lines of one domain: services billed on at least one day of the month.
    static func lines(month: Month, domain: Domain, tenant: Tenant, prices: PriceList) -> [StatementLine] {
        func chargeable(_ s: BookedService) -> Bool {
            guard let start = s.billingStart, start <= month.last else { return false }
            return s.endDate.map { $0 >= month.first } ?? true
        }
        // Per code, the latest chargeable booking decides the discount.
        var byCode: [String: BookedService] = [:]
        for s in domain.services where chargeable(s) {
            if let other = byCode[s.code], other.number > s.number { continue }
            byCode[s.code] = s
        }
        var discountOf = byCode.mapValues(\.discount)
        // SC-SIGENC domains pay sign-only users at the SC-SIGONLY price with SC-SIGENC's discount.
        let active = domain.users.filter(\.active)
        let signOnlyUsers = active.count { $0.protection == .signOnly }
        if signOnlyUsers > 0,
            let sigenc = domain.services.filter({ $0.code == "SC-SIGENC" && $0.provisionedAt != nil })
                .max(by: { $0.number < $1.number }),
            // provisioned before the statement's as-of instant, since the state is taken then
            sigenc.endDate.map({ $0 >= month.first }) ?? true,
            prices["SC-SIGONLY"] != nil
        {
            if let booked = byCode["SC-SIGONLY"] {
                if sigenc.number > booked.number { discountOf["SC-SIGONLY"] = sigenc.discount }
            } else {
                discountOf["SC-SIGONLY"] = sigenc.discount
                byCode["SC-SIGONLY"] = sigenc
            }
        }
        var lines: [StatementLine] = []
        for entry in prices.services where byCode[entry.code] != nil {
            let quantity = active.count(where: entry.counts.includes)
            guard quantity > 0 else { continue }
            let price = entry.prices[tenant.currency] ?? 0
            let discount = discountOf[entry.code] ?? nil
            lines.append(
                StatementLine(
                    month: month, tenantId: tenant.id, tenantName: tenant.name, domainId: domain.id,
                    domain: domain.name,
                    service: entry.code, quantity: quantity, unitPrice: price, currency: tenant.currency,
                    discount: discount.map(\.view),
                    total: Self.total(quantity: quantity, unitPrice: price, discount: discount)))
        }
        return lines
    }

    /// quantity × price × (100 − discount)/100, rounded half-up to the minor unit, in integers.
    static func total(quantity: Int, unitPrice: Int, discount: Discount?) -> Int {
        let gross = quantity * unitPrice * (10_000 - (discount?.basisPoints ?? 0))
        return (gross + 5_000) / 10_000
    }

    static let csvHeader =
        "month,tenantId,tenantName,domainId,domain,service,quantity,unitPrice,currency,discountPercent,discountReason,total"

    /// RFC 4180 text: CRLF line ends, a header row, fields quoted when they hold a comma, quote or line break.
    static func csv(_ lines: [StatementLine]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(lines.count * 120)
        func field(_ text: String) {
            let bytes = text.utf8
            guard bytes.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
                out.append(contentsOf: bytes)
                return
            }
            out.append(0x22)
            for b in bytes {
                out.append(b)
                if b == 0x22 { out.append(0x22) }
            }
            out.append(0x22)
        }
        /// Minor units as major units with two decimals (also hundredths of a percent).
        func decimal(_ minor: Int) {
            out.append(contentsOf: String(minor / 100).utf8)
            out.append(0x2E)
            out.append(UInt8(48 + (minor % 100) / 10))
            out.append(UInt8(48 + minor % 10))
        }
        out.append(contentsOf: csvHeader.utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        let month = lines.first?.month.description ?? ""
        for l in lines {
            for text in [month, l.tenantId, l.tenantName, l.domainId, l.domain, l.service, String(l.quantity)] {
                field(text)
                out.append(0x2C)
            }
            decimal(l.unitPrice)
            out.append(0x2C)
            field(l.currency)
            out.append(0x2C)
            decimal(Int((l.discount?.percent ?? 0) * 100 + 0.5))
            out.append(0x2C)
            field(l.discount?.reason?.rawValue ?? "")
            out.append(0x2C)
            decimal(l.total)
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Discount {
    var view: DiscountView { DiscountView(percent: Double(basisPoints) / 100, reason: reason, label: label) }
}

extension PortalState {
    /// The tenants, domains and prices as they were at an instant (what statements need), from
    /// every change recorded before it; the audit log and other entities are not rebuilt. Before
    /// the first recorded prices (a history written before prices were recorded), the first
    /// recorded ones stand in, so the month never changes afterwards.
    func asOf(_ instant: Date) -> PortalState {
        var past = PortalState()
        var tenants: [String: Tenant] = [:]
        var domains: [String: Domain] = [:]
        var tenantOrder: [String] = []
        var domainOrder: [String] = []
        var firstPrices: PriceList?
        for record in events {
            guard record.at < instant else {
                if firstPrices == nil, past.prices == nil {
                    for case .pricesRecorded(let list) in record.changes { firstPrices = list }
                }
                continue
            }
            for change in record.changes {
                switch change {
                case .pricesRecorded(let list):
                    past.prices = list
                case .tenantSaved(let t):
                    if tenants.updateValue(t, forKey: t.id) == nil { tenantOrder.append(t.id) }
                case .domainSaved(let d):
                    if domains.updateValue(d, forKey: d.id) == nil { domainOrder.append(d.id) }
                default:
                    continue
                }
            }
        }
        past.prices = past.prices ?? firstPrices
        past.tenants = OrderedDictionary(uniqueKeysWithValues: tenantOrder.map { ($0, tenants[$0]!) })
        past.domains = OrderedDictionary(uniqueKeysWithValues: domainOrder.map { ($0, domains[$0]!) })
        for id in domainOrder { past.domainsByTenant[domains[id]!.tenantId, default: []].append(id) }
        return past
    }
}
