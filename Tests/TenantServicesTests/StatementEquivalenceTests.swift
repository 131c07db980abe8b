import Foundation
import PropertyBased
import Testing

@testable import TenantServices

/// The statement's single-pass builder, its past-month rebuild and its CSV writer (issue 17) give
/// exactly what the straightforward implementation they replaced gave, on generated histories.
@Suite struct StatementEquivalenceTests {
    /// Same lines, totals and CSV as the reference for every month, actor, tenant filter and format.
    @Test func theFastStatementEqualsTheReferenceOnGeneratedHistories() async {
        await propertyCheck(count: 80, input: Gen.int(in: 0...1_000_000_000)) { seed in
            var random = SplitMix(seed: UInt64(seed))
            let world = GeneratedHistory(&random)
            let calendar = BusinessCalendar()
            let actors = [
                Principal.platformOperator(),
                Principal(id: "pa", kind: .partnerAdmin, partnerId: "P1", roles: [.Sales]),
                Principal(id: "ta", kind: .partnerAdmin, partnerId: "P2", roles: [.ALL]),
            ]
            for actor in actors {
                for month in ["2026-09", "2026-10", "2026-11"] {
                    for tenantId in [nil, "T1", "T2"] {
                        for format in [nil, BillingStatement.Format.csv] {
                            let request = BillingStatement(month: Month(month)!, tenantId: tenantId, format: format)
                            var tx = Transaction(
                                state: world.state, actor: actor, now: world.now, calendar: calendar,
                                catalog: world.catalog)
                            let fast = try? request.execute(in: &tx)
                            let reference = ReferenceStatement.response(request, in: tx)
                            #expect(fast == reference, "seed \(seed), \(actor.id), \(month), \(tenantId ?? "all")")
                        }
                    }
                }
            }
        }
    }

    /// The generated histories reach the cases that matter (lines, discounts, the automatic line).
    @Test func generatedHistoriesHaveLinesDiscountsAndSignOnlyLines() {
        var random = SplitMix(seed: 7)
        var lines: [StatementLine] = []
        for _ in 0..<20 {
            let world = GeneratedHistory(&random)
            let tx = Transaction(
                state: world.state, actor: .platformOperator(), now: world.now, calendar: BusinessCalendar(),
                catalog: world.catalog)
            lines += ReferenceStatement.response(BillingStatement(month: Month("2026-11")!), in: tx)?.lines ?? []
        }
        #expect(lines.count > 40)
        #expect(lines.contains { $0.discount != nil })
        #expect(lines.contains { $0.service == "SC-SIGONLY" })
        #expect(lines.contains { $0.tenantName.contains(",") || $0.tenantName.contains("\"") })
    }
}

/// A small seeded generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}

/// A history of saved tenants and domains at instants around October and November 2026 (not
/// always in order), with recorded prices that may differ from the catalog.
struct GeneratedHistory {
    var state = PortalState()
    let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
    let catalog = Catalog.standard

    init(_ random: inout SplitMix) {
        let codes = ["SC-SERVICE", "SC-F-INBOUND", "SC-MS365", "SC-F-OUTBOUND", "SC-SIGONLY", "SC-SIGENC", "SC-CERT"]
        let dates = ["2026-08-31", "2026-09-30", "2026-10-01", "2026-10-15", "2026-10-31", "2026-11-01", "2026-11-18"]
            .map { CivilDate($0)! }
        let discounts: [Discount?] = [
            nil, Discount(basisPoints: 1000, reason: .volume), Discount(basisPoints: 1250, reason: .nfr),
            Discount(basisPoints: 333, reason: nil), Discount(basisPoints: 10000, reason: .test),
        ]
        let start = Date(timeIntervalSince1970: 1_788_000_000)  // 2026-08-29
        func at(_ random: inout SplitMix) -> Date { start.addingTimeInterval(Double(random.int(0...7_000_000))) }
        var seq = 0
        func record(_ change: Change, at date: Date) {
            seq += 1
            state.apply(
                EventRecord(
                    seq: seq, at: date, actor: PrincipalReference(id: "ops", kind: .operator), action: "gen",
                    target: "",
                    summary: "", partnerId: nil, tenantId: nil, domainId: nil, changes: [change]))
        }
        func priceList(_ random: inout SplitMix) -> PriceList {
            var entries = catalog.priceList.services.filter { _ in random.chance(85) }
            if random.chance(30), let first = entries.first { entries.append(first) }
            if random.chance(30) { entries.shuffle(using: &random) }
            for i in entries.indices {
                entries[i].prices = entries[i].prices.mapValues { $0 + random.int(0...3) * 5 }
                if random.chance(10) { entries[i].prices["EUR"] = nil }
                if random.chance(10) {
                    entries[i].counts = random.pick([.allActive, .signOnly, .signEncrypt, .signing])
                }
            }
            return PriceList(services: entries)
        }
        let tenants = random.int(1...5)
        let domains = random.int(0...10)
        var clock = at(&random)
        for _ in 0..<random.int(5...40) {
            // Mostly forward in time, sometimes back (a test clock may be set back).
            clock = random.chance(85) ? clock.addingTimeInterval(Double(random.int(0...900_000))) : at(&random)
            switch random.int(0...9) {
            case 0:
                record(.pricesRecorded(priceList(&random)), at: clock)
            case 1...3:
                let t = random.int(1...tenants)
                let names = ["Tenant \(t)", "Muster, \"Die\" AG", "Zeile\r\nzwei", "Ümlaut GmbH"]
                record(
                    .tenantSaved(
                        Tenant(
                            id: "T\(t)", partnerId: "P\(t % 2 + 1)", name: random.pick(names), contact: nil,
                            address: Address(
                                street: "S", postalCode: "1", city: "C", country: random.pick(["CH", "DE", "li", "AT"])),
                            invoiceReference: nil, source: .portal, externalId: nil, products: [], version: 1,
                            createdAt: start)), at: clock)
            default:
                guard domains > 0 else { continue }
                let d = random.int(1...domains)
                var services: [BookedService] = []
                for number in 1...random.int(1...6) {
                    let provisioned = random.chance(80)
                    services.append(
                        BookedService(
                            number: random.chance(25) ? 1 : number, code: random.pick(codes + ["SC-HIN", "SC-X"]),
                            status: provisioned ? .provisioned : .ordered, orderedAt: start, confirmedAt: nil,
                            provisionedAt: provisioned ? start : nil,
                            billingStart: provisioned && random.chance(85) ? random.pick(dates) : nil,
                            endDate: random.chance(30) ? random.pick(dates) : nil, discount: random.pick(discounts)))
                }
                let users = (0..<random.int(0...7)).map {
                    User(
                        address: "u\($0)@d\(d).ch", protection: random.pick(Protection.allCases),
                        active: random.chance(80))
                }
                record(
                    .domainSaved(
                        Domain(
                            id: "D\(d)", tenantId: "T\(random.chance(5) ? tenants + 1 : d % tenants + 1)",
                            name: random.chance(10) ? "a,b.ch" : "d\(d).ch", region: random.pick(Region.allCases),
                            lastMode: .inline,
                            confidential: random.chance(20), access: [], services: services,
                            nextServiceNumber: services.count + 1, users: users, version: 1, createdAt: start)),
                    at: clock)
            }
        }
    }
}

