import PropertyBased
import Testing

@testable import TenantServices

/// Random operation sequences by random actors of two partners against the invariants of the domain core.
@Suite struct PropertyTests {
    private static let names = ["a.ch", "b.ch", "c.de", "d.ch", "gmail.com", "bad name", "e.ch", "f.li"]
    private static let codes = Catalog.standard.services.map(\.code) + ["SC-NOPE"]

    private struct Run {
        let world: World
        let actors: [Actor]
        var lastStatus: [String: ServiceStatus] = [:]
        var lastCode: [String: String] = [:]
        var log: [String] = []

        init() throws {
            world = try World()
            var actors: [Actor] = [op]
            for p in 0..<2 {
                for role in Role.allCases {
                    actors.append(world.partnerAdmin([role], expert: role == .Sales, of: p, id: "pa\(p)-\(role)"))
                    actors.append(world.tenantAdmin([role], of: p, id: "ta\(p)-\(role)"))
                }
            }
            self.actors = actors
        }

        /// Performs one step decoded from a random number; refusals are fine, other errors are not.
        mutating func step(_ seed: Int) throws {
            var r = seed
            func pick(_ n: Int) -> Int {
                let v = r % n
                r /= n
                return v
            }
            let actor = actors[pick(actors.count)]
            let operation = pick(12)
            let side = pick(2)
            let tenant = world.tenants[side]
            let allDomains = world.portal.journal.compactMap { record -> String? in
                if case .domainSaved(let d)? = record.changes.first { return d.id }
                return nil
            }
            let domain = allDomains.isEmpty ? "D1" : allDomains[pick(allDomains.count)]
            let journal = world.journalCount
            let before = try world.snapshot()
            let description: String
            do {
                switch operation {
                case 0:
                    description = "tenant.create"
                    _ = try world.portal.perform(
                        TenantCreate(
                            partnerId: world.partners[side], name: "T\(pick(100))", contact: contact, address: zurich),
                        as: actor)
                case 1:
                    let services = (0..<pick(3)).map { _ in PropertyTests.codes[pick(PropertyTests.codes.count)] }
                    description = "domain.add \(services)"
                    _ = try world.portal.perform(
                        DomainAdd(
                            tenantId: tenant, name: PropertyTests.names[pick(PropertyTests.names.count)],
                            mode: pick(2) == 0 ? .inline : .parallel, services: services), as: actor)
                case 2:
                    description = "domain.addManually"
                    _ = try world.portal.perform(
                        DomainAddManually(tenantId: tenant, name: PropertyTests.names[pick(PropertyTests.names.count)]),
                        as: actor)
                case 3, 4:
                    let services = (0...pick(2)).map { _ in PropertyTests.codes[pick(PropertyTests.codes.count)] }
                    description = "service.add \(services) on \(domain)"
                    _ = try world.portal.perform(ServiceAdd(domainId: domain, services: services), as: actor)
                case 5:
                    description = "domain.confirm \(domain)"
                    _ = try world.portal.perform(DomainConfirm(domainId: domain), as: actor)
                case 6:
                    description = "domain.deploy \(domain)"
                    _ = try world.portal.perform(DomainDeploy(domainId: domain), as: actor)
                case 7:
                    let open = try world.portal.perform(TaskList(status: .open), as: op).tasks
                    description = "task.complete"
                    if !open.isEmpty {
                        _ = try world.portal.perform(TaskComplete(taskId: open[pick(open.count)].id), as: actor)
                    }
                case 8:
                    let name = try world.portal.perform(DomainGet(domainId: domain), as: op).domain.name
                    description = "users.import on \(domain)"
                    _ = try world.portal.perform(
                        UsersImport(
                            domainId: domain,
                            users: [
                                .init(
                                    address: "u\(pick(5))@\(name)", protection: Protection.allCases[pick(3)],
                                    active: pick(4) != 0)
                            ]),
                        as: actor)
                case 9:
                    description = "domain.setConfidential \(domain)"
                    _ = try world.portal.perform(
                        DomainSetConfidential(domainId: domain, confidential: pick(2) == 0), as: actor)
                case 10:
                    description = "workflow.tick"
                    _ = try world.portal.perform(WorkflowTick(), as: actor)
                default:
                    description = "domain.grantAccess \(domain)"
                    _ = try world.portal.perform(
                        DomainGrantAccess(domainId: domain, principalId: actors[pick(actors.count)].id), as: actor)
                }
                log.append("\(actor.id): \(description)")
            } catch let error as PortalError {
                log.append("\(actor.id): refused \(error.code)")
                guard world.journalCount == journal, try world.snapshot() == before else {
                    throw Unexpected("a refused operation changed state; steps: \(log)")
                }
            }
            try checkInvariants()
        }

        mutating func checkInvariants() throws {
            let catalog = Catalog.standard
            for tenant in world.tenants + (try world.portal.perform(TenantList(limit: 1000), as: op).tenants.map(\.id))
            {
                for domain in try world.portal.perform(TenantGet(tenantId: tenant), as: op).domains {
                    let live = domain.services.filter { $0.status.isLive }
                    let liveCodes = live.map(\.code)
                    #expect(Set(liveCodes).count == liveCodes.count, "a code is live twice on \(domain.name); \(log)")
                    #expect(domain.services.map(\.number) == Array(1...domain.services.count), "numbers \(log)")
                    for service in live where service.status >= .confirmed {
                        let entry = catalog[service.code]!
                        for dep in entry.requires {
                            #expect(liveCodes.contains(dep), "\(service.code) confirmed without \(dep); \(log)")
                        }
                        if !entry.requiresAny.isEmpty {
                            #expect(
                                entry.requiresAny.contains(where: liveCodes.contains),
                                "\(service.code) without any; \(log)")
                        }
                    }
                    for service in domain.services {
                        let key = "\(domain.id)#\(service.number)"
                        if let previous = lastStatus[key] {
                            #expect(previous <= service.status, "status moved backwards for \(key); \(log)")
                        }
                        if let code = lastCode[key] { #expect(code == service.code, "number \(key) reused; \(log)") }
                        lastStatus[key] = service.status
                        lastCode[key] = service.code
                        if service.billingStart != nil { #expect(service.provisionedAt != nil) }
                    }
                }
            }
            for actor in actors where actor.kind != .operator {
                let tenants = (try? world.portal.perform(TenantList(limit: 1000), as: actor).tenants) ?? []
                for tenant in tenants {
                    if actor.kind == .partnerAdmin {
                        #expect(tenant.partnerId == actor.partnerId, "\(actor.id) sees \(tenant.id)")
                    }
                    if actor.kind == .tenantAdmin {
                        #expect(tenant.id == actor.tenantId, "\(actor.id) sees \(tenant.id)")
                    }
                    let full = try world.portal.perform(TenantGet(tenantId: tenant.id), as: actor)
                    #expect(tenant.managedDomains == full.domains.count { $0.services.contains { $0.status.isLive } })
                    #expect(
                        tenant.totalServices == full.domains.reduce(0) { $0 + $1.services.count { $0.status.isLive } })
                }
                let tasks = (try? world.portal.perform(TaskList(limit: 1000), as: actor).tasks) ?? []
                for task in tasks {
                    #expect(
                        (try? world.portal.perform(DomainGet(domainId: task.domainId), as: op).domain.tenantId)
                            .map { tid in tenants.contains { $0.id == tid } } ?? false,
                        "\(actor.id) sees task \(task.id)")
                }
            }
        }
    }

    @Test func randomOperationSequencesKeepTheInvariants() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...40)) { steps in
            do {
                var run = try Run()
                for step in steps { try run.step(step) }
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
