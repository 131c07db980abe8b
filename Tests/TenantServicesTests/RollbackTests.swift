import Foundation
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct RollbackTests {
    @Test func aFailedWriteLeavesTheStateExactlyAsBefore() throws {
        let store = Toggle()
        let portal = try Portal(clock: TestClock(instant: fixedNow), store: store)
        let partner = try portal.perform(PartnerCreate(name: "P"), as: op).partner.id
        let admin = Principal(id: "a", kind: .partnerAdmin, partnerId: partner, roles: [.ALL])
        let tenant = try portal.perform(TenantCreate(name: "T", contact: contact, address: zurich), as: admin).tenant.id
        let before = try portal.perform(TenantGet(tenantId: tenant), as: admin)
        let events = portal.journal.count
        store.failing = true
        let error = #expect(throws: PortalError.self) {
            try portal.perform(DomainAdd(tenantId: tenant, name: "x.ch", mode: .inline), as: admin)
        }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains("No space left") == true)
        #expect(try portal.perform(TenantGet(tenantId: tenant), as: admin) == before)
        #expect(portal.journal.count == events)
        store.failing = false
        let domain = try portal.perform(DomainAdd(tenantId: tenant, name: "x.ch", mode: .inline), as: admin).domain
        #expect(domain.id == "D1", "the failed write did not use up an ID")
    }

    /// A store that refuses writes while `failing`, like a full disk.
    final class Toggle: Store, @unchecked Sendable {
        // Only touched by the test's single thread.
        var failing = false
        func load() -> [EventRecord] { [] }
        func write(_ records: [EventRecord]) throws -> StorePosition {
            if failing { throw DiskFull() }
            return StorePosition(0)
        }
        func waitUntilDurable(_ position: StorePosition) {}
    }

    struct DiskFull: Error, CustomStringConvertible { var description: String { "No space left on device" } }
}