extension SplitMix: RandomNumberGenerator {}

/// The statement as computed before issue 17 (a dictionary per domain, the whole past state
/// rebuilt, totals from the lines), kept as the oracle of the equivalence test.
enum ReferenceStatement {
    static func response(_ request: BillingStatement, in tx: Transaction) -> BillingStatement.Response? {
        if let tenantId = request.tenantId, (try? tx.tenant(tenantId)) == nil { return nil }
        guard (try? tx.require(.seePrices)) != nil else { return nil }
        let current = Month(tx.today)
        guard request.month <= current else { return nil }
        let month = request.month
        let state: PortalState
        let prices: PriceList
        if month == current {
            state = tx.state
            prices = tx.catalog.priceList
        } else {
            state = asOf(tx.state, tx.calendar.start(of: month.last.adding(days: 1)))
            prices = state.prices ?? tx.catalog.priceList
        }
        var lines: [StatementLine] = []
        for (_, tenant) in Array(state.tenants)
        where tx.access.inScope(tenant) && (request.tenantId == nil || tenant.id == request.tenantId) {
            for domain in state.domains(ofTenant: tenant.id) where tx.access.canSee(domain, of: tenant) {
                lines += Self.lines(month: month, domain: domain, tenant: tenant, prices: prices)
            }
        }
        var totals: [String: Int] = [:]
        for line in lines { totals[line.currency, default: 0] += line.total }
        return BillingStatement.Response(
            month: month, lines: lines,
            totals: totals.sorted { $0.key < $1.key }.map { CurrencyTotal(currency: $0.key, total: $0.value) },
            csv: request.format == .csv ? csv(lines) : nil)
    }

    static func lines(month: Month, domain: Domain, tenant: Tenant, prices: PriceList) -> [StatementLine] {
        func chargeable(_ s: BookedService) -> Bool {
            guard let start = s.billingStart, start <= month.last else { return false }
            return s.endDate.map { $0 >= month.first } ?? true
        }
        var byCode: [String: BookedService] = [:]
        for s in domain.services where chargeable(s) {
            if let other = byCode[s.code], other.number > s.number { continue }
            byCode[s.code] = s
        }
        var discountOf = byCode.mapValues(\.discount)
        let active = domain.users.filter(\.active)
        let signOnlyUsers = active.count { $0.protection == .signOnly }
        if signOnlyUsers > 0,
            let sigenc = domain.services.filter({ $0.code == "SC-SIGENC" && $0.provisionedAt != nil })
                .max(by: { $0.number < $1.number }),
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
            // In the currency of the region the domain's services ran in, whatever the tenant's is now.
            let currency = domain.region.currency
            let price = entry.prices[currency] ?? 0
            let discount = discountOf[entry.code] ?? nil
            lines.append(
                StatementLine(
                    month: month, tenantId: tenant.id, tenantName: tenant.name, domainId: domain.id,
                    domain: domain.name, service: entry.code, quantity: quantity, unitPrice: price,
                    currency: currency, discount: discount.map(\.view),
                    total: BillingStatement.total(quantity: quantity, unitPrice: price, discount: discount)))
        }
        return lines
    }

    static func csv(_ lines: [StatementLine]) -> String {
        var out: [UInt8] = []
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
        func decimal(_ minor: Int) {
            out.append(contentsOf: String(minor / 100).utf8)
            out.append(0x2E)
            out.append(UInt8(48 + (minor % 100) / 10))
            out.append(UInt8(48 + minor % 10))
        }
        out.append(contentsOf: BillingStatement.csvHeader.utf8)
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

    static func asOf(_ state: PortalState, _ instant: Date) -> PortalState {
        var past = PortalState()
        var tenants: [String: Tenant] = [:]
        var domains: [String: Domain] = [:]
        var tenantOrder: [String] = []
        var domainOrder: [String] = []
        var firstPrices: PriceList?
        for record in state.events {
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
        // Applied in first-saved order with the last values: the order and grouping the old code built.
        for id in tenantOrder { past.apply(.tenantSaved(tenants[id]!)) }
        for id in domainOrder { past.apply(.domainSaved(domains[id]!)) }
        return past
    }
}
