import Foundation
import Synchronization
import TenantServices
import TenantServicesPostgres
import TenantServicesTesting
import Testing

/// Several portals (as several servers would) on one real PostgreSQL database, in one process.
@Suite struct PostgresStoreTests {
    static let op = Principal.platformOperator()
    static let clock = TestClock("2026-11-18")

    static func portal(_ database: PostgresTestDatabase) throws -> (Portal, PostgresStore) {
        let store = try database.store()
        return (try Portal(clock: clock, calendar: clock.calendar, store: store), store)
    }

    /// Two portals on one database (as two servers), and the partner "Acme" created through the first.
    static func twoServers(_ database: PostgresTestDatabase) throws -> (Portal, Portal, partner: String) {
        let (a, _) = try portal(database)
        let (b, _) = try portal(database)
        return (a, b, try a.perform(PartnerCreate(name: "Acme"), as: op).partner.id)
    }

    static func tenantCreate(_ name: String, partner: String) -> TenantCreate {
        TenantCreate(
            partnerId: partner, name: name, contact: Contact(email: "it@example.ch"),
            address: Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH"))
    }

    @Test func aWriteOnOneServerIsSeenByTheNextRequestOnAnother() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try Self.twoServers(database)
        let tenant = try a.perform(Self.tenantCreate("T1", partner: partner), as: Self.op).tenant
        #expect(try b.perform(TenantGet(tenantId: tenant.id), as: Self.op).tenant.name == "T1")
        // And a write on B is applied on top of A's.
        let second = try b.perform(Self.tenantCreate("T2", partner: partner), as: Self.op).tenant
        #expect(second.id != tenant.id)
        #expect(try a.perform(TenantList(), as: Self.op).tenants.map(\.name) == ["T1", "T2"])
        #expect(a.journal == b.journal)
    }

