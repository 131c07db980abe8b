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
