import ArgumentParser
import Foundation
import TenantServices
import TenantServicesFileStore

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play a customer's whole lifecycle on a temporary store and print the portal's views.",
        discussion: """
            A Sales person of the partner Muster IT orders for Muster AG on a fixed clock (from \
            2026-11-02, Europe/Zurich): a guided domain with options, a manual domain that fails its \
            consistency check and is fixed, confirmation, deployment with DNS tasks, users, a discount, a \
            cancellation (dry run, then real) and its undoing, the month's statement and an offer. The \
            output is the same on every run. --keep-store DIR keeps the store for `tenant-services view`.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "Keep the demo's store in this directory (new or empty) instead of a temporary one.")
    var keepStore: String?

    func run() throws {
        options.bootstrap()
        let directory =
            keepStore.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("tenant-services-demo-\(UUID())")
        if let keepStore, let existing = try? FileManager.default.contentsOfDirectory(atPath: keepStore),
            !existing.isEmpty
        {
            throw ValidationError("--keep-store \(keepStore) is not empty; name a new or empty directory")
        }
        defer { if keepStore == nil { try? FileManager.default.removeItem(at: directory) } }
        let store = try FileStore(directory: directory)
        defer { store.close() }
        let clock = ManualClock(Date(timeIntervalSince1970: 1_793_610_000))  // 2026-11-02 08:00 in Zurich
        let portal = try Portal(clock: clock, calendar: BusinessCalendar(), store: store)
        try DemoScript(portal: portal, clock: clock).play()
        if let keepStore {
            print("\nThe store is kept in \(keepStore); try: tenant-services view tenants --store \(keepStore)")
        }
    }
}

/// The demo's steps; every line it prints comes from a portal view.
struct DemoScript {
    let portal: Portal
    let clock: ManualClock
    let op = Principal.platformOperator()

    func section(_ title: String) { print("\n## \(title)\n") }

    func nextDay() { clock.advance(by: 86_400) }

    func play() throws {
        section("1. A partner and its Sales person order for a new customer")
        let partner = try portal.perform(PartnerCreate(name: "Muster IT AG"), as: op).partner
        let anna = Principal(id: "u-anna", kind: .partnerAdmin, partnerId: partner.id, roles: [.ALL], expertMode: true)
        let tenant = try portal.perform(
            TenantCreate(
                name: "Muster AG", contact: Contact(email: "it@muster.ch", phone: "+41 44 123 45 67"),
                address: Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")),
            as: anna
        ).tenant
        print(
            "Partner \(partner.name) (\(partner.id)); tenant \(tenant.name) (\(tenant.id)), region \(tenant.region.rawValue), billed in \(tenant.currency)"
        )

        section("2. A guided domain with options, and a manual one")
        let guided = try portal.perform(
            DomainAdd(tenantId: tenant.id, name: "Muster.ch", mode: .inline, services: ["SC-F-OUTBOUND", "SC-SIGENC"]),
            as: anna
        ).domain
        print(PortalTables.domain(guided))
        let manual = try portal.perform(DomainAddManually(tenantId: tenant.id, name: "muster-müller.ch"), as: anna)
            .domain
        _ = try portal.perform(ServiceAdd(domainId: manual.id, services: ["SC-SIGONLY"]), as: anna)
        let failed = try portal.perform(DomainCheck(domainId: manual.id), as: anna)
        print("\nConsistency check of \(manual.name): \(failed.consistent ? "consistent" : "refused")")
        for violation in failed.violations { print("  [\(violation.rule.rawValue)] \(violation.message)") }
        _ = try portal.perform(ServiceAdd(domainId: manual.id, services: ["SC-MS365"]), as: anna)
        let fixed = try portal.perform(DomainCheck(domainId: manual.id), as: anna)
        print("After adding SC-MS365: \(fixed.consistent ? "consistent" : "still refused")")

        section("3. Confirm, deploy, and the DNS tasks for the Tech people")
        var tasks: [TaskView] = []
        for domain in [guided.id, manual.id] {
            _ = try portal.perform(DomainConfirm(domainId: domain), as: anna)
            tasks += try portal.perform(DomainDeploy(domainId: domain), as: anna).tasks
        }
        print(PortalTables.tasks(tasks))
        nextDay()
        for task in tasks { _ = try portal.perform(TaskComplete(taskId: task.id), as: anna) }
        print("\nThe next day every task is done; services go live and billing starts.")

        section("4. Users, and a discount")
        _ = try portal.perform(
            UsersImport(
                domainId: guided.id,
                users: [
                    .init(address: "anna@muster.ch", protection: .signEncrypt),
                    .init(address: "ben@muster.ch", protection: .signOnly),
                    .init(address: "info@muster.ch", protection: .none),
                ]), as: anna)
        _ = try portal.perform(
            ServiceSetDiscount(domainId: guided.id, service: "SC-SIGENC", percent: 10, reason: .nfr), as: anna)
        try showTenant(tenant.id, as: anna)

        section("5. Cancelling SC-F-OUTBOUND: the dry run shows the cascade")
        nextDay()
        let dry = try portal.perform(
            ServiceCancel(domainId: guided.id, service: "SC-F-OUTBOUND", dryRun: true), as: anna)
        print(
            table(
                ["Number", "Service", "Status", "End date"],
                dry.cancelled.map { [String($0.number), $0.code, $0.status.rawValue, $0.endDate.description] }))
        let real = try portal.perform(ServiceCancel(domainId: guided.id, service: "SC-F-OUTBOUND"), as: anna)
        print("\nCancelled for real: \(real.cancelled.map(\.code).joined(separator: ", "))")
        print(PortalTables.domain(real.domain))
        let restored = try portal.perform(ServiceUncancel(domainId: guided.id, service: "SC-F-OUTBOUND"), as: anna)
        print("\nThe customer changed their mind: uncancelled.")
        print(PortalTables.domain(restored.domain))

        section("6. The tenants list and the November statement")
        print(PortalTables.tenants(try portal.perform(TenantList(), as: anna).tenants))
        print()
        print(PortalTables.statement(try portal.perform(BillingStatement(month: Month("2026-11")!), as: anna)))

        section("7. An offer for a prospect")
        let offer = try portal.perform(
            OfferCreate(
                prospect: Prospect(
                    name: "Neu AG", contact: Contact(email: "info@neu.ch"),
                    address: Address(street: "Seestrasse 5", postalCode: "6000", city: "Luzern", country: "CH")),
                lines: [.init(domain: "neu.ch", mode: .inline, services: ["SC-F-OUTBOUND", "SC-SIGONLY"], users: 12)]),
            as: anna
        ).offer
        print(try portal.perform(OfferRender(offerId: offer.id, format: .markdown), as: anna).document)
    }

    func showTenant(_ id: String, as actor: Principal) throws {
        let view = try portal.perform(TenantGet(tenantId: id), as: actor)
        for (i, domain) in view.domains.enumerated() {
            if i > 0 { print() }
            print(PortalTables.domain(domain))
        }
    }
}
