import Foundation
import PropertyBased
import Testing

@testable import TenantServices

/// Seeded property tests for cancellation, billing and offers (SPEC §5–6).
@Suite struct BillingPropertyTests {
    static let codes = ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-SIGONLY", "SC-SIGENC", "SC-CERT", "SC-HIN"]

    /// Random steps over one deployed domain while the clock moves forward.
    @Test func cancellationAndBillingInvariants() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...30)) { steps in
            do {
                let d = try Deployed(on: "2026-11-18", services: ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"])
                var frozen: [String: BillingStatement.Response] = [:]
                var log: [String] = []
                for step in steps {
                    var r = step
                    func pick(_ n: Int) -> Int {
                        defer { r /= n }
                        return r % n
                    }
                    let code = Self.codes[pick(Self.codes.count)]
                    do {
                        switch pick(7) {
                        case 0:
                            let days = pick(40)
                            d.clock.advance(by: Double(days) * 86_400)
                            log.append("advance \(days) days")
                        case 1:
                            let end = BusinessCalendar().date(of: d.clock.now()).adding(days: pick(45) - 3)
                            log.append("cancel \(code) end \(end)")
                            _ = try d.cancel(code, end: pick(2) == 0 ? nil : end.description)
                        case 2:
                            log.append("uncancel \(code)")
                            _ = try d.portal.perform(ServiceUncancel(domainId: d.domainId, service: code), as: d.admin)
                        case 3:
                            log.append("tick")
                            _ = try d.portal.perform(WorkflowTick(), as: op)
                        case 4:
                            let protection = Protection.allCases[pick(3)]
                            log.append("user \(protection)")
                            _ = try d.portal.perform(
                                UsersImport(
                                    domainId: d.domainId,
                                    users: [
                                        .init(address: "u\(pick(4))@d.ch", protection: protection, active: pick(3) != 0)
                                    ]),
                                as: d.admin)
                        case 5:
                            log.append("discount \(code)")
                            _ = try d.portal.perform(
                                ServiceSetDiscount(
                                    domainId: d.domainId, service: code, percent: Double(pick(10001)) / 100,
                                    reason: .volume), as: d.admin)
                        default:
                            log.append("order \(code)")
                            _ = try d.portal.perform(ServiceAdd(domainId: d.domainId, services: [code]), as: d.admin)
                            _ = try? d.portal.perform(DomainConfirm(domainId: d.domainId), as: d.admin)
                            _ = try? d.portal.perform(DomainDeploy(domainId: d.domainId), as: d.admin)
                            for task in try d.portal.perform(TaskList(status: .open), as: d.admin).tasks
                            where task.kind == .deploy {
                                _ = try d.portal.perform(TaskComplete(taskId: task.id), as: d.admin)
                            }
                        }
                    } catch is PortalError {
                        // refusals are part of the game; invariants must hold either way
                    }
                    let today = BusinessCalendar().date(of: d.clock.now())
                    let domain = try d.portal.perform(DomainGet(domainId: d.domainId), as: d.admin).domain
                    try Self.checkRequirements(domain, log)
                    for s in domain.services {
                        if let start = s.billingStart {
                            let provisioned = try #require(s.provisionedAt.flatMap { try? JSONDecoderDate.parse($0) })
                            #expect(
                                start >= BusinessCalendar().date(of: provisioned), "billing before provisioning; \(log)"
                            )
                        }
                    }
                    // Every fully past month's statement is frozen from the first time it is seen.
                    var month = Month("2026-11")!
                    while month.last < today {
                        let s = try d.portal.perform(BillingStatement(month: month), as: d.admin)
                        if let earlier = frozen[month.description] {
                            #expect(earlier == s, "statement \(month) changed; \(log)")
                        } else {
                            frozen[month.description] = s
                        }
                        month = Month(month.last.adding(days: 1))
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// A live service's requirements are live at least as long as it is.
    static func checkRequirements(_ domain: DomainView, _ log: [String]) throws {
        let live = domain.services.filter { $0.status.isLive }
        func lasts(_ r: ServiceView, asLongAs s: ServiceView) -> Bool {
            guard let rEnd = r.endDate else { return true }
            guard let sEnd = s.endDate else { return false }
            return rEnd >= sEnd
        }
        for s in live where s.status >= .provisioning {
            let entry = Catalog.standard[s.code]!
            for dep in entry.requires {
                #expect(live.contains { $0.code == dep && lasts($0, asLongAs: s) }, "\(s.code) outlives \(dep); \(log)")
            }
            if !entry.requiresAny.isEmpty {
                #expect(
                    live.contains { entry.requiresAny.contains($0.code) && lasts($0, asLongAs: s) },
                    "\(s.code) outlives its alternatives; \(log)")
            }
        }
    }

    /// Cancel then uncancel leaves every deployed service exactly as it was.
    @Test func uncancelRestoresExactly() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...6), Gen.int(in: 1...60), Gen.int(in: 0...3)) {
            target, days, preCancelled in
            do {
                let d = try Deployed(on: "2026-11-18", services: ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"])
                if preCancelled > 0 {
                    _ = try? d.cancel(["SC-CERT", "SC-SIGENC", "SC-F-OUTBOUND"][preCancelled - 1], end: "2027-03-31")
                }
                let before = try d.services()
                let code = Self.codes[target]
                let end = CivilDate("2026-11-18")!.adding(days: days).description
                guard (try? d.cancel(code, end: end)) != nil else { return }
                guard (try? d.portal.perform(ServiceUncancel(domainId: d.domainId, service: code), as: d.admin)) != nil
                else { return }
                let after = try d.services()
                for (c, s) in before {
                    #expect(after[c]?.status == s.status, "\(c) status after cancel+uncancel of \(code)")
                    #expect(after[c]?.endDate == s.endDate, "\(c) end date after cancel+uncancel of \(code)")
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Offer totals equal the sum of their lines, yearly = 12 × monthly.
    @Test func offerTotalsEqualTheSumOfTheirLines() async {
        await propertyCheck(count: 80, input: Gen.int(in: 0...500).array(of: 1...5), Gen.int(in: 0...10000)) {
            users, basisPoints in
            do {
                let d = try Deployed(on: "2026-11-18")
                let lines = users.enumerated().map { i, n in
                    OfferCreate.LineRequest(
                        domain: "o\(i).ch", mode: i % 2 == 0 ? .inline : .parallel,
                        services: i % 2 == 0 ? ["SC-F-OUTBOUND", "SC-SIGENC"] : ["SC-SIGONLY"],
                        users: n, discount: DiscountRequest(percent: Double(basisPoints) / 100, reason: .volume))
                }
                let offer = try d.portal.perform(
                    OfferCreate(prospect: Prospect(name: "X", contact: contact, address: berlin), lines: lines),
                    as: d.admin
                ).offer
                #expect(offer.currency == "EUR")
                #expect(offer.monthlyTotal == offer.lines.reduce(0) { $0 + $1.monthly })
                #expect(offer.lines.allSatisfy { $0.monthly == $0.services.reduce(0) { $0 + $1.monthly } })
                #expect(offer.yearlyTotal == 12 * offer.monthlyTotal)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}

/// Parses the RFC 3339 text of views back into dates for assertions.
enum JSONDecoderDate {
    static func parse(_ text: String) throws -> Date { try Date(text, strategy: .iso8601) }
}
