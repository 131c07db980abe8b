import Foundation
import Synchronization
import TenantServices
import TenantServicesPostgres
import TenantServicesTesting
import Testing

/// Several servers on one database at awkward moments: a store closed with writes buffered, a
/// waiter that comes late, a lock that must be handed over.
@Suite struct PostgresSeveralServersTests {
    static let op = PostgresStoreTests.op

    /// Closing a store lets its write lock go, so writes it had buffered can no longer be
    /// committed in their place in the global order: they fail (and are undone) before the
    /// portal reads what another server committed at the same seqs; the portal's history then
    /// stays the database's.
    @Test(.timeLimit(.minutes(1))) func writesBufferedWhenTheStoreIsClosedFailBeforeOthersAreRead() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, storeA) = try PostgresStoreTests.portal(database)
        let (b, _) = try PostgresStoreTests.portal(database)
        let partner = try a.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let buffered = try a.submit(PostgresStoreTests.tenantCreate("Buffered on A", partner: partner), as: Self.op)
        storeA.close()
        _ = try b.perform(PostgresStoreTests.tenantCreate("On B", partner: partner), as: Self.op)
        // A reads before the buffered write's waiter came: refused or answered, never both histories.
        _ = try? a.perform(TenantList(), as: Self.op)
        #expect(throws: PortalError.self) { _ = try buffered.wait() }
        #expect(try a.perform(TenantList(), as: Self.op).tenants.map(\.name) == ["On B"])
        let seqs = a.journal.map(\.seq)
        #expect(seqs == Array(1...seqs.count), "the portal's history repeats or skips records")
        #expect(try database.store().load() == a.journal)
    }
}

