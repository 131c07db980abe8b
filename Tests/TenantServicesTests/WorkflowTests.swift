import Foundation
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct WorkflowTests {
    let world: World
    let sales: Principal
    let tech: Principal

    init() throws {
        world = try World()
        sales = world.partnerAdmin([.Sales])
        tech = world.partnerAdmin([.Tech])
    }

    @Test func guidedDomainBooksBaseModeAndOptionsInOrder() throws {
        let domain = try world.portal.perform(
            DomainAdd(
                tenantId: world.tenants[0], name: "Kunde.CH", mode: .inline, services: ["SC-F-OUTBOUND", "SC-SIGONLY"]),
            as: sales
        ).domain
        #expect(domain.name == "kunde.ch")
        #expect(domain.mode == .inline)
        #expect(domain.region == .CH)
        #expect(domain.services.map(\.code) == ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-SIGONLY"])
        #expect(domain.services.map(\.number) == [1, 2, 3, 4])
        #expect(domain.services.allSatisfy { $0.status == .ordered })
        #expect(domain.actions.contains("domain.confirm"))
        #expect(!domain.actions.contains("domain.deploy"))
    }

    @Test func guidedDomainRefusesInconsistentOptions() throws {
        let error = try refusal(
            world, DomainAdd(tenantId: world.tenants[0], name: "kunde.ch", mode: .parallel, services: ["SC-CERT"]),
            as: sales)
        #expect(error.code == .dependencyViolation)
        #expect(error.details.violations?.map(\.rule) == [.requiresAny])
        let hin = try refusal(
            world,
            DomainAdd(tenantId: world.tenants[0], name: "kunde.ch", mode: .parallel, services: ["SC-F-OUTBOUND"]),
            as: sales)
        #expect(hin.details.violations?.map(\.rule).contains(.mode) == true)
    }

    @Test func domainNameErrors() throws {
        let tenant = world.tenants[0]
        #expect(
            try refusal(world, DomainAdd(tenantId: tenant, name: "not a domain", mode: .inline), as: sales).code
                == .invalidDomain)
        let freeMail = try refusal(world, DomainAdd(tenantId: tenant, name: "GMX.de", mode: .inline), as: sales)
        #expect(freeMail.code == .invalidDomain)
        #expect(freeMail.message.contains("free-mail"))
        // Booked by this partner: conflict that names the domain; booked by another partner: conflict that names nothing.
        let own = try refusal(world, DomainAdd(tenantId: tenant, name: "alpha-ordered.ch", mode: .inline), as: sales)
        #expect(own.code == .conflict)
        #expect(own.message.contains(world.domains[0][0]))
        let foreign = try refusal(world, DomainAdd(tenantId: tenant, name: "beta-ordered.ch", mode: .inline), as: sales)
        #expect(foreign.code == .conflict)
        #expect(!foreign.message.contains(world.domains[1][0]))
        #expect(
            try refusal(
                world, DomainAdd(tenantId: tenant, name: "x.ch", mode: .inline, services: ["SC-NOPE"]), as: sales
            ).code == .notFound)
    }

    @Test func manualDomainAcceptsServicesInAnyOrderAndCheckReportsWhatIsMissing() throws {
        let expert = world.partnerAdmin([.Sales], expert: true)
        let domain = try world.portal.perform(
            DomainAddManually(tenantId: world.tenants[0], name: "manual.ch"), as: expert
        ).domain
        #expect(domain.services.map(\.code) == ["SC-SERVICE"])
        #expect(domain.mode == nil)
        _ = try world.portal.perform(ServiceAdd(domainId: domain.id, services: ["SC-CERT"]), as: expert)
        var check = try world.portal.perform(DomainCheck(domainId: domain.id), as: expert)
        #expect(!check.consistent)
        #expect(Set(check.violations.map(\.rule)) == [.missingMode, .requiresAny])
        #expect(try refusal(world, DomainConfirm(domainId: domain.id), as: expert).code == .dependencyViolation)
        _ = try world.portal.perform(ServiceAdd(domainId: domain.id, services: ["SC-SIGENC", "SC-MS365"]), as: expert)
        check = try world.portal.perform(DomainCheck(domainId: domain.id), as: expert)
        #expect(check.consistent)
        #expect(check.violations.isEmpty)
        let confirmed = try world.portal.perform(DomainConfirm(domainId: domain.id), as: expert).domain
        #expect(confirmed.services.allSatisfy { $0.status == .confirmed })
        #expect(confirmed.mode == .parallel)
    }

    @Test func serviceAddRefusals() throws {
        let domain = world.domains[0][0]  // inline, ordered
        let already = try refusal(world, ServiceAdd(domainId: domain, services: ["SC-F-INBOUND"]), as: sales)
        #expect(already.code == .conflict)
        let excluded = try refusal(world, ServiceAdd(domainId: domain, services: ["SC-MS365"]), as: sales)
        #expect(excluded.code == .dependencyViolation)
        #expect(excluded.details.violations?.first?.rule == .excludes)
        let both = try refusal(world, ServiceAdd(domainId: domain, services: ["SC-SIGONLY", "SC-SIGENC"]), as: sales)
        #expect(both.details.violations?.map(\.rule) == [.excludes])
        let parallel = world.domains[0][1]
        let mode = try refusal(world, ServiceAdd(domainId: parallel, services: ["SC-HIN"]), as: sales)
        #expect(mode.details.violations?.map(\.rule).contains(.mode) == true)
        #expect(try refusal(world, ServiceAdd(domainId: domain, services: ["SC-XYZ"]), as: sales).code == .notFound)
        // Missing requirements are accepted: the check reports them later.
        let added = try world.portal.perform(ServiceAdd(domainId: domain, services: ["SC-HIN"]), as: sales).domain
        #expect(added.services.last?.code == "SC-HIN")
        #expect(added.services.last?.number == 3)
    }

    @Test func regionRuleRefusesHINOutsideSwitzerland() throws {
        let world = try World(country: "DE")
        let error = try refusal(
            world, ServiceAdd(domainId: world.domains[0][0], services: ["SC-F-OUTBOUND", "SC-HIN"]),
            as: world.partnerAdmin([.ALL]))
        #expect(error.details.violations?.map(\.rule) == [.region])
        let available = try world.portal.perform(ServiceAvailable(domainId: world.domains[0][0]), as: op).services
        #expect(available.first { $0.code == "SC-HIN" }?.reason?.contains("region") == true)
    }

    @Test func serviceAvailableExplainsEveryService() throws {
        let list = try world.portal.perform(ServiceAvailable(domainId: world.domains[0][0]), as: sales).services
        #expect(list.map(\.code) == Catalog.standard.services.map(\.code))
        let byCode = Dictionary(uniqueKeysWithValues: list.map { ($0.code, $0) })
        #expect(byCode["SC-SERVICE"]?.available == false)
        #expect(byCode["SC-SERVICE"]?.reason?.contains("already booked") == true)
        #expect(byCode["SC-MS365"]?.reason == "excluded by SC-F-INBOUND")
        #expect(byCode["SC-F-OUTBOUND"]?.available == true)
        #expect(byCode["SC-F-OUTBOUND"]?.reason == nil)
        let parallel = try world.portal.perform(ServiceAvailable(domainId: world.domains[0][1]), as: sales).services
        #expect(parallel.first { $0.code == "SC-HIN" }?.reason?.contains("wrong mode") == true)
    }

    @Test func deployCreatesTasksAndProvisionsInDependencyOrder() throws {
        let domain = try world.portal.perform(
            DomainAdd(
                tenantId: world.tenants[0], name: "deploy.ch", mode: .inline,
                services: ["SC-F-OUTBOUND", "SC-SIGENC", "SC-CERT"]), as: sales
        ).domain
        #expect(try refusal(world, DomainDeploy(domainId: domain.id), as: tech).code == .invalidTransition)
        _ = try world.portal.perform(DomainConfirm(domainId: domain.id), as: tech)
        #expect(try refusal(world, DomainConfirm(domainId: domain.id), as: tech).code == .invalidTransition)
        let deployed = try world.portal.perform(DomainDeploy(domainId: domain.id), as: tech)
        #expect(deployed.tasks.map(\.service) == ["SC-F-INBOUND", "SC-SIGENC", "SC-CERT"])
        #expect(deployed.tasks.map(\.record.type) == ["MX", "CNAME", "TXT"])
        #expect(deployed.tasks[0].record.value == "deploy-ch.gate.seppmail.cloud")
        func statuses() throws -> [String: ServiceStatus] {
            let d = try world.portal.perform(DomainGet(domainId: domain.id), as: tech).domain
            return Dictionary(uniqueKeysWithValues: d.services.map { ($0.code, $0.status) })
        }
        var s = try statuses()
        #expect(s["SC-SERVICE"] == .provisioned)
        #expect(s["SC-F-INBOUND"] == .provisioning)
        #expect(s["SC-F-OUTBOUND"] == .provisioning, "waits for SC-F-INBOUND")
        _ = try world.portal.perform(TaskComplete(taskId: deployed.tasks[2].id), as: tech)  // CERT's own task
        s = try statuses()
        #expect(s["SC-CERT"] == .provisioning, "waits for SC-SIGENC")
        #expect(try refusal(world, TaskComplete(taskId: deployed.tasks[2].id), as: tech).code == .invalidTransition)
        _ = try world.portal.perform(TaskComplete(taskId: deployed.tasks[0].id), as: tech)
        s = try statuses()
        #expect(s["SC-F-INBOUND"] == .provisioned)
        #expect(s["SC-F-OUTBOUND"] == .provisioned)
        #expect(s["SC-SIGENC"] == .provisioning)
        let done = try world.portal.perform(TaskComplete(taskId: deployed.tasks[1].id), as: tech)
        #expect(done.task.status == .done)
        #expect(done.domain.services.allSatisfy { $0.status == .provisioned })
        #expect(try world.portal.perform(TaskList(domainId: domain.id, status: .open), as: tech).tasks.isEmpty)
    }

    @Test func billingStartNeedsProvisioningAndACountedUser() throws {
        let admin = world.partnerAdmin([.ALL])
        let domain = world.domains[0][1]  // parallel, confirmed
        _ = try world.portal.perform(
            UsersImport(domainId: domain, users: [.init(address: "Anna@alpha-confirmed.ch", protection: .none)]),
            as: admin)
        var view = try world.portal.perform(DomainGet(domainId: domain), as: admin).domain
        #expect(view.services.allSatisfy { $0.billingStart == nil }, "not provisioned yet")
        let tasks = try world.portal.perform(DomainDeploy(domainId: domain), as: admin).tasks
        _ = try world.portal.perform(TaskComplete(taskId: tasks[0].id), as: admin)
        _ = try world.portal.perform(ServiceAdd(domainId: domain, services: ["SC-SIGONLY"]), as: admin)
        _ = try world.portal.perform(DomainConfirm(domainId: domain), as: admin)
        _ = try world.portal.perform(DomainDeploy(domainId: domain), as: admin)
        view = try world.portal.perform(DomainGet(domainId: domain), as: admin).domain
        let byCode = Dictionary(uniqueKeysWithValues: view.services.map { ($0.code, $0) })
        #expect(byCode["SC-SERVICE"]?.billingStart == CivilDate("2026-11-18"))
        #expect(byCode["SC-MS365"]?.billingStart == CivilDate("2026-11-18"))
        #expect(byCode["SC-SIGONLY"]?.status == .provisioned)
        #expect(byCode["SC-SIGONLY"]?.billingStart == nil, "no sign-only user yet")
        view = try world.portal.perform(
            UsersImport(domainId: domain, users: [.init(address: "ben@alpha-confirmed.ch", protection: .signOnly)]),
            as: admin
        ).domain
        #expect(view.services.first { $0.code == "SC-SIGONLY" }?.billingStart == CivilDate("2026-11-18"))
        #expect(view.users == UserCounts(total: 2, signOnly: 1, signEncrypt: 0))
    }

    @Test func workflowTickDeploysConfirmedServices() throws {
        let tick = try world.portal.perform(WorkflowTick(), as: op)
        #expect(
            tick.deployed.map { "\($0.domainId) \($0.service) \($0.number)" } == [
                "\(world.domains[0][1]) SC-SERVICE 1", "\(world.domains[0][1]) SC-MS365 2",
                "\(world.domains[1][1]) SC-SERVICE 1", "\(world.domains[1][1]) SC-MS365 2",
            ])
        let view = try world.portal.perform(DomainGet(domainId: world.domains[0][1]), as: op).domain
        #expect(view.services.map(\.status) == [.provisioned, .provisioning])
        #expect(try world.portal.perform(WorkflowTick(), as: op).deployed.isEmpty)
        #expect(try refusal(world, WorkflowTick(), as: world.partnerAdmin([.ALL])).code == .permissionDenied)
    }

    @Test func usersImportUpsertsLastWinsAndRemoveIgnoresUnknown() throws {
        let admin = world.partnerAdmin([.UserManagement])
        let domain = world.domains[0][0]
        var view = try world.portal.perform(
            UsersImport(
                domainId: domain,
                users: [
                    .init(address: "a@alpha-ordered.ch", protection: .signOnly),
                    .init(address: "A@ALPHA-ORDERED.CH", protection: .signEncrypt, active: false),
                    .init(address: "b@alpha-ordered.ch", protection: .none),
                ]), as: admin
        ).domain
        #expect(view.users == UserCounts(total: 1, signOnly: 0, signEncrypt: 0))
        view = try world.portal.perform(
            UsersImport(domainId: domain, users: [.init(address: "a@alpha-ordered.ch", protection: .signEncrypt)]),
            as: admin
        ).domain
        #expect(view.users == UserCounts(total: 2, signOnly: 0, signEncrypt: 1), "active defaults to true on update")
        let outside = try refusal(
            world, UsersImport(domainId: domain, users: [.init(address: "x@other.ch", protection: .none)]), as: admin)
        #expect(outside.code == .invalidDomain)
        let version = view.version
        view = try world.portal.perform(
            UsersRemove(domainId: domain, addresses: ["nobody@alpha-ordered.ch"]), as: admin
        ).domain
        #expect(view.version == version, "removing an unknown address changes nothing")
        view = try world.portal.perform(UsersRemove(domainId: domain, addresses: ["B@alpha-ordered.ch"]), as: admin)
            .domain
        #expect(view.users.total == 1)
        let page1 = try world.portal.perform(UsersList(domainId: domain, limit: 1), as: admin)
        #expect(page1.users.map(\.address) == ["a@alpha-ordered.ch"])
        #expect(page1.nextCursor == nil)
    }

    @Test func expectedVersionMismatchIsConflictWithCurrentVersion() throws {
        let admin = world.partnerAdmin([.ALL])
        let domain = try world.portal.perform(DomainGet(domainId: world.domains[0][0]), as: admin).domain
        let error = try refusal(
            world, DomainConfirm(domainId: domain.id, expectedVersion: domain.version + 5), as: admin)
        #expect(error.code == .conflict)
        #expect(error.details.currentVersion == domain.version)
        _ = try world.portal.perform(DomainConfirm(domainId: domain.id, expectedVersion: domain.version), as: admin)
        let tenant = try world.portal.perform(TenantGet(tenantId: world.tenants[0]), as: admin).tenant
        let stale = try refusal(world, TenantUpdate(tenantId: tenant.id, expectedVersion: 0, name: "New"), as: admin)
        #expect(stale.details.currentVersion == tenant.version)
        let updated = try world.portal.perform(
            TenantUpdate(
                tenantId: tenant.id, expectedVersion: tenant.version, name: "New",
                address: Address(street: "Städtle 1", postalCode: "9490", city: "Vaduz", country: "LI")), as: admin
        ).tenant
        #expect(updated.version == tenant.version + 1)
        // Liechtenstein is region CH: the tenant's live domains stay where they are.
        #expect(updated.region == .CH)
        #expect(updated.currency == "CHF")
    }

    @Test func requestKeyReplaysAndRefusesReuse() throws {
        let admin = world.partnerAdmin([.ALL])
        let request = TenantCreate(name: "Once AG", contact: contact, address: zurich)
        let first = try world.portal.perform(request, as: admin, requestKey: "k1")
        let again = try world.portal.perform(request, as: admin, requestKey: "k1")
        #expect(first == again)
        #expect(try world.portal.perform(TenantList(query: "Once"), as: admin).tenants.count == 1)
        let reused = try refusal(
            world, TenantCreate(name: "Other AG", contact: contact, address: zurich), as: admin, requestKey: "k1")
        #expect(reused.code == .requestKeyReused)
        // Keys are scoped to the actor.
        let other = world.partnerAdmin([.ALL], id: "pa-other")
        _ = try world.portal.perform(
            TenantCreate(name: "Other AG", contact: contact, address: zurich), as: other, requestKey: "k1")
    }

    @Test func tenantImportIsIdempotentByExternalId() throws {
        let partner = world.partners[0]
        let entries = [
            TenantImport.Entry(name: "CRM One", address: zurich, externalId: "crm-1", products: ["firewall"]),
            TenantImport.Entry(name: "CRM Two", address: berlin, externalId: "crm-2"),
        ]
        let first = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op).tenants
        #expect(first.map(\.source) == [.crm, .crm])
        #expect(first.map(\.managedDomains) == [0, 0])
        let events = world.journalCount
        let second = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op).tenants
        #expect(second.map(\.id) == first.map(\.id))
        #expect(world.journalCount == events, "an unchanged import records nothing")
        var changed = entries
        changed[0].name = "CRM One Renamed"
        let third = try world.portal.perform(TenantImport(partnerId: partner, tenants: changed), as: op).tenants
        #expect(third[0].id == first[0].id)
        #expect(third[0].name == "CRM One Renamed")
        #expect(third[0].version == 2)
        let listed = try world.portal.perform(TenantList(), as: world.partnerAdmin([.Support])).tenants
        #expect(listed.map(\.name).contains("CRM Two"), "tenants without cloud services are listed too")
        #expect(try refusal(world, TenantImport(partnerId: "P99", tenants: entries), as: op).code == .notFound)
        #expect(
            try refusal(world, TenantImport(partnerId: partner, tenants: entries), as: world.partnerAdmin([.ALL])).code
                == .permissionDenied)
    }

    @Test func tenantListPagesAndFilters() throws {
        let admin = world.partnerAdmin([.ALL])
        for i in 0..<5 {
            _ = try world.portal.perform(TenantCreate(name: "Page \(i)", contact: contact, address: zurich), as: admin)
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try world.portal.perform(TenantList(limit: 2, cursor: cursor), as: admin)
            #expect(page.tenants.count <= 2)
            seen += page.tenants.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen.count == 6)
        #expect(Set(seen).count == 6)
        #expect(try world.portal.perform(TenantList(query: "page 3"), as: admin).tenants.map(\.name) == ["Page 3"])
        #expect(
            try world.portal.perform(TenantList(query: "alpha-deploying"), as: admin).tenants.map(\.id) == [
                world.tenants[0]
            ])
        #expect(try world.portal.perform(TenantList(query: "beta-deploying"), as: admin).tenants.isEmpty)
        #expect(try world.portal.perform(TenantList(cursor: "T9999999999999999999"), as: admin).tenants.isEmpty)
        #expect(throws: PortalError.self) { try world.portal.perform(TenantList(limit: 0), as: admin) }
    }

    @Test func tenantCountsAndActions() throws {
        let sales = world.partnerAdmin([.Sales])
        let tenant = try world.portal.perform(TenantGet(tenantId: world.tenants[0]), as: sales)
        #expect(tenant.tenant.managedDomains == 3)
        #expect(tenant.tenant.totalServices == 6)
        #expect(tenant.tenant.actions == ["tenant.update", "domain.add", "offer.create"])
        #expect(tenant.tenant.region == .CH)
        #expect(tenant.tenant.currency == "CHF")
        let support = try world.portal.perform(
            TenantGet(tenantId: world.tenants[0]), as: world.partnerAdmin([.Support]))
        #expect(support.tenant.actions.isEmpty)
        #expect(support.domains.allSatisfy { $0.actions.isEmpty })
        let tech = try world.portal.perform(TenantGet(tenantId: world.tenants[0]), as: world.partnerAdmin([.Tech]))
        #expect(tech.domains.map(\.actions) == [["domain.confirm"], ["domain.deploy"], ["task.complete"]])
    }

    @Test func catalogPricesOnlyForThoseWhoMaySeeThem() throws {
        #expect(try world.portal.perform(CatalogGet(), as: op).services.allSatisfy { $0.prices != nil })
        #expect(
            try world.portal.perform(CatalogGet(), as: world.partnerAdmin([.Sales])).services.allSatisfy {
                $0.prices != nil
            })
        #expect(
            try world.portal.perform(CatalogGet(), as: world.partnerAdmin([.Tech])).services.allSatisfy {
                $0.prices == nil
            })
        #expect(
            try world.portal.perform(CatalogGet(), as: world.tenantAdmin([.ALL])).services.allSatisfy {
                $0.prices == nil
            })
        #expect(
            try world.portal.perform(CatalogGet(locale: "de"), as: op).services[0].name == "seppmail.cloud Basisdienst")
    }

    @Test func auditRecordsEveryChangeWithActorAndAction() throws {
        let events = try world.portal.perform(AuditList(), as: op).events
        #expect(events.map(\.seq) == Array(1...events.count))
        #expect(events.first?.action == "partner.create")
        #expect(events.contains { $0.action == "domain.deploy" && $0.target == world.domains[0][2] })
        let auditor = world.partnerAdmin([.Audit])
        let visible = try world.portal.perform(AuditList(), as: auditor).events
        #expect(!visible.isEmpty)
        #expect(visible.allSatisfy { !$0.summary.contains("beta") })
        let after = try world.portal.perform(AuditList(afterSeq: visible[1].seq, limit: 1), as: auditor)
        #expect(after.events.count == 1)
        #expect(after.events[0].seq > visible[1].seq)
        #expect(after.nextCursor != nil)
    }
}
