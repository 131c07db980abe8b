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

@Suite struct DomainNameMappingTests {
    /// The UTS #46 mapping comes first (full-width and other compatibility forms).
    @Test(arguments: [
        ("ｍｕｓｔｅｒ.ch", "muster.ch"),
        ("ＭＵＳＴＥＲ．ＣＨ", "muster.ch"),
        ("ｇｍａｉｌ.com", "gmail.com"),
        ("ﬁrma.ch", "firma.ch"),
        ("Ｍünchen.de", "xn--mnchen-3ya.de"),
        ("muster｡ch", "muster.ch"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ])
    func theUTS46MappingComesFirst(raw: String, stored: String) throws {
        #expect(try DomainName.normalize(raw) == stored)
    }

    /// IDNA 2008 rules that the hand-written codec did not know, and control characters.
    @Test(arguments: [
        "xn--al-0ea.ch",  // MIDDLE DOT without a preceding 'l' (CONTEXTO)
        "xn--hello-txk.ch",  // a U-label that starts with a combining mark
        "xn--x.ch",  // not punycode
        "muster.ch\u{0}.evil.com", "mus\u{1B}ter.ch", "muster\u{85}.ch",
    ])
    func idna2008RulesAndControlCharactersAreRefused(raw: String) {
        #expect(throws: DomainName.Invalid.self) { try DomainName.normalize(raw) }
    }

    /// Mapped spellings are one name for uniqueness and for the free-mail list.
    @Test func mappedSpellingsAreOneNameForUniquenessAndTheFreeMailList() throws {
        let world = try WorldBuilder()
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        try world.domain("muster.ch", of: tenant)
        let sales = world.actor(.sales, of: partner)
        let taken = #expect(throws: PortalError.self) {
            try world.portal.perform(DomainAdd(tenantId: tenant, name: "ｍｕｓｔｅｒ.ch", mode: .inline), as: sales)
        }
        #expect(taken?.code == .conflict)
        for name in ["ｇｍａｉｌ.com", "ＧＭＸ.net", "gmail．com"] {
            let freeMail = #expect(throws: PortalError.self) {
                try world.portal.perform(DomainAdd(tenantId: tenant, name: name, mode: .inline), as: sales)
            }
            #expect(freeMail?.code == .invalidDomain, "\(name)")
            #expect(freeMail?.message.contains("free-mail") == true, "\(name)")
        }
    }
}

@Suite struct UserAddressTests {
    static let stems = ["anna", "Carl", "zoë", "o'brien", "x.y-z"]

    /// Spellings of one address that `users.import` accepts: case, padding, the domain in Unicode,
    /// full-width or punycode, a trailing dot, decomposed letters.
    static func spelling(_ local: String, _ variant: Int) -> String {
        let domains = [
            "münchen.de", "MÜNCHEN.de", "xn--mnchen-3ya.de", "ｍüｎｃｈｅｎ.de", "München.DE.", "mu\u{308}nchen.de",
        ]
        let locals = [local, local.uppercased(), local.lowercased(), local.decomposedStringWithCanonicalMapping]
        let pads = ["", " ", "  "]
        let pad = pads[variant % pads.count]
        return pad + locals[(variant / 3) % locals.count] + "@" + domains[(variant / 12) % domains.count] + pad
    }