    @Test func concurrentWritersGetDistinctIDsInOneGlobalOrder() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let portals = try (0..<3).map { _ in try Self.portal(database).0 }
        let partner = try portals[0].perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let perWriter = 60
        let ids = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: portals.count) { w in
            // Pipelined: submit a run, then wait for it, so writes share commits.
            for run in 0..<(perWriter / 10) {
                let pending = (0..<10).compactMap { i in
                    try? portals[w].submit(Self.tenantCreate("W\(w)-\(run * 10 + i)", partner: partner), as: Self.op)
                }
                for p in pending { if let id = try? p.wait().tenant.id { ids.withLock { $0.append(id) } } }
            }
        }
        let all = ids.withLock { $0 }
        #expect(all.count == portals.count * perWriter)
        #expect(Set(all).count == all.count, "duplicate tenant IDs")
        let reloaded = try database.store().load()
        #expect(reloaded.map(\.seq) == Array(1...reloaded.count))
        // The partner and the prices in force (recorded with the first write), then the tenants.
        #expect(reloaded.count == 2 + portals.count * perWriter)
        for portal in portals {
            _ = try portal.perform(TenantList(limit: 1), as: Self.op)  // catch up
            #expect(portal.journal == reloaded)
        }
    }

    @Test func theSameDomainFromTwoServersIsBookedOnce() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try Self.twoServers(database)
        let t1 = try a.perform(Self.tenantCreate("T1", partner: partner), as: Self.op).tenant.id
        let t2 = try a.perform(Self.tenantCreate("T2", partner: partner), as: Self.op).tenant.id
        for round in 0..<10 {
            let name = "round\(round).ch"
            let outcomes = Locked<[Result<String, PortalError>]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let portal = i == 0 ? a : b
                let result: Result<String, PortalError>
                do {
                    result = .success(
                        try portal.perform(
                            DomainAdd(tenantId: i == 0 ? t1 : t2, name: name, mode: .inline), as: Self.op
                        ).domain.id)
                } catch let error as PortalError {
                    result = .failure(error)
                } catch {
                    result = .failure(PortalError(.storageFailure, "\(error)"))
                }
                outcomes.withLock { $0.append(result) }
            }
            let results = outcomes.withLock { $0 }
            #expect(results.filter { (try? $0.get()) != nil }.count == 1, "\(name): \(results)")
            #expect(
                results.contains { if case .failure(let e) = $0 { e.code == .conflict } else { false } },
                "\(name): \(results)")
        }
    }

    /// The write lock's hand-over needs no thread of the global queues: while they are kept busy
    /// (as a host app's parallel work, or the test run's, keeps them), the second writer still gets
    /// the lock and its `conflict`, not a 10 s lock wait and `storage-failure`. Before the fix every
    /// round here ended in a lock timeout.
    @Test func theLockIsHandedOverWhileTheGlobalQueuesAreBusy() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try Self.twoServers(database)
        let tenants = try [a, b].map { try $0.perform(Self.tenantCreate("T", partner: partner), as: Self.op).tenant.id }
        let stop = Atomic<Bool>(false)
        defer { stop.store(true, ordering: .relaxed) }
        let busy = ProcessInfo.processInfo.activeProcessorCount * 4
        for _ in 0..<busy {
            DispatchQueue.global().async { while !stop.load(ordering: .relaxed) { usleep(0) } }
        }
        for round in 0..<3 {
            let name = "busy\(round).ch"
            let outcomes = Locked<[Result<String, PortalError>]>([])
            // Threads of their own: the global queues are taken.
            let writers = [a, b].enumerated().map { i, portal in
                Thread {
                    let result = Result { () throws(PortalError) -> String in
                        try portal.perform(DomainAdd(tenantId: tenants[i], name: name, mode: .inline), as: Self.op)
                            .domain.id
                    }
                    outcomes.withLock { $0.append(result) }
                }
            }
            for writer in writers { writer.start() }
            while outcomes.withLock({ $0.count }) < 2 { Thread.sleep(forTimeInterval: 0.01) }
            let results = outcomes.withLock { $0 }
            #expect(results.filter { (try? $0.get()) != nil }.count == 1, "\(name): \(results)")
            #expect(
                results.contains { if case .failure(let e) = $0 { e.code == .conflict } else { false } },
                "\(name): \(results)")
        }
    }

    @Test func expectedVersionHoldsAcrossServers() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try Self.twoServers(database)
        let tenant = try a.perform(Self.tenantCreate("T", partner: partner), as: Self.op).tenant
        for round in 0..<10 {
            let version = try a.perform(TenantGet(tenantId: tenant.id), as: Self.op).tenant.version
            let outcomes = Locked<[Bool]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let portal = i == 0 ? a : b
                let ok =
                    (try? portal.perform(
                        TenantUpdate(tenantId: tenant.id, expectedVersion: version, name: "R\(round)-\(i)"),
                        as: Self.op)) != nil
                outcomes.withLock { $0.append(ok) }
            }
            #expect(outcomes.withLock { $0 }.filter { $0 }.count == 1, "round \(round)")
            #expect(try b.perform(TenantGet(tenantId: tenant.id), as: Self.op).tenant.version == version + 1)
        }
    }

    @Test func aRefusedWriteLetsTheOtherServersWrite() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try Self.twoServers(database)
        let tenant = try a.perform(Self.tenantCreate("T", partner: partner), as: Self.op).tenant
        #expect(throws: PortalError.self) {
            _ = try a.perform(TenantUpdate(tenantId: tenant.id, expectedVersion: 99, name: "X"), as: Self.op)
        }
        // A holds no lock now: B's write goes through at once (not after A's lock timeout).
        let start = ContinuousClock.now
        _ = try b.perform(TenantUpdate(tenantId: tenant.id, name: "Renamed"), as: Self.op)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(try a.perform(TenantGet(tenantId: tenant.id), as: Self.op).tenant.name == "Renamed")
    }

    @Test func anIdleServerIsKeptCurrentByNotifications() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, _) = try Self.portal(database)
        let (b, _) = try Self.portal(database)
        _ = try a.perform(PartnerCreate(name: "Acme"), as: Self.op)
        // B makes no request: the notification alone brings A's write into B's state.
        let deadline = ContinuousClock.now + .seconds(5)
        let written = a.journal
        while b.journal.count < written.count, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(b.journal == written)
    }

    @Test func pipelinedWritesShareCommits() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, store) = try Self.portal(database)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let commitsBefore = store.commitCount
        let pending = try (0..<50).map { try portal.submit(Self.tenantCreate("T\($0)", partner: partner), as: Self.op) }
        for p in pending { _ = try p.wait() }
        #expect(store.commitCount - commitsBefore < 5)
    }

    /// A store that keeps the write lock for `linger` after a write and under load (no fairness turn).
    static func lingeringPortal(_ database: PostgresTestDatabase, linger: Duration) throws -> (Portal, PostgresStore) {
        let store = try PostgresStore(
            location: try PostgresLocation(url: database.url), fairnessInterval: linger, lingerInterval: linger)
        return (try Portal(clock: clock, calendar: clock.calendar, store: store), store)
    }

    // Advisory locks are per database; other tests hold the same key in their own databases.
    static let heldWriteLocks = """
        SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = \(0x5453_4556_0001 & 0xFFFF_FFFF)
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """

    @Test func aLockStepWriterSendsOneStatementPerWrite() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, store) = try Self.lingeringPortal(database, linger: .seconds(60))
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        _ = try portal.perform(Self.tenantCreate("First", partner: partner), as: Self.op)
        let before = store.statementCount
        for i in 0..<10 { _ = try portal.perform(Self.tenantCreate("T\(i)", partner: partner), as: Self.op) }
        // Only the commits: the lock is still held, so nothing needs to be read or locked first.
        #expect(store.statementCount - before == 10)
        #expect(try database.store().load() == portal.journal)
    }

    @Test func anIdleWritersLockGoesAsSoonAsAnotherServerAsksForIt() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        // A would keep the lock for a minute; B's write would time out after 10 s unless A lets go.
        let (a, _) = try Self.lingeringPortal(database, linger: .seconds(60))
        let (b, _) = try Self.portal(database)
        let partner = try a.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        _ = try a.perform(Self.tenantCreate("On A", partner: partner), as: Self.op)
        #expect(try database.integer(Self.heldWriteLocks) == 1)
        let start = ContinuousClock.now
        let onB = try b.perform(Self.tenantCreate("On B", partner: partner), as: Self.op).tenant
        #expect(ContinuousClock.now - start < .seconds(5))
        // And A, asking B in turn, writes on top of B's write.
        let next = try a.perform(Self.tenantCreate("On A again", partner: partner), as: Self.op).tenant
        #expect(next.id != onB.id)
        let names = try a.perform(TenantList(), as: Self.op).tenants.map(\.name)
        #expect(names.sorted() == ["On A", "On A again", "On B"])
        // B catches up before its next request (its listener may not have run yet).
        _ = try b.perform(TenantList(), as: Self.op)
        #expect(a.journal == b.journal)
    }

    @Test func anUnwantedLockIsLetGoAfterTheLingerInterval() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, _) = try Self.lingeringPortal(database, linger: .seconds(2))
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        #expect(try database.integer(Self.heldWriteLocks) == 1)
        let deadline = ContinuousClock.now + .seconds(15)
        while try database.integer(Self.heldWriteLocks) > 0, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(try database.integer(Self.heldWriteLocks) == 0)
    }

    @Test func aLostConnectionFailsTheUncommittedWritesUndoesThemAndReconnects() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, _) = try Self.portal(database)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let before = portal.journal
        let first = try portal.submit(Self.tenantCreate("Lost 1", partner: partner), as: Self.op)
        let second = try portal.submit(Self.tenantCreate("Lost 2", partner: partner), as: Self.op)
        try database.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        let error = #expect(throws: PortalError.self) { _ = try first.wait() }
        #expect(error?.code == .storageFailure)
        #expect(portal.journal == before)
        // The next write reconnects; the second waiter is told its write failed, and is not
        // allowed to undo the new one.
        let third = try portal.submit(Self.tenantCreate("After", partner: partner), as: Self.op)
        #expect(throws: PortalError.self) { _ = try second.wait() }
        let after = try third.wait().tenant
        #expect(try portal.perform(TenantGet(tenantId: after.id), as: Self.op).tenant.name == "After")
        let reloaded = try database.store().load()
        #expect(reloaded == portal.journal)
        #expect(!reloaded.contains { $0.summary.contains("Lost") })
    }

    /// Connections that close at any moment (killed by the server, or closed by the store) never
    /// leave a request without an answer, and never take a write the database does not hold.
    @Test(.timeLimit(.minutes(1))) func connectionsClosedAtAnyMomentLeaveNoRequestUnanswered() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, store) = try Self.portal(database)
        store.observeCommits {}
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let stop = Atomic<Bool>(false)
        let closer = Thread {
            var generator = SystemRandomNumberGenerator()
            while !stop.load(ordering: .relaxed) {
                if Bool.random(using: &generator) {
                    try? database.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                } else {
                    store.close()
                    store.observeCommits {}
                }
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.01, using: &generator))
            }
        }
        closer.start()
        for i in 0..<300 {
            if i.isMultiple(of: 3) {
                _ = try? portal.perform(TenantList(limit: 1), as: Self.op)
            } else {
                _ = try? portal.perform(Self.tenantCreate("T\(i)", partner: partner), as: Self.op)
            }
        }
        stop.store(true, ordering: .relaxed)
        while !closer.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        // Once the connections stay up, the next write succeeds and the database holds what the
        // portal holds.
        try Self.expectRecovered(portal, database, partner: partner)
    }

    /// The store goes on after a fault: a write is committed within 10 s, and the database then
    /// holds exactly the portal's history.
    static func expectRecovered(_ portal: Portal, _ database: PostgresTestDatabase, partner: String) throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var written: String?
        while written == nil, ContinuousClock.now < deadline {
            written = try? portal.perform(Self.tenantCreate("After", partner: partner), as: Self.op).tenant.id
            if written == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(written != nil)
        #expect(try database.store().load() == portal.journal)
    }

    /// Makes the database refuse, when it commits, every transaction that inserted a record
    /// holding `marker` (a deferred constraint trigger: the insert itself succeeds).
    static func refuseAtCommit(recordsHolding marker: String, in database: PostgresTestDatabase) throws {
        try database.execute(
            """
            CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.record LIKE '%\(marker)%' THEN RAISE EXCEPTION 'refused at commit'; END IF;
                RETURN NULL;
            END $$
            """)
        try database.execute(
            """
            CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON tenant_services_events
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()
            """)
    }

    /// A commit that the database refuses when it commits (after the statement itself ran: a
    /// deferred constraint here; in production e.g. a full NOTIFY queue, or the session ended while
    /// it waits for the notification lock) is not acknowledged: acknowledged means committed.
    @Test(.timeLimit(.minutes(1))) func aCommitRefusedAtCommitTimeIsNotAcknowledged() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, _) = try Self.portal(database)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        try Self.refuseAtCommit(recordsHolding: "RefusedAtCommit", in: database)
        var acknowledged: String?
        do {
            acknowledged = try portal.perform(Self.tenantCreate("RefusedAtCommit", partner: partner), as: Self.op)
                .tenant.id
        } catch {
            #expect(error.code == .storageFailure)
        }
        #expect(acknowledged == nil, "acknowledged a write the database rolled back")
        // The store goes on: the next write is committed, and the database holds what the portal holds.
        try Self.expectRecovered(portal, database, partner: partner)
    }

    /// A database that stops answering (its host frozen or cut off, the connection still open) gets
    /// `storage-failure` within a bounded time instead of a request that waits forever.
    @Test(.timeLimit(.minutes(1))) func aDatabaseThatStopsAnsweringGetsStorageFailureNotAHang() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, _) = try Self.frozenSessionPortal(database, linger: .milliseconds(20))
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        Thread.sleep(forTimeInterval: 0.2)  // the idle lock is let go
        let answered = try Self.writeWithSessionFrozen(database, portal, partner: partner)
        #expect(answered != nil, "the write waited for more than 25 s")
        if case .failure(let error)? = answered { #expect(error.code == .storageFailure) }
    }

    /// A commit sent to a database that stops answering may still take effect (here: once the
    /// session runs again), so its failure says the write may be there; the database and the
    /// portal then agree.
    @Test(.timeLimit(.minutes(1))) func aCommitWithoutAReplyIsReportedAsMaybeDone() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        // The lock stays with the session, so the write's commit is what is sent to it.
        let (portal, _) = try Self.frozenSessionPortal(database, linger: .seconds(60))
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let answered = try Self.writeWithSessionFrozen(database, portal, partner: partner)
        guard case .failure(let error)? = answered else {
            Issue.record("expected storage-failure, got \(String(describing: answered))")
            return
        }
        #expect(error.code == .storageFailure)
        #expect(error.message.contains("may be there"), "\(error.message)")
        // The frozen session, running again, commits what it had received.
        let deadline = ContinuousClock.now + .seconds(10)
        var names: [String] = []
        while !names.contains("While frozen"), ContinuousClock.now < deadline {
            names = (try? portal.perform(TenantList(), as: Self.op).tenants.map(\.name)) ?? []
            if !names.contains("While frozen") { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(names == ["While frozen"])
        #expect(try database.store().load() == portal.journal)
    }

    static func frozenSessionPortal(_ database: PostgresTestDatabase, linger: Duration) throws -> (
        Portal, PostgresStore
    ) {
        // No fairness turn either: on a loaded machine more than the default 50 ms may pass before
        // the frozen write, which would then let the lock go (an unlock the frozen session never
        // answers) instead of sending its commit.
        let store = try PostgresStore(
            location: try PostgresLocation(url: database.url), fairnessInterval: linger, lingerInterval: linger,
            replyTimeout: .seconds(2))
        return (try Portal(clock: clock, calendar: clock.calendar, store: store), store)
    }

    /// Freezes the store's own session (not its listener's), its connection left open, and writes;
    /// the write's outcome if it came within 25 s. The session runs again before this returns.
    static func writeWithSessionFrozen(
        _ database: PostgresTestDatabase, _ portal: Portal, partner: String
    ) throws -> Result<String, PortalError>? {
        let pid = pid_t(
            try database.integer(
                """
                SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                    AND backend_type = 'client backend' AND query NOT LIKE 'LISTEN%'
                """))
        #expect(kill(pid, SIGSTOP) == 0)
        defer { kill(pid, SIGCONT) }
        let outcome = Locked<Result<String, PortalError>?>(nil)
        let writer = Thread {
            let result = Result { () throws(PortalError) -> String in
                try portal.perform(Self.tenantCreate("While frozen", partner: partner), as: Self.op).tenant.id
            }
            outcome.withLock { $0 = result }
        }
        writer.start()
        let deadline = ContinuousClock.now + .seconds(25)
        while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let answered = outcome.withLock { $0 }
        kill(pid, SIGCONT)
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.05) }
        return answered
    }

    /// Closing the store while a commit is in flight and other requests catch up never makes the
    /// portal apply its own write twice (read back as if another server had made it).
    @Test(.timeLimit(.minutes(1))) func closingDuringACommitNeverAppliesAWriteTwice() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, store) = try Self.portal(database)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let stop = Atomic<Bool>(false)
        let readers = (0..<2).map { _ in
            Thread {
                while !stop.load(ordering: .relaxed) { _ = try? portal.perform(TenantList(limit: 1), as: Self.op) }
            }
        }
        let closer = Thread {
            while !stop.load(ordering: .relaxed) {
                store.close()
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.005))
            }
        }
        for thread in readers + [closer] { thread.start() }
        for i in 0..<300 { _ = try? portal.perform(Self.tenantCreate("T\(i)", partner: partner), as: Self.op) }
        stop.store(true, ordering: .relaxed)
        while !(readers + [closer]).allSatisfy(\.isFinished) { Thread.sleep(forTimeInterval: 0.01) }
        let seqs = portal.journal.map(\.seq)
        #expect(seqs == Array(1...seqs.count), "the portal's history repeats or skips records")
        #expect(try database.store().load() == portal.journal)
    }

    @Test func aNewerSchemaIsRefusedWithAClearMessage() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        _ = try database.store().load()
        try database.execute("UPDATE tenant_services_schema SET version = 99")
        let error = #expect(throws: StoreError.self) { _ = try database.store().load() }
        #expect(error?.message.contains("schema version 99") == true)
        #expect(error?.message.contains("versions up to \(PostgresStore.schemaVersion)") == true)
    }

    @Test func aWrongPasswordIsNamedWithoutThePassword() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        var location = try PostgresLocation(url: database.url)
        location.password = "wrong-secret-value"
        let error = #expect(throws: StoreError.self) { _ = try PostgresStore(location: location) }
        #expect(error?.message.contains("password authentication failed") == true, "\(String(describing: error))")
        #expect(error?.message.contains("wrong-secret-value") == false)
    }

    @Test func anUnknownDatabaseIsNamed() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        var location = try PostgresLocation(url: database.url)
        location.database = "no_such_database"
        let error = #expect(throws: StoreError.self) { _ = try PostgresStore(location: location) }
        #expect(error?.message.contains("no_such_database") == true, "\(String(describing: error))")
        #expect(error?.message.contains(location.password ?? "-") == false)
    }

    @Test func urlsAreParsedAndShownWithoutThePassword() throws {
        let location = try PostgresLocation(url: "postgresql://anna:s%40cret@db.example:6543/portal", environment: [:])
        #expect(
            location
                == PostgresLocation(
                    host: "db.example", port: 6543, user: "anna", password: "s@cret", database: "portal"))
        #expect(location.description == "postgresql://anna@db.example:6543/portal")
        let fromEnvironment = try PostgresLocation(
            url: "postgres://anna@localhost/portal", environment: ["PGPASSWORD": "pw"])
        #expect(fromEnvironment.password == "pw")
        #expect(fromEnvironment.port == 5432)
        let socket = try PostgresLocation(url: "postgresql://anna@/portal?host=/run/postgresql", environment: [:])
        #expect(socket.host == "/run/postgresql")
        for bad in ["postgresql://host/db", "postgresql://anna@host/", "postgresql://anna:pw@/db"] {
            let error = #expect(throws: StoreError.self) { _ = try PostgresLocation(url: bad, environment: [:]) }
            #expect(error?.message.contains("pw") == false)
        }
    }
}

/// A value shared by threads of a test.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
