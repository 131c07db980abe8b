import ArgumentParser
import Foundation
import Logging
import TenantServices

/// A fixed clock for a reproducible demo.
struct FixedClock: TenantServices.Clock {
    let instant: Date
    func now() -> Date { instant }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play an ordering scenario on an in-memory store and print the portal's views.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        options.bootstrap()
        let log = Logger(label: "tenant-services.demo")
        let portal = try Portal(clock: FixedClock(instant: Date(timeIntervalSince1970: 1_795_000_000)))
        let op = Actor.platformOperator()
        let partner = try portal.perform(PartnerCreate(name: "Muster IT AG"), as: op).partner
        let anna = Actor(id: "u-anna", kind: .partnerAdmin, partnerId: partner.id, roles: [.ALL], expertMode: true)
        log.info("created partner \(partner.id)")
        let tenant = try portal.perform(
            TenantCreate(
                name: "Muster AG", contact: Contact(email: "it@muster.ch"),
                address: Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")),
            as: anna
        ).tenant
        let domain = try portal.perform(
            DomainAdd(tenantId: tenant.id, name: "Muster.ch", mode: .inline, services: ["SC-F-OUTBOUND", "SC-SIGENC"]),
            as: anna
        ).domain
        let manual = try portal.perform(DomainAddManually(tenantId: tenant.id, name: "muster-müller.ch"), as: anna)
            .domain
        let check = try portal.perform(DomainCheck(domainId: manual.id), as: anna)
        print("Check of \(manual.name): \(check.consistent ? "consistent" : "inconsistent")")
        for v in check.violations { print("  [\(v.rule.rawValue)] \(v.message)") }
        _ = try portal.perform(ServiceAdd(domainId: manual.id, services: ["SC-MS365"]), as: anna)
        print(
            "After adding SC-MS365: consistent = \(try portal.perform(DomainCheck(domainId: manual.id), as: anna).consistent)\n"
        )
        for d in [domain.id, manual.id] {
            _ = try portal.perform(DomainConfirm(domainId: d), as: anna)
            let deployed = try portal.perform(DomainDeploy(domainId: d), as: anna)
            for task in deployed.tasks {
                print("Task \(task.id): \(task.record.type) \(task.record.name) → \(task.record.value)")
                _ = try portal.perform(TaskComplete(taskId: task.id), as: anna)
            }
        }
        _ = try portal.perform(
            UsersImport(
                domainId: domain.id,
                users: [
                    .init(address: "anna@muster.ch", protection: .signEncrypt),
                    .init(address: "ben@muster.ch", protection: .signOnly),
                    .init(address: "info@muster.ch", protection: .none),
                ]), as: anna)
        _ = try portal.perform(
            ServiceSetDiscount(domainId: domain.id, service: "SC-SIGENC", percent: 10, reason: .nfr), as: anna)
        let dry = try portal.perform(
            ServiceCancel(domainId: domain.id, service: "SC-F-OUTBOUND", dryRun: true), as: anna)
        print(
            "\nCancelling SC-F-OUTBOUND would also end: "
                + dry.cancelled.map { "\($0.code) (\($0.endDate))" }.joined(separator: ", "))
        print()
        let tenants = try portal.perform(TenantList(), as: anna).tenants
        print(
            table(
                ["Name", "ID", "Managed domains", "Total services"],
                tenants.map { [$0.name, $0.id, String($0.managedDomains), String($0.totalServices)] }))
        for d in try portal.perform(TenantGet(tenantId: tenant.id), as: anna).domains {
            print("\n\(d.name) (\(d.id), mode \(d.mode?.rawValue ?? "–"), users \(d.users.total))")
            print(
                table(
                    ["Number", "Service", "Status", "Billing start", "Discount"],
                    d.services.map {
                        [
                            String($0.number), $0.code, $0.status.rawValue, $0.billingStart?.description ?? "–",
                            $0.discount?.label ?? "–",
                        ]
                    }))
        }
        try Self.billing(portal, as: anna)
    }
}

extension Demo {
    /// Prints a month's statement and renders an offer, after the portal's tables.
    static func billing(_ portal: Portal, as actor: Actor) throws {
        let statement = try portal.perform(BillingStatement(month: Month("2026-11")!), as: actor)
        print("\nStatement 2026-11")
        print(
            table(
                ["Domain", "Service", "Quantity", "Unit price", "Discount", "Total"],
                statement.lines.map {
                    [
                        $0.domain, $0.service, String($0.quantity), money($0.unitPrice), $0.discount?.label ?? "–",
                        money($0.total),
                    ]
                }))
        for total in statement.totals { print("Total \(total.currency) \(money(total.total))") }
        let offer = try portal.perform(
            OfferCreate(
                prospect: Prospect(
                    name: "Neu AG", contact: Contact(email: "info@neu.ch"),
                    address: Address(street: "Seestrasse 5", postalCode: "6000", city: "Luzern", country: "CH")),
                lines: [.init(domain: "neu.ch", mode: .inline, services: ["SC-F-OUTBOUND", "SC-SIGONLY"], users: 12)]),
            as: actor
        ).offer
        print("\n" + (try portal.perform(OfferRender(offerId: offer.id, format: .markdown), as: actor).document))
    }
}
