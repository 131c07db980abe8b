import Foundation
import OrderedCollections
import PropertyBased
import Testing

@testable import TenantServices

/// A domain's `service.add` and `domain.confirm` actions, `service.available` and the refusals of
/// `service.add` give exactly what the code before the quick rule answers gave (f8623fa), on
/// generated domains (any statuses, cancelled and ended services, repeated and unknown codes, both
/// regions, names booked again elsewhere) under the standard catalog and generated ones.
@Suite struct ActionEquivalenceTests {
    @Test func actionsAvailabilityAndRefusalsEqualTheReferenceOnGeneratedDomains() throws {
        var rng = Xoshiro(seed: (0xAC71_0115, 4, 5, 6))
        let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
        let calendar = BusinessCalendar()
        let actors = [
            Principal.platformOperator(),
            Principal(id: "sales", kind: .partnerAdmin, partnerId: "P1", roles: [.Sales]),
            Principal(id: "audit", kind: .partnerAdmin, partnerId: "P1", roles: [.Audit]),
        ]
        let endDates = ["2026-11-01", "2026-11-17", "2026-11-18", "2026-11-19", "2026-12-31"].map { CivilDate($0)! }
        var compared = 0
        var offered = (add: 0, confirm: 0, permanent: 0)
        var kinds: Set<String> = []
        for round in 0..<400 {
            let catalog = round % 2 == 0 ? Catalog.standard : try CatalogGenerator.catalog(&rng)
            let codes = catalog.services.map(\.code)
            var state = PortalState()
            var seq = 0
            for d in 1...Int.random(in: 1...6, using: &rng) {
                var services: [BookedService] = []
                let count = Int.random(in: 0...6, using: &rng)
                for number in 0..<count {
                    let status = ServiceStatus.allCases.randomElement(using: &rng)!
                    let code = Int.random(in: 0..<12, using: &rng) == 0 ? "SC-X" : codes.randomElement(using: &rng)!
                    services.append(
                        BookedService(
                            number: number + 1, code: code, status: status, orderedAt: now, confirmedAt: nil,
                            provisionedAt: nil, billingStart: nil,
                            endDate: status >= .cancelled || Bool.random(using: &rng)
                                ? endDates.randomElement(using: &rng)! : nil,
                            discount: nil))
                }
                // Mostly complete domains, so that some are consistent and offer domain.confirm.
                if Bool.random(using: &rng) {
                    for code in [catalog.baseService.code, codes[Int.random(in: 1...2, using: &rng)]]
                    where !services.contains(where: { $0.code == code }) {
                        services.append(
                            BookedService(
                                number: services.count + 1, code: code, status: .ordered, orderedAt: now,
                                confirmedAt: nil, provisionedAt: nil, billingStart: nil, endDate: nil, discount: nil))
                    }
                }
                seq += 1
                state.apply(
                    EventRecord(
                        seq: seq, at: now, actor: PrincipalReference(id: "ops", kind: .operator), action: "gen",
                        target: "", summary: "", partnerId: nil, tenantId: nil, domainId: nil,
                        changes: [
                            .domainSaved(
                                Domain(
                                    id: "D\(d)", tenantId: "T1", name: "d\(Int.random(in: 1...3, using: &rng)).ch",
                                    region: Region.allCases.randomElement(using: &rng)!, lastMode: .inline,
                                    confidential: false, access: [], services: services,
                                    nextServiceNumber: services.count + 1, users: [], version: 1, createdAt: now))
                        ]))
            }
            for domain in state.domains.values {
                for actor in actors {
                    let tx = Transaction(state: state, actor: actor, now: now, calendar: calendar, catalog: catalog)
                    let actions = tx.actions(on: domain)
                    let reference = Reference.actions(on: domain, tx)
                    #expect(
                        actions.contains(ServiceAdd.method) == reference.contains(ServiceAdd.method)
                            && actions.contains(DomainConfirm.method) == reference.contains(DomainConfirm.method),
                        "\(domain) \(actor.id): \(actions) vs \(reference)")
                    offered.add += actions.contains(ServiceAdd.method) ? 1 : 0
                    offered.confirm += actions.contains(DomainConfirm.method) ? 1 : 0
                    #expect(tx.availability(on: domain) == Reference.availability(on: domain, tx), "\(domain)")
                    var requests = codes.map { [$0] }
                    for _ in 0..<4 {
                        requests.append(Array(Set((0..<3).map { _ in codes.randomElement(using: &rng)! })))
                    }
                    for request in requests {
                        let new = tx.addRefusal(request, on: domain)?.error(booking: request, on: domain, tx)
                        let old = Reference.addRefusal(request, on: domain, tx)
                        #expect(new == old, "\(domain) \(request)")
                        if let refusal = tx.addRefusal(request, on: domain) {
                            kinds.insert(String("\(refusal)".prefix { $0 != "(" }))
                            if case .permanent = refusal { offered.permanent += 1 }
                        }
                        compared += 1
                    }
                }
            }
        }
        // The generated domains reach every branch that changed.
        #expect(compared > 10_000)
        #expect(
            kinds == [
                "baseCancelled", "requirementCancelled", "alternativesCancelled", "bookedElsewhere", "alreadyLive",
                "permanent",
            ])
        #expect(offered.add > 100 && offered.confirm > 20 && offered.permanent > 500, "\(offered)")
    }
}

