import Foundation
import PropertyBased
import Testing

@testable import TenantServices

/// `billing.statement` with `limit`/`cursor` (issue 17): pages that join into the unpaged
/// statement, totals on the last page, cursors that belong to their statement, and writes
/// between pages.
@Suite struct StatementPagingTests {
    /// Executes a statement request on a state as `actor`.
    static func run(_ request: BillingStatement, on world: GeneratedHistory, as actor: Principal) throws(PortalError)
        -> BillingStatement.Response
    {
        var tx = Transaction(
            state: world.state, actor: actor, now: world.now, calendar: BusinessCalendar(), catalog: world.catalog)
        return try request.execute(in: &tx)
    }

    /// Every page of a statement, following `nextCursor` (at most `lines + 2` pages).
    static func pages(
        _ request: BillingStatement, limit: Int, maxPages: Int,
        _ perform: (BillingStatement) throws -> BillingStatement.Response
    ) throws -> [BillingStatement.Response] {
        var pages: [BillingStatement.Response] = []
        var request = request
        request.limit = limit
        while pages.count <= maxPages {
            let page = try perform(request)
            pages.append(page)
            guard let next = page.nextCursor else { break }
            request.cursor = next
        }
        return pages
    }

    /// The rule: the pages' lines (and CSV texts) joined in order are the unpaged statement's, byte
    /// for byte; every page but the last is full and has `nextCursor`; only the last has totals,
    /// the unpaged ones. Over generated histories, every actor, month, tenant filter and format,
    /// and random limits.
    @Test func pagesJoinIntoTheUnpagedStatement() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...1_000_000_000)) { seed in
            var random = SplitMix(seed: UInt64(seed))
            let world = GeneratedHistory(&random)
            let actors = [
                Principal.platformOperator(),
                Principal(id: "pa", kind: .partnerAdmin, partnerId: "P1", roles: [.Sales]),
                Principal(id: "ta", kind: .partnerAdmin, partnerId: "P2", roles: [.ALL]),
            ]
            for actor in actors {
                for month in ["2026-10", "2026-11"] {
                    for tenantId in [nil, "T1"] {
                        for format in [nil, BillingStatement.Format.csv] {
                            let request = BillingStatement(month: Month(month)!, tenantId: tenantId, format: format)
                            guard let whole = try? Self.run(request, on: world, as: actor) else { continue }
                            let limit =
                                random.chance(20) ? random.int(1...BillingStatement.maximumLimit) : random.int(1...7)
                            let context = "seed \(seed), \(actor.id), \(month), \(tenantId ?? "all"), limit \(limit)"
                            let pages = try Self.pages(request, limit: limit, maxPages: whole.lines.count + 1) {
                                try Self.run($0, on: world, as: actor)
                            }
                            #expect(pages.flatMap(\.lines) == whole.lines, "\(context)")
                            #expect(pages.count == max(1, (whole.lines.count + limit - 1) / limit), "\(context)")
                            #expect(pages.allSatisfy(\.isPage) && pages.allSatisfy { $0.month == whole.month })
                            #expect(pages.dropLast().allSatisfy { $0.lines.count == limit && $0.nextCursor != nil })
                            #expect(pages.dropLast().allSatisfy { $0.totals == nil }, "\(context)")
                            #expect(pages.last?.nextCursor == nil)
                            #expect(pages.last?.totals == whole.totals, "\(context)")
                            if format == .csv {
                                #expect(pages.map { $0.csv ?? "<none>" }.joined() == whole.csv, "\(context)")
                            } else {
                                #expect(pages.allSatisfy { $0.csv == nil })
                            }
                        }
                    }
                }
            }
        }
    }

    /// An unpaged reply stays as before: no `nextCursor` member, totals present.
    @Test func anUnpagedStatementHasNoCursorMember() throws {
        let d = try Deployed(on: "2026-11-18")
        let whole = try d.portal.perform(BillingStatement(month: Month("2026-11")!), as: d.admin)
        let json = String(decoding: try JSONEncoder().encode(whole), as: UTF8.self)
        #expect(!json.contains("nextCursor"))
        #expect(json.contains("\"totals\""))
        let page = try d.portal.perform(BillingStatement(month: Month("2026-11")!, limit: 2), as: d.admin)
        let pageJSON = String(decoding: try JSONEncoder().encode(page), as: UTF8.self)
        #expect(pageJSON.contains("\"nextCursor\":\"s2."))
        #expect(!pageJSON.contains("\"totals\""))
        #expect(try JSONDecoder().decode(BillingStatement.Response.self, from: Data(pageJSON.utf8)) == page)
    }

    /// The rule: a cursor that is not one, altered, or given for another actor, month, tenant or
    /// format is `invalid-params` with a message naming the case, and changes nothing; another
    /// partner's cursor never shows that partner's lines.
    @Test func aForeignOrAlteredCursorIsRefused() throws {
        let d = try Deployed(on: "2026-11-18")
        let month = Month("2026-11")!
        let first = try d.portal.perform(BillingStatement(month: month, limit: 2), as: d.admin)
        let cursor = try #require(first.nextCursor)
        let journal = d.portal.journal
        func refusal(_ request: BillingStatement, as actor: Principal) -> PortalError? {
            return #expect(throws: PortalError.self) { try d.portal.perform(request, as: actor) }
        }
        func expectRefused(_ request: BillingStatement, as actor: Principal? = nil, _ words: String) {
            let error = refusal(request, as: actor ?? d.admin)
            #expect(error?.code == .invalidArgument, "\(words)")
            #expect(error?.message.contains(words) == true, "\(error?.message ?? "no error"), expected \(words)")
        }
        expectRefused(BillingStatement(month: month, cursor: "T17"), "not a billing.statement cursor")
        var altered = Array(cursor)
        let i = altered.lastIndex(of: ".")! - 1  // the line number of the position
        altered[i] = altered[i] == "1" ? "2" : "1"
        expectRefused(BillingStatement(month: month, cursor: String(altered)), "altered or damaged")
        expectRefused(BillingStatement(month: month, cursor: cursor + "0"), "altered or damaged")
        // Another partner's admin with the same month: the cursor is not theirs.
        let partner2 = try d.portal.perform(PartnerCreate(name: "Q"), as: .platformOperator()).partner.id
        let other = Principal(id: "pa", kind: .partnerAdmin, partnerId: partner2, roles: [.ALL])
        let journalAfterPartner = d.portal.journal
        expectRefused(BillingStatement(month: month, cursor: cursor), as: other, "belongs to another statement")
        expectRefused(
            BillingStatement(month: month, cursor: cursor), as: .platformOperator(), "belongs to another statement")
        expectRefused(BillingStatement(month: month, format: .csv, cursor: cursor), "belongs to another statement")
        expectRefused(
            BillingStatement(month: month, tenantId: d.tenantId, cursor: cursor), "belongs to another statement")
        expectRefused(BillingStatement(month: Month("2026-10")!, cursor: cursor), "belongs to another statement")
        expectRefused(BillingStatement(month: month, limit: 0), "limit must be between 1 and 10000")
        expectRefused(BillingStatement(month: month, limit: 10_001), "limit must be between 1 and 10000")
        #expect(d.portal.journal.count == journalAfterPartner.count)
        #expect(journalAfterPartner.count > journal.count)
        // The same cursor still works for its own statement.
        let second = try d.portal.perform(BillingStatement(month: month, cursor: cursor), as: d.admin)
        let whole = try d.portal.perform(BillingStatement(month: month), as: d.admin)
        #expect(first.lines + second.lines == Array(whole.lines.prefix(first.lines.count + second.lines.count)))
    }

    /// The rule: a write to a tenant or domain the statement covers between two pages makes the
    /// next page `conflict` (start again); a write elsewhere does not disturb the pages, which
    /// still join into the statement; a past month is not disturbed by today's writes.
    @Test func aWriteBetweenPagesIsAConflictOnlyWhenItTouchesTheStatement() throws {
        let d = try Deployed(on: "2026-11-18")
        let month = Month("2026-11")!
        let whole = try d.portal.perform(BillingStatement(month: month), as: d.admin)
        #expect(whole.lines.count >= 4)
        let first = try d.portal.perform(BillingStatement(month: month, limit: 2), as: d.admin)
        // Another partner's tenant: not in this statement.
        let partner2 = try d.portal.perform(PartnerCreate(name: "Q"), as: .platformOperator()).partner.id
        let other = Principal(id: "qa", kind: .partnerAdmin, partnerId: partner2, roles: [.ALL])
        _ = try d.portal.perform(TenantCreate(name: "Q AG", contact: contact, address: zurich), as: other)
        var pages = [first]
        while let next = pages.last?.nextCursor {
            pages.append(try d.portal.perform(BillingStatement(month: month, limit: 2, cursor: next), as: d.admin))
        }
        #expect(pages.flatMap(\.lines) == whole.lines)
        #expect(pages.last?.totals == whole.totals)

        // A change to the statement's own domain between pages.
        let again = try d.portal.perform(BillingStatement(month: month, limit: 2), as: d.admin)
        _ = try d.portal.perform(
            UsersImport(domainId: d.domainId, users: [.init(address: "e@d.ch", protection: .none)]), as: d.admin)
        let journal = d.portal.journal
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(BillingStatement(month: month, limit: 2, cursor: again.nextCursor), as: d.admin)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("start again without a cursor") == true)
        #expect(d.portal.journal == journal)
        // The operator's statement covers every tenant, so the other partner's new tenant disturbs it.
        let operatorPage = try d.portal.perform(BillingStatement(month: month, limit: 1), as: .platformOperator())
        _ = try d.portal.perform(TenantCreate(name: "Q2 AG", contact: contact, address: zurich), as: other)
        #expect(throws: PortalError.self) {
            try d.portal.perform(
                BillingStatement(month: month, limit: 1, cursor: operatorPage.nextCursor), as: .platformOperator())
        }

        // A past month: today's writes never change it, so its pages go on.
        d.clock.set(BusinessCalendar().start(of: CivilDate("2026-12-10")!))
        let past = try d.portal.perform(BillingStatement(month: month), as: d.admin)
        let pastFirst = try d.portal.perform(BillingStatement(month: month, limit: 1), as: d.admin)
        _ = try d.portal.perform(
            UsersImport(domainId: d.domainId, users: [.init(address: "f@d.ch", protection: .none)]), as: d.admin)
        var pastPages = [pastFirst]
        while let next = pastPages.last?.nextCursor {
            pastPages.append(try d.portal.perform(BillingStatement(month: month, limit: 1, cursor: next), as: d.admin))
        }
        #expect(pastPages.flatMap(\.lines) == past.lines)
        #expect(pastPages.last?.totals == past.totals)
    }

    /// The rule: the pages of one statement are priced with one price list. A page continued on a
    /// server with another catalog (or after the prices changed) is `conflict`, never a mix.
    @Test func aCursorContinuedOnOtherPricesIsAConflict() throws {
        let d = try Deployed(on: "2026-11-18")
        let month = Month("2026-11")!
        let first = try d.portal.perform(BillingStatement(month: month, limit: 1), as: d.admin)
        let cursor = try #require(first.nextCursor)
        var services = Catalog.standard.services
        let base = try #require(services.firstIndex { $0.kind == .base })
        services[base].prices["CHF", default: 0] += 100
        let dearer = try Catalog(
            services: services, currencies: Catalog.standard.currencies,
            freeMailDomains: Catalog.standard.freeMailDomains)
        func next(on catalog: Catalog) throws(PortalError) -> BillingStatement.Response {
            var tx = Transaction(
                state: d.portal.state, actor: d.admin, now: d.clock.now(), calendar: BusinessCalendar(),
                catalog: catalog)
            return try BillingStatement(month: month, limit: 1, cursor: cursor).execute(in: &tx)
        }
        // The same catalog continues the statement.
        #expect(try next(on: d.portal.catalog).lines.count == 1)
        let error = #expect(throws: PortalError.self) { try next(on: dearer) }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("prices") == true)
    }

    /// The rule: a cursor of the current month's statement is `conflict` once that month has ended.
    @Test func aMonthThatEndsBetweenPagesIsAConflict() throws {
        let d = try Deployed(on: "2026-11-18")
        let month = Month("2026-11")!
        let first = try d.portal.perform(BillingStatement(month: month, limit: 1), as: d.admin)
        d.clock.set(BusinessCalendar().start(of: CivilDate("2026-12-01")!))
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(BillingStatement(month: month, cursor: first.nextCursor), as: d.admin)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("ended between pages") == true)
    }
}