    /// `users.remove` of any spelling that `users.import` accepted removes that user.
    @Test func usersRemoveOfAnySpellingUsersImportAcceptedRemovesThatUser() async {
        await propertyCheck(
            count: 60, input: Gen.int(in: 0...(Self.stems.count - 1)), Gen.int(in: 0...71), Gen.int(in: 0...71)
        ) { stem, imported, removed in
            do {
                let world = try WorldBuilder()
                let partner = try world.partner("Muster IT")
                let tenant = try world.tenant("Muster AG", of: partner)
                let domain = try world.domain("münchen.de", of: tenant, users: [.none: 1])
                let admin = world.actor(.all, of: partner)
                let local = Self.stems[stem]
                let spelled = Self.spelling(local, imported)
                _ = try world.portal.perform(
                    UsersImport(domainId: domain, users: [.init(address: spelled, protection: .signOnly)]), as: admin)
                let count = try world.portal.perform(DomainGet(domainId: domain), as: admin).domain.users.total
                #expect(count == 2, "\(spelled) imported")
                let other = Self.spelling(local, removed)
                let after = try world.portal.perform(UsersRemove(domainId: domain, addresses: [other]), as: admin)
                #expect(after.domain.users.total == 1, "removing '\(other)' removes the user imported as '\(spelled)'")
                #expect(after.domain.users.signOnly == 0)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

@Suite struct ConfidentialityRoleTests {
    /// Confidentiality and grants need a partner admin role (any) and expert mode.
    @Test func confidentialityAndGrantsNeedARoleAndExpertMode() throws {
        let world = try World()
        let domain = world.domains[0][0]
        for actor in [world.partnerAdmin([], expert: true), world.partnerAdmin([], expert: false)] {
            let set = try refusal(world, DomainSetConfidential(domainId: domain, confidential: true), as: actor)
            #expect(set.code == .permissionDenied)
            #expect(set.details.required == Role.allCases)
            #expect(set.message.contains("roles"))
            let grant = try refusal(world, DomainGrantAccess(domainId: domain, principalId: "ta-x"), as: actor)
            #expect(grant.code == .permissionDenied)
            let revoke = try refusal(world, DomainRevokeAccess(domainId: domain, principalId: "ta-x"), as: actor)
            #expect(revoke.code == .permissionDenied)
        }
        let withoutExpertMode = try refusal(
            world, DomainSetConfidential(domainId: domain, confidential: true), as: world.partnerAdmin([.Audit]))
        #expect(withoutExpertMode.message.contains("expert mode"))
        for role in Role.allCases {
            let actor = world.partnerAdmin([role], expert: true)
            _ = try world.portal.perform(DomainSetConfidential(domainId: domain, confidential: true), as: actor)
            _ = try world.portal.perform(DomainSetConfidential(domainId: domain, confidential: false), as: actor)
        }
    }
}

@Suite struct RegionTests {
    /// A country change that would move a tenant with a live domain to the other region is
    /// refused (conflict, naming the live domains); free within a region or without live domains.
    @Test func aCountryChangeMayNotMoveLiveDomainsToTheOtherRegion() throws {
        let world = try WorldBuilder()
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        let domain = try world.domain("muster.ch", of: tenant, status: .provisioned)
        let sales = world.actor(.sales, of: partner)
        let germany = Address(street: "Unter den Linden 1", postalCode: "10117", city: "Berlin", country: "DE")
        let liechtenstein = Address(street: "Städtle 1", postalCode: "9490", city: "Vaduz", country: "LI")
        let before = try world.portal.perform(TenantGet(tenantId: tenant), as: sales)
        let error = #expect(throws: PortalError.self) {
            try world.portal.perform(TenantUpdate(tenantId: tenant, address: germany), as: sales)
        }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("muster.ch") == true)
        #expect(error?.message.contains(domain) == true)
        #expect(try world.portal.perform(TenantGet(tenantId: tenant), as: sales) == before, "nothing changed")
        // The same through the CRM import, which updates a tenant by its external ID.
        let zurich = Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")
        let imported = try world.portal.perform(
            TenantImport(partnerId: partner, tenants: [.init(name: "CRM AG", address: zurich, externalId: "crm-1")]),
            as: .platformOperator()
        ).tenants[0].id
        try world.domain("crm.ch", of: imported, status: .provisioned)
        let crm = #expect(throws: PortalError.self) {
            try world.portal.perform(
                TenantImport(
                    partnerId: partner, tenants: [.init(name: "CRM AG", address: germany, externalId: "crm-1")]),
                as: .platformOperator())
        }
        #expect(crm?.code == .conflict)
        #expect(crm?.message.contains("crm.ch") == true)
        // Within the region the country may change.
        let moved = try world.portal.perform(TenantUpdate(tenantId: tenant, address: liechtenstein), as: sales)
        #expect(moved.tenant.region == .CH)
        #expect(moved.tenant.currency == "CHF")
        // A tenant without live domains may move.
        let other = try world.tenant("Neu AG", of: partner)
        let ordered = try world.domain("neu.ch", of: other)
        _ = try world.portal.perform(ServiceCancel(domainId: ordered, service: "SC-SERVICE"), as: sales)
        let free = try world.portal.perform(TenantUpdate(tenantId: other, address: germany), as: sales)
        #expect(free.tenant.region == .DE)
        #expect(free.tenant.currency == "EUR")
    }
}

@Suite struct OfferVisibilityTests {
    /// Offers are for Sales/ALL and the operator; a partner admin of the offer's own
    /// partner without those roles gets permission-denied, anyone outside the partner not-found.
    @Test func offersArePermissionDeniedInsideThePartnerAndNotFoundOutside() throws {
        let world = try World()
        let sales = world.partnerAdmin([.Sales])
        let offer = try world.portal.perform(
            OfferCreate(
                tenantId: world.tenants[0],
                lines: [.init(domain: "neu.ch", mode: .inline, services: ["SC-F-OUTBOUND"], users: 5)]), as: sales
        ).offer.id
        func codes(_ actor: Actor) -> [PortalError.Code?] {
            func code(_ body: () throws -> Void) -> PortalError.Code? {
                do {
                    try body()
                    return nil
                } catch let error as PortalError {
                    return error.code
                } catch {
                    return .storageFailure
                }
            }
            let p = world.portal
            return [
                code { _ = try p.perform(OfferGet(offerId: offer), as: actor) },
                code { _ = try p.perform(OfferRender(offerId: offer, format: .markdown), as: actor) },
                code { _ = try p.perform(OfferSend(offerId: offer), as: actor) },
                code { _ = try p.perform(OfferDecline(offerId: offer), as: actor) },
                code { _ = try p.perform(OfferAccept(offerId: offer), as: actor) },
            ]
        }
        for role in [Role.Support, .Tech, .Audit, .UserManagement] {
            for expert in [false, true] {
                let actor = world.partnerAdmin([role], expert: expert)
                #expect(codes(actor) == Array(repeating: .permissionDenied, count: 5), "\(role) of the offer's partner")
                let list = #expect(throws: PortalError.self) { try world.portal.perform(OfferList(), as: actor) }
                #expect(list?.code == .permissionDenied)
            }
        }
        for outsider in [
            world.partnerAdmin([.Sales], of: 1), world.partnerAdmin([.ALL], of: 1),
            world.partnerAdmin([.Support], of: 1),
            world.tenantAdmin([.ALL]),
        ] {
            #expect(codes(outsider) == Array(repeating: .notFound, count: 5), "\(outsider.id)")
        }
        #expect(try world.portal.perform(OfferList(), as: world.partnerAdmin([.ALL], of: 1)).offers.isEmpty)
    }
}

@Suite struct OfferRuleOrderTests {
    /// Domain rules are checked in the order invalid-domain, conflict, dependency-violation,
    /// date-rule, across every line of an offer.
    @Test func offerCreateAnswersInvalidDomainBeforeAnyOtherDomainRule() throws {
        let world = try World()
        let sales = world.partnerAdmin([.Sales])
        let inconsistent = OfferCreate.LineRequest(
            domain: "neu.ch", mode: .parallel, services: ["SC-F-INBOUND"], users: 5)
        let invalid = OfferCreate.LineRequest(domain: "bad_name.ch", mode: .inline, users: 5)
        let booked = OfferCreate.LineRequest(domain: "alpha-ordered.ch", mode: .inline, users: 5)
        func code(_ lines: [OfferCreate.LineRequest], validUntil: String? = nil) throws -> PortalError.Code {
            try refusal(
                world,
                OfferCreate(tenantId: world.tenants[0], validUntil: validUntil.flatMap(CivilDate.init), lines: lines),
                as: sales
            ).code
        }
        #expect(try code([inconsistent, invalid]) == .invalidDomain)
        #expect(try code([invalid, inconsistent]) == .invalidDomain)
        #expect(try code([inconsistent, booked]) == .conflict)
        #expect(try code([booked, invalid]) == .invalidDomain)
        #expect(try code([inconsistent], validUntil: "2020-01-01") == .dependencyViolation)
    }
}

@Suite struct LastDateTests {
    static let calendar = BusinessCalendar()