/// Generated catalogs that load: requirements only on earlier services (no cycles), exclusions
/// one-sided or repeated, mode and region limits on any kind of service.
enum CatalogGenerator {
    static func json(_ rng: inout Xoshiro) -> [String: Any] {
        let count = Int.random(in: 3...9, using: &rng)
        let codes = (0..<count).map { "S\($0)" }
        var entries: [[String: Any]] = []
        for (i, code) in codes.enumerated() {
            var entry: [String: Any] = [
                "code": code, "name": ["en": code], "counts": "allActive", "prices": ["CHF": 1],
                "kind": i == 0 ? "base" : i == 1 || i == 2 ? "mode" : "option",
            ]
            if i == 1 { entry["mode"] = "inline" }
            if i == 2 { entry["mode"] = "parallel" }
            let earlier = Array(codes[..<i])
            func some(_ from: [String]) -> [String] {
                from.isEmpty
                    ? [] : (0..<Int.random(in: 0...2, using: &rng)).map { _ in from.randomElement(using: &rng)! }
            }
            if Bool.random(using: &rng) { entry["requires"] = some(earlier) }
            if Bool.random(using: &rng) { entry["requiresAny"] = some(earlier) }
            if Bool.random(using: &rng) { entry["excludes"] = some(codes.filter { $0 != code }) }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                entry["modes"] = [["inline"], ["parallel"], ["inline", "parallel"], []].randomElement(using: &rng)!
            }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                entry["regions"] = [["CH"], ["DE"], ["CH", "DE"], []].randomElement(using: &rng)!
            }
            entries.append(entry)
        }
        return ["currencies": ["CHF"], "freeMailDomains": [], "services": entries.shuffled(using: &rng)]
    }

    static func catalog(_ rng: inout Xoshiro) throws -> Catalog {
        try Catalog(json: JSONSerialization.data(withJSONObject: json(&rng)))
    }
}

/// The rule answers as computed before f8623fa (problem lists, the live services read per
/// catalog service), kept as the oracle of the equivalence test.
private enum Reference {
    static func actions(on domain: Domain, _ tx: Transaction) -> [String] {
        var actions: [String] = []
        if tx.access.allows(.order)
            && tx.catalog.services.contains(where: { refusal([$0.code], on: domain, tx) == nil })
        {
            actions.append(ServiceAdd.method)
        }
        if tx.access.allows(.confirm) && domain.services.contains(where: { $0.status == .ordered })
            && tx.catalog.problems(of: domain.liveServices(on: tx.today).map(\.code), region: domain.region).isEmpty
        {
            actions.append(DomainConfirm.method)
        }
        return actions
    }