extension PostgresSeveralServersTests {
    /// A session ended by the server (here `pg_terminate_backend`) after its commit and before its
    /// reply answers the commit with a FATAL error: the write is in the database, so its client is
    /// told it succeeded (looked up) or that it may be there, never that it was not made; and the
    /// portal's history stays the database's.
    @Test(.timeLimit(.minutes(1))) func aSessionEndedAfterItsCommitIsNotReportedAsNothingCommitted() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, _) = try PostgresStoreTests.portal(database)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        // As the real procedure, but the session lingers after its commit, before it answers.
        try database.execute(
            """
            CREATE OR REPLACE PROCEDURE tenant_services_commit(
                seqs bigint[], records text[], origin text, INOUT inserted bigint DEFAULT NULL)
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO tenant_services_events (seq, record) SELECT * FROM unnest(seqs, records);
                GET DIAGNOSTICS inserted = ROW_COUNT;
                PERFORM pg_notify('\(PostgresStore.notificationChannel)', seqs[cardinality(seqs)]::text || origin);
                COMMIT;
                IF EXISTS (SELECT 1 FROM unnest(records) r WHERE r LIKE '%Killed after commit%') THEN
                    PERFORM pg_sleep(30);
                END IF;
            END
            $$
            """)
        let before = try database.integer("SELECT count(*) FROM tenant_services_events")
        let outcome = Locked<Result<String, PortalError>?>(nil)
        let writer = Thread {
            let result = Result { () throws(PortalError) -> String in
                try portal.perform(
                    PostgresStoreTests.tenantCreate("Killed after commit", partner: partner), as: Self.op
                )
                .tenant.id
            }
            outcome.withLock { $0 = result }
        }
        writer.start()
        // Once the write is committed, the session that committed it is ended.
        while try database.integer("SELECT count(*) FROM tenant_services_events") == before {
            Thread.sleep(forTimeInterval: 0.02)
        }
        try database.execute(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
                AND pid <> pg_backend_pid() AND query LIKE 'CALL tenant_services_commit%'
            """)
        while outcome.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.02) }
        if case .failure(let error)? = outcome.withLock({ $0 }) {
            #expect(error.code == .storageFailure)
            #expect(error.message.contains("may be there"), "a committed write reported as not made: \(error.message)")
        }
        // The portal agrees with the database, which holds the write.
        _ = try portal.perform(TenantList(), as: Self.op)
        #expect(try portal.perform(TenantList(), as: Self.op).tenants.map(\.name) == ["Killed after commit"])
        #expect(try database.store().load() == portal.journal)
    }
}

extension PostgresSeveralServersTests {
    /// A write that failed is never acknowledged, however late its waiter comes: here after the
    /// write before it failed with it (and undid both), and a hundred failures more, each after a
    /// commit.
    @Test(.timeLimit(.minutes(1))) func aFailedWriteWhoseWaiterComesLateIsNotAcknowledged() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (portal, store) = try PostgresStoreTests.portal(database)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let first = try portal.submit(PostgresStoreTests.tenantCreate("First", partner: partner), as: Self.op)
        let late = try portal.submit(PostgresStoreTests.tenantCreate("Late", partner: partner), as: Self.op)
        store.close()  // both buffered: both fail
        #expect(throws: PortalError.self) { _ = try first.wait() }
        for i in 0..<100 {
            // A commit between two failures, so each failure is a range of its own.
            _ = try portal.perform(PostgresStoreTests.tenantCreate("Committed \(i)", partner: partner), as: Self.op)
            let failing = try portal.submit(
                PostgresStoreTests.tenantCreate("Failing \(i)", partner: partner), as: Self.op)
            store.close()
            #expect(throws: PortalError.self) { _ = try failing.wait() }
        }
        _ = try portal.perform(PostgresStoreTests.tenantCreate("Committed", partner: partner), as: Self.op)
        let answer = Result { () throws(PortalError) in try late.wait().tenant.id }
        #expect(throws: PortalError.self, "a write that failed was acknowledged") { try answer.get() }
        let names = try portal.perform(TenantList(limit: 200), as: Self.op).tenants.map(\.name)
        #expect(!names.contains("Late") && !names.contains("First") && names.count == 101)
        #expect(try database.store().load() == portal.journal)
    }
}

extension PostgresSeveralServersTests {
    /// The write lock's hand-over waits for no waiter: a server whose client does not read its
    /// replies yet (so nobody waits for its buffered writes) still lets another server write,
    /// after committing what it had buffered, instead of holding the lock past that server's
    /// 10 s lock wait.
    @Test(.timeLimit(.minutes(1))) func bufferedWritesNobodyWaitsForDoNotKeepTheLockFromOthers() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try PostgresStoreTests.twoServers(database)
        // Submitted, not yet waited for: as behind a client that reads its replies slowly.
        let unread = try a.submit(PostgresStoreTests.tenantCreate("Unread on A", partner: partner), as: Self.op)
        let onB = Result { () throws(PortalError) in
            try b.perform(PostgresStoreTests.tenantCreate("On B", partner: partner), as: Self.op).tenant.id
        }
        #expect(throws: Never.self, "B could not write while A held the lock") { try onB.get() }
        let onA = try unread.wait().tenant.id
        #expect(try onB.get() != onA)
        #expect(try b.perform(TenantList(), as: Self.op).tenants.map(\.name) == ["Unread on A", "On B"])
        #expect(try database.store().load() == b.journal)
    }
}

extension PostgresSeveralServersTests {
    /// The commit a lock hand-over makes for writes nobody waits for yet can fail too: its writes
    /// then fail for their waiter when it comes (not acknowledged), the lock goes with the session,
    /// the other server writes, and the first one recovers on the database's history.
    @Test(.timeLimit(.minutes(1))) func aFailedHandOverCommitFailsItsWritesAndLetsTheOtherServerIn() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try PostgresStoreTests.twoServers(database)
        try PostgresStoreTests.refuseAtCommit(recordsHolding: "RefusedAtCommit", in: database)
        let unread = try a.submit(PostgresStoreTests.tenantCreate("RefusedAtCommit", partner: partner), as: Self.op)
        let onB = Result { () throws(PortalError) in
            try b.perform(PostgresStoreTests.tenantCreate("On B", partner: partner), as: Self.op).tenant.id
        }
        #expect(throws: Never.self, "B could not write after A's hand-over commit failed") { try onB.get() }
        let answer = Result { () throws(PortalError) in try unread.wait().tenant.id }
        #expect(throws: PortalError.self, "acknowledged a write the database refused") { try answer.get() }
        if case .failure(let error) = answer { #expect(error.code == .storageFailure) }
        try PostgresStoreTests.expectRecovered(a, database, partner: partner)
        #expect(try b.perform(TenantList(), as: Self.op).tenants.map(\.name) == ["On B", "After"])
    }
}

extension PostgresSeveralServersTests {
    /// The same `requestKey` sent to two servers at the same moment is applied once: both get the
    /// first call's response.
    @Test(.timeLimit(.minutes(1))) func oneRequestKeySentToTwoServersAtOnceIsAppliedOnce() throws {
        guard let database = try PostgresTestDatabase.make() else { return }
        let (a, b, partner) = try PostgresStoreTests.twoServers(database)
        for round in 0..<10 {
            let ids = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let id = try? (i == 0 ? a : b).perform(
                    PostgresStoreTests.tenantCreate("Keyed \(round)", partner: partner), as: Self.op,
                    requestKey: "key-\(round)"
                ).tenant.id
                ids.withLock { $0.append(id ?? "failed") }
            }
            let both = ids.withLock { $0 }
            #expect(both.count == 2 && both[0] == both[1] && both[0] != "failed", "round \(round): \(both)")
        }
        _ = try b.perform(TenantList(), as: Self.op)
        #expect(try a.perform(TenantList(limit: 100), as: Self.op).tenants.count == 10)
        #expect(try database.store().load() == a.journal)
    }
}
