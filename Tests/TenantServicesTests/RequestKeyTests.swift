import Foundation
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

/// `requestKey` (a retried call is answered with the first reply): kept in the store with the operation's records, so it survives a
/// restart and is shared by every portal on the store; scoped to the actor's whole identity,
/// with roles and expert mode as params; kept for the retention period, then forgotten.
@Suite struct RequestKeyTests {
    static let op = Principal.platformOperator()
    static let address = Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH")

    static func tenantCreate(_ name: String, partner: String? = nil) -> TenantCreate {
        TenantCreate(partnerId: partner, name: name, contact: Contact(email: "it@example.ch"), address: address)
    }

    static func portal(_ store: any Store, clock: TestClock, retention: TimeInterval? = nil) throws -> Portal {
        try Portal(
            clock: clock, calendar: clock.calendar, store: store,
            requestKeyRetention: retention ?? Portal.defaultRequestKeyRetention)
    }

    // MARK: Kept in the store

    @Test func aRequestKeySurvivesARestart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock("2026-11-18")
        var store = try FileStore(directory: directory.url)
        var portal = try Self.portal(store, clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k1")
        store.close()

        store = try FileStore(directory: directory.url)
        portal = try Self.portal(store, clock: clock)
        let events = portal.journal.count
        let again = try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k1")
        #expect(again == first, "the retry after a restart replays the first result")
        #expect(portal.journal.count == events, "and applies nothing")
        #expect(try portal.perform(TenantList(), as: Self.op).tenants.count == 1)
        let reused = #expect(throws: PortalError.self) {
            _ = try portal.perform(Self.tenantCreate("B", partner: partner), as: Self.op, requestKey: "k1")
        }
        #expect(reused?.code == .requestKeyReused)
        store.close()
    }

    @Test func twoPortalsOverOneStoreShareTheirKeys() throws {
        let store = InMemoryStore()
        let clock = TestClock("2026-11-18")
        let one = try Self.portal(store, clock: clock)
        let partner = try one.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try one.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "shared")
        let records = store.load().count

        let two = try Self.portal(store, clock: clock)
        let again = try two.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "shared")
        #expect(again == first)
        #expect(store.load().count == records, "the second portal applied nothing")
        let reused = #expect(throws: PortalError.self) {
            _ = try two.perform(Self.tenantCreate("B", partner: partner), as: Self.op, requestKey: "shared")
        }
        #expect(reused?.code == .requestKeyReused)
    }

    @Test func anOperationThatChangesNothingStillKeepsItsKey() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock("2026-11-18")
        var store = try FileStore(directory: directory.url)
        var portal = try Self.portal(store, clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let entries = [TenantImport.Entry(name: "CRM One", address: Self.address, externalId: "crm-1")]
        _ = try portal.perform(TenantImport(partnerId: partner, tenants: entries), as: Self.op)
        let audit = try portal.perform(AuditList(), as: Self.op).events
        // Unchanged: records no event, but the key is kept.
        let unchanged = try portal.perform(
            TenantImport(partnerId: partner, tenants: entries), as: Self.op, requestKey: "sync-2")
        #expect(try portal.perform(AuditList(), as: Self.op).events == audit, "no audit event for no change")
        store.close()

        store = try FileStore(directory: directory.url)
        portal = try Self.portal(store, clock: clock)
        #expect(
            try portal.perform(TenantImport(partnerId: partner, tenants: entries), as: Self.op, requestKey: "sync-2")
                == unchanged)
        let other = [TenantImport.Entry(name: "CRM Two", address: Self.address, externalId: "crm-2")]
        let reused = #expect(throws: PortalError.self) {
            _ = try portal.perform(TenantImport(partnerId: partner, tenants: other), as: Self.op, requestKey: "sync-2")
        }
        #expect(reused?.code == .requestKeyReused)
        #expect(try portal.perform(AuditList(), as: Self.op).events == audit)
        store.close()
    }

    @Test func theKeyTravelsInTheSameWriteAsTheOperation() throws {
        final class Recording: Store, @unchecked Sendable {
            let inner = InMemoryStore()
            var writes: [[EventRecord]] = []
            func load() -> [EventRecord] { inner.load() }
            func write(_ records: [EventRecord]) -> StorePosition {
                writes.append(records)
                return inner.write(records)
            }
            func waitUntilDurable(_ position: StorePosition) {}
        }
        let store = Recording()
        let portal = try Self.portal(store, clock: TestClock("2026-11-18"))
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        _ = try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        let write = try #require(store.writes.last)
        #expect(write.last?.requestKey?.key == "k")
        #expect(write.last?.changes.isEmpty == false, "on the operation's own last record")
        #expect(write.dropLast().allSatisfy { $0.requestKey == nil })
    }

    /// A store whose flushes fail from a given position on.
    final class FlushFailsFrom: Store, @unchecked Sendable {
        let inner = InMemoryStore()
        var failFrom = Int64.max
        func load() -> [EventRecord] { inner.load() }
        func write(_ records: [EventRecord]) -> StorePosition { inner.write(records) }
        func waitUntilDurable(_ position: StorePosition) throws {
            if position.rawValue >= failFrom { throw StoreError("cannot flush: Input/output error") }
        }
    }

    @Test func aReplayIsAnsweredWhenTheFirstCallIsDurableWhateverCameAfter() throws {
        let store = FlushFailsFrom()
        let portal = try Self.portal(store, clock: TestClock("2026-11-18"))
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try portal.submit(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        let later = try portal.submit(Self.tenantCreate("B", partner: partner), as: Self.op)
        let replay = try portal.submit(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        store.failFrom = Int64(store.load().count)  // the later write's flush fails
        #expect(try replay.wait() == first.wait(), "the first call is durable: its replay is no failure")
        #expect(throws: PortalError.self) { _ = try later.wait() }
    }

    @Test func aReplayOfACallWhoseFlushFailsFailsToo() throws {
        let store = FlushFailsFrom()
        let portal = try Self.portal(store, clock: TestClock("2026-11-18"))
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try portal.submit(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        let replay = try portal.submit(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        store.failFrom = 0
        let error = #expect(throws: PortalError.self) { _ = try replay.wait() }
        #expect(error?.code == .storageFailure)
        #expect(throws: PortalError.self) { _ = try first.wait() }
        #expect(portal.requestKeyCount == 0, "the undone call's key is gone with it")
    }

    // MARK: Scope and params

    @Test func theSameActorIDOfAnotherPartnerHasItsOwnKeys() throws {
        let world = try World()
        let alpha = Principal(id: "pa-x", kind: .partnerAdmin, partnerId: world.partners[0], roles: [.ALL])
        let beta = Principal(id: "pa-x", kind: .partnerAdmin, partnerId: world.partners[1], roles: [.ALL])
        let first = try world.portal.perform(Self.tenantCreate("Same AG"), as: alpha, requestKey: "k")
        let second = try world.portal.perform(Self.tenantCreate("Same AG"), as: beta, requestKey: "k")
        #expect(second.tenant.partnerId == world.partners[1], "its own call, in its own partner")
        #expect(second.tenant.id != first.tenant.id)
        // A call naming the other partner's domain is not handed the other partner's reply.
        _ = try world.portal.perform(DomainConfirm(domainId: world.domains[0][0]), as: alpha, requestKey: "c")
        let error = try refusal(world, DomainConfirm(domainId: world.domains[0][0]), as: beta, requestKey: "c")
        #expect(error.code == .notFound)
    }

    @Test func theSameActorIDOfAnotherTenantHasItsOwnKeys() throws {
        let world = try World()
        let own = Principal(id: "ta-x", kind: .tenantAdmin, tenantId: world.tenants[0], roles: [.ALL])
        let other = Principal(id: "ta-x", kind: .tenantAdmin, tenantId: world.tenants[1], roles: [.ALL])
        let request = UsersImport(
            domainId: world.domains[0][1], users: [.init(address: "anna@alpha-confirmed.ch", protection: .signOnly)])
        _ = try world.portal.perform(request, as: own, requestKey: "u")
        let error = try refusal(world, request, as: other, requestKey: "u")
        #expect(error.code == .notFound, "the other tenant's admin runs its own call and cannot see the domain")
    }

    @Test func rolesAndExpertModeCountAsParams() throws {
        let world = try World()
        let sales = Principal(id: "pa-x", kind: .partnerAdmin, partnerId: world.partners[0], roles: [.Sales, .Tech])
        let first = try world.portal.perform(Self.tenantCreate("Once AG"), as: sales, requestKey: "k")
        // The same roles in another order, or repeated, are the same params.
        var reordered = sales
        reordered.roles = [.Tech, .Sales, .Tech]
        #expect(try world.portal.perform(Self.tenantCreate("Once AG"), as: reordered, requestKey: "k") == first)
        // A role that may not create tenants never gets the reply; nor do other roles or expert mode.
        var variants: [Principal] = []
        for roles in [[Role.Support], [.Audit], [.Sales], [.ALL], []] {
            var actor = sales
            actor.roles = roles
            variants.append(actor)
        }
        var expert = sales
        expert.expertMode = true
        variants.append(expert)
        for actor in variants {
            let error = try refusal(world, Self.tenantCreate("Once AG"), as: actor, requestKey: "k")
            #expect(error.code == .requestKeyReused, "\(actor.roles), expert \(actor.expertMode)")
        }
    }

    @Test func aKeyOfTheOperatorIsNotAKeyOfAPartnerAdminWithTheSameID() throws {
        let world = try World()
        let admin = Principal(id: Self.op.id, kind: .partnerAdmin, partnerId: world.partners[0], roles: [.ALL])
        let byOperator = try world.portal.perform(
            Self.tenantCreate("Op AG", partner: world.partners[1]), as: Self.op, requestKey: "k")
        let byAdmin = try world.portal.perform(Self.tenantCreate("Op AG"), as: admin, requestKey: "k")
        #expect(byAdmin.tenant.partnerId == world.partners[0])
        #expect(byAdmin.tenant.id != byOperator.tenant.id)
    }

    // MARK: Retention

    @Test func aKeyIsForgottenAfterTheRetentionByItsRecordsTime() throws {
        let clock = TestClock("2026-11-18")
        let portal = try Self.portal(InMemoryStore(), clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        clock.set(instant: clock.now().addingTimeInterval(24 * 3600 - 1))
        #expect(try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k") == first)
        #expect(portal.requestKeyCount == 1)
        clock.set(instant: clock.now().addingTimeInterval(1))
        // 24 hours on: the key may be used again, for anything.
        let next = try portal.perform(Self.tenantCreate("B", partner: partner), as: Self.op, requestKey: "k")
        #expect(next.tenant.id != first.tenant.id)
        #expect(portal.requestKeyCount == 1, "the old key was evicted, the new one is kept")
        #expect(portal.journal.filter { $0.requestKey != nil }.count == 1, "and its result left the history")
        #expect(portal.state.requestKeys.resultBytes == portal.journal.last!.requestKey!.result.utf8.count)
    }

    @Test func theRetentionIsConfigurable() throws {
        let clock = TestClock("2026-11-18")
        let portal = try Self.portal(InMemoryStore(), clock: clock, retention: 72 * 3600)
        #expect(portal.requestKeyRetention == 72 * 3600)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        clock.advance(days: 2)
        #expect(try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k") == first)
        clock.advance(days: 1)
        #expect(
            try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k").tenant.id
                != first.tenant.id)
    }

    @Test func expiredKeysAreForgottenOnLoad() throws {
        let store = InMemoryStore()
        let clock = TestClock("2026-11-18")
        let one = try Self.portal(store, clock: clock)
        let partner = try one.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        _ = try one.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k")
        clock.advance(days: 2)
        let two = try Self.portal(store, clock: clock)
        #expect(two.requestKeyCount == 0)
        #expect(two.journal.allSatisfy { $0.requestKey == nil })
        _ = try two.perform(Self.tenantCreate("B", partner: partner), as: Self.op, requestKey: "k")
    }

    @Test func aSnapshotLeavesOutExpiredKeysAndKeepsTheOthers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock("2026-11-18")
        var store = try FileStore(directory: directory.url)
        var portal = try Self.portal(store, clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let entries = [TenantImport.Entry(name: "CRM One", address: Self.address, externalId: "crm-1")]
        _ = try portal.perform(TenantImport(partnerId: partner, tenants: entries), as: Self.op)
        _ = try portal.perform(TenantImport(partnerId: partner, tenants: entries), as: Self.op, requestKey: "old-key")
        _ = try portal.perform(Self.tenantCreate("Old", partner: partner), as: Self.op, requestKey: "old-create")
        clock.advance(days: 1)
        let kept = try portal.perform(Self.tenantCreate("New", partner: partner), as: Self.op, requestKey: "new-key")
        // The history as the portal hands it to compaction: the expired keys' results are gone.
        try store.snapshot(history: portal.journal)
        store.close()
        let snapshot = try String(contentsOf: directory.file("snapshot.json"), encoding: .utf8)
        #expect(!snapshot.contains("old-key") && !snapshot.contains("old-create"), "expired keys are left out")
        #expect(snapshot.contains("new-key"))

        store = try FileStore(directory: directory.url)
        portal = try Self.portal(store, clock: clock)
        #expect(
            try portal.perform(Self.tenantCreate("New", partner: partner), as: Self.op, requestKey: "new-key") == kept)
        _ = try portal.perform(Self.tenantCreate("Other", partner: partner), as: Self.op, requestKey: "old-create")
        store.close()
    }

    @Test func automaticSnapshotsLeaveOutExpiredKeys() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = TestClock("2026-11-18")
        // Threshold 0: a snapshot (in the background) after every durable write.
        let store = try FileStore(directory: directory.url, snapshotThreshold: 0)
        let portal = try Self.portal(store, clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        _ = try portal.perform(Self.tenantCreate("Old", partner: partner), as: Self.op, requestKey: "old-create")
        // A snapshot may still run when a write asks for the next; one more write after it settles.
        #expect(store.waitForSnapshot() == nil)
        _ = try portal.perform(PartnerCreate(name: "Meanwhile"), as: Self.op)
        #expect(store.waitForSnapshot() == nil)
        #expect(try String(contentsOf: directory.file("snapshot.json"), encoding: .utf8).contains("old-create"))
        clock.advance(days: 1)
        _ = try portal.perform(PartnerCreate(name: "Later"), as: Self.op)
        #expect(store.waitForSnapshot() == nil)
        _ = try portal.perform(PartnerCreate(name: "Later still"), as: Self.op)
        #expect(store.waitForSnapshot() == nil)
        store.close()
        #expect(!(try String(contentsOf: directory.file("snapshot.json"), encoding: .utf8).contains("old-create")))
    }

    /// The memory of kept keys is their results' text, and goes when they expire.
    @Test func keptKeysCostTheirResultsAndNothingAfterEviction() throws {
        let clock = TestClock("2026-11-18")
        let portal = try Self.portal(InMemoryStore(), clock: clock)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let entries = (0..<50).map {
            TenantImport.Entry(name: "CRM \($0)", address: Self.address, externalId: "crm-\($0)")
        }
        let first = try portal.perform(TenantImport(partnerId: partner, tenants: entries), as: Self.op)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let reply = try encoder.encode(first).count
        for i in 0..<100 {
            _ = try portal.perform(TenantImport(partnerId: partner, tenants: entries), as: Self.op, requestKey: "s\(i)")
        }
        #expect(portal.requestKeyCount == 100)
        #expect(portal.state.requestKeys.resultBytes == reply, "the equal results are held once")
        let kept = portal.journal.compactMap { $0.requestKey?.result }
        #expect(kept.count == 100 && Set(kept).count == 1)
        // Distinct results each count.
        var distinct = 0
        for i in 0..<3 {
            let created = try portal.perform(
                Self.tenantCreate("New \(i)", partner: partner), as: Self.op, requestKey: "c\(i)")
            distinct += try encoder.encode(created).count
        }
        #expect(portal.state.requestKeys.resultBytes == reply + distinct)
        clock.advance(days: 1)
        _ = try portal.perform(PartnerCreate(name: "Later"), as: Self.op)
        #expect(portal.requestKeyCount == 0)
        #expect(portal.journal.allSatisfy { $0.requestKey == nil })
    }

    // MARK: Digest

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
    ])
    func sha256MatchesTheStandardVectors(input: String, expected: String) {
        #expect(SHA256.hexDigest(Array(input.utf8)) == expected)
    }
}