    /// Dates are within 0001-01-01 … 9999-12-31; a computed date past that is date-rule.
    @Test func aCancelWhoseEndDateWouldFallPastTheLastDateIsADateRule() throws {
        let d = try Deployed(on: "9999-12-31")
        let before = try d.services()
        let error = #expect(throws: PortalError.self) { try d.cancel("SC-CERT") }
        #expect(error?.code == .dateRule)
        #expect(error?.details.latest == "9999-12-31")
        #expect(try d.services() == before)
        let dry = #expect(throws: PortalError.self) { try d.cancel("SC-SERVICE", dryRun: true) }
        #expect(dry?.code == .dateRule)
        // The day before, the default end date is the last date and is fine.
        let e = try Deployed(on: "9999-12-30")
        #expect(try e.cancel("SC-CERT").cancelled.map(\.endDate) == [CivilDate("9999-12-31")!])
    }

    @Test func anOfferWhoseDefaultValidityWouldEndPastTheLastDateIsADateRule() throws {
        let d = try Deployed(on: "9999-12-15")
        let line = OfferCreate.LineRequest(domain: "neu.ch", mode: .inline, users: 5)
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(OfferCreate(tenantId: d.tenantId, lines: [line]), as: d.admin)
        }
        #expect(error?.code == .dateRule)
        let given = try d.portal.perform(
            OfferCreate(tenantId: d.tenantId, validUntil: CivilDate("9999-12-31"), lines: [line]), as: d.admin)
        #expect(given.offer.validUntil == CivilDate("9999-12-31"))
    }

    @Test func noChangeIsAcknowledgedOnADayPastTheLastDate() throws {
        let d = try Deployed(on: "9999-12-31")
        // 23:30 UTC on 9999-12-31 is already 10000-01-01 in Zurich.
        d.clock.set(Date(timeIntervalSince1970: 253_402_300_800 - 1800))
        #expect(Self.calendar.date(of: d.clock.now()).year == 10000)
        let events = d.portal.journal.count
        let error = #expect(throws: PortalError.self) {
            try d.portal.perform(TenantUpdate(tenantId: d.tenantId, name: "Later"), as: d.admin)
        }
        #expect(error?.code == .dateRule)
        let tick = #expect(throws: PortalError.self) { try d.portal.perform(WorkflowTick(), as: op) }
        #expect(tick?.code == .dateRule)
        #expect(d.portal.journal.count == events)
    }
}