    static func availability(on domain: Domain, _ tx: Transaction) -> [ServiceAvailability] {
        var roleRefusal: String?
        do { try tx.access.require(.order) } catch { roleRefusal = error.message }
        return tx.catalog.services.map { service in
            let reason =
                roleRefusal
                ?? refusal([service.code], on: domain, tx).map {
                    describe($0, for: service.code, on: domain, tx.catalog)
                }
            return ServiceAvailability(
                code: service.code, name: service.name(locale: "en"), available: reason == nil, reason: reason)
        }
    }

    /// The error of `service.add`, nil when it would succeed.
    static func addRefusal(_ codes: [String], on domain: Domain, _ tx: Transaction) -> PortalError? {
        guard let refusal = refusal(codes, on: domain, tx) else { return nil }
        guard case .permanent(let problems) = refusal else {
            return refusal.base.error(booking: codes, on: domain, tx)
        }
        let violations = problems.map { tx.catalog.violation($0, region: domain.region) }
        return PortalError(
            .dependencyViolation,
            "cannot book \(codes.joined(separator: ", ")) on \(domain.name): \(violations.map(\.message).joined(separator: " "))",
            details: .init(violations: violations))
    }

    enum Refusal {
        case other(AddRefusal)
        case permanent([Problem])

        var base: AddRefusal {
            guard case .other(let refusal) = self else { fatalError("permanent") }
            return refusal
        }
    }

    static func describe(_ refusal: Refusal, for code: String, on domain: Domain, _ catalog: Catalog) -> String {
        guard case .permanent(let problems) = refusal else {
            return refusal.base.reason(for: code, on: domain, catalog: catalog)
        }
        let problem = problems.first { $0.services.contains(code) } ?? problems[0]
        switch problem.rule {
        case .excludes:
            let other = problem.services.first { $0 != code } ?? problem.services[0]
            return "excluded by \(other)"
        case .mode where problem.services == [code]:
            let allowed = (catalog[code]?.modes ?? []).map(\.rawValue).joined(separator: " or ")
            return "wrong mode: runs only in \(allowed) mode, the domain is \(problem.mode?.rawValue ?? "without mode")"
        case .region where problem.services == [code]:
            let allowed = (catalog[code]?.regions ?? []).map(\.rawValue).joined(separator: ", ")
            return "wrong region: available only in \(allowed), the domain is in \(domain.region.rawValue)"
        default:
            return catalog.violation(problem, region: domain.region).message
        }
    }

    static func refusal(_ codes: [String], on domain: Domain, _ tx: Transaction) -> Refusal? {
        let catalog = tx.catalog
        let live = domain.liveServices(on: tx.today)
        if live.contains(where: { $0.status == .cancelled }) {
            let ending = Dictionary(
                live.filter { $0.status == .cancelled }.map { ($0.code, $0) }, uniquingKeysWith: { $1 })
            if let base = ending[catalog.baseService.code] { return .other(.baseCancelled(base)) }
            let running = Set(live.filter { $0.status != .cancelled }.map(\.code)).union(codes)
            for code in codes {
                guard let entry = catalog[code] else { continue }
                if let dep = entry.requires.first(where: { ending[$0] != nil }) {
                    return .other(.requirementCancelled(code: code, requirement: ending[dep]!))
                }
                if !entry.requiresAny.isEmpty && !entry.requiresAny.contains(where: running.contains),
                    let dep = entry.requiresAny.first(where: { ending[$0] != nil })
                {
                    return .other(
                        .alternativesCancelled(code: code, alternatives: entry.requiresAny, cancelled: ending[dep]!))
                }
            }
        }
        if live.isEmpty,
            tx.state.domains(named: domain.name).contains(where: {
                $0.id != domain.id && $0.hasLiveService(on: tx.today)
            })
        {
            return .other(.bookedElsewhere)
        }
        if let existing = live.first(where: { codes.contains($0.code) }) { return .other(.alreadyLive(existing)) }
        let problems = catalog.permanentProblems(of: live.map(\.code) + codes, region: domain.region)
        return problems.isEmpty ? nil : .permanent(problems)
    }
}
