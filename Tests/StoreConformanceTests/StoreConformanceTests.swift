import Foundation
import PropertyBased
import TenantServices
import TenantServicesFileStore
import TenantServicesPostgres
import TenantServicesTesting
import Testing

/// A kind of store the conformance suite runs against.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inMemory, file, postgres

    var testDescription: String { rawValue }
}

/// The storage of one backend, from which stores are opened again and again (each a "restart").
final class Storage: @unchecked Sendable {
    let backend: Backend
    private let memory = InMemoryStore()
    private let directory: URL
    private let database: PostgresTestDatabase?

    /// Nil for PostgreSQL when there is no test cluster (see ``PostgresTestDatabase/make()``).
    static func make(_ backend: Backend) throws -> Storage? {
        var database: PostgresTestDatabase?
        if backend == .postgres {
            guard let made = try PostgresTestDatabase.make() else { return nil }
            database = made
        }
        return Storage(backend, database: database)
    }

    private init(_ backend: Backend, database: PostgresTestDatabase?) {
        self.backend = backend
        self.database = database
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tenant-services-conformance-\(UUID().uuidString)")
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// A store over the storage as it is now.
    func open() throws -> any Store {
        switch backend {
        case .inMemory: memory
        case .file: try FileStore(directory: directory, snapshotThreshold: 4096)
        case .postgres: try database!.store()
        }
    }

    func close(_ store: any Store) {
        (store as? FileStore)?.waitForSnapshot()
        (store as? FileStore)?.close()
        (store as? PostgresStore)?.close()
    }

    /// Empties the storage (between the cases of a property).
    func reset() throws {
        switch backend {
        case .inMemory: break
        case .file: try? FileManager.default.removeItem(at: directory)
        case .postgres: try database!.reset()
        }
    }
}

/// The same contract checked on every store: what was acknowledged reloads exactly, in order,
/// and what was refused or failed leaves nothing behind.
@Suite struct StoreConformanceTests {
    static let op = Principal.platformOperator()

    static func world(store: any Store) throws -> (WorldBuilder, [Principal]) {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"), store: store)
        var actors: [Principal] = [op]
        for name in ["Alpha", "Beta"] {
            let partner = try world.partner("Partner \(name)")
            let tenant = try world.tenant("Tenant \(name)", of: partner)
            try world.domain(
                "\(name.lowercased())-live.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned,
                users: [.none: 2])
            try world.domain("\(name.lowercased())-new.ch", of: tenant, mode: .parallel, status: .ordered)
            actors += Persona.allCases.filter { $0 != .platformOperator }.map {
                world.actor($0, of: partner, tenant: tenant)
            }
        }
        return (world, actors)
    }

    static func reopen(_ storage: Storage, clock: TestClock) throws -> (Portal, any Store) {
        let store = try storage.open()
        return (try Portal(clock: clock, calendar: clock.calendar, store: store), store)
    }

    @Test(arguments: Backend.allCases)
    func reloadEqualsTheStateAfterRandomOperations(_ backend: Backend) async throws {
        // The in-memory store is one object, so each case needs its own.
        let shared = backend == .inMemory ? nil : try Storage.make(backend)
        if backend != .inMemory, shared == nil { return }
        await propertyCheck(count: backend == .inMemory ? 40 : 15, input: Generators.operations(count: 1...30)) {
            steps in
            do {
                let storage = try shared ?? Storage.make(.inMemory)!
                try storage.reset()
                let store = try storage.open()
                let (world, actors) = try Self.world(store: store)
                for step in steps { _ = step.run(in: world, actors: actors) }
                let before = world.portal.journal
                storage.close(store)
                let (portal, reopened) = try Self.reopen(storage, clock: world.clock)
                #expect(portal.journal == before, "reloaded journal differs after \(steps)")
                // The same state, seen through the portal.
                let tenants = try portal.perform(TenantList(limit: 1000), as: Self.op).tenants
                let expected = try world.portal.perform(TenantList(limit: 1000), as: Self.op).tenants
                #expect(tenants == expected)
                storage.close(reopened)
            } catch {
                Issue.record("\(error) after \(steps)")
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func recordsReloadInTheOrderTheyWereAcknowledged(_ backend: Backend) throws {
        guard let storage = try Storage.make(backend) else { return }
        let clock = TestClock("2026-11-18")
        let (portal, store) = try Self.reopen(storage, clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        // Pipelined: all submitted before any is awaited, so a backend may commit them together.
        let pending = try (0..<40).map { i in
            try portal.submit(
                TenantCreate(
                    partnerId: partner, name: "T\(i)", contact: Contact(email: "it@t\(i).ch"),
                    address: Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH")), as: Self.op)
        }
        let ids = try pending.map { try $0.wait().tenant.id }
        #expect(Set(ids).count == 40)
        let journal = portal.journal
        storage.close(store)
        let reopened = try storage.open()
        let records = try reopened.load()
        #expect(records.map(\.seq) == Array(1...journal.count))
        #expect(records == journal)
        storage.close(reopened)
    }

    @Test(arguments: Backend.allCases)
    func refusedOperationsLeaveNothingBehind(_ backend: Backend) throws {
        guard let storage = try Storage.make(backend) else { return }
        let clock = TestClock("2026-11-18")
        let (portal, store) = try Self.reopen(storage, clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let tenant = try portal.perform(
            TenantCreate(
                partnerId: partner, name: "T", contact: Contact(email: "it@t.ch"),
                address: Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH")), as: Self.op
        ).tenant
        _ = try portal.perform(DomainAdd(tenantId: tenant.id, name: "t.ch", mode: .inline), as: Self.op)
        let before = portal.journal
        #expect(throws: PortalError.self) {
            _ = try portal.perform(DomainAdd(tenantId: tenant.id, name: "t.ch", mode: .inline), as: Self.op)
        }
        #expect(throws: PortalError.self) {
            _ = try portal.perform(
                TenantUpdate(tenantId: tenant.id, expectedVersion: tenant.version + 5, name: "X"), as: Self.op)
        }
        #expect(portal.journal == before)
        storage.close(store)
        let (reloaded, again) = try Self.reopen(storage, clock: clock)
        #expect(reloaded.journal == before)
        // And the next write after the refusals goes through (a shared store let go of its lock).
        _ = try reloaded.perform(TenantUpdate(tenantId: tenant.id, name: "Renamed"), as: Self.op)
        storage.close(again)
    }
}
