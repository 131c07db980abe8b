import Foundation
import JanssonJSON
import TenantServices
import TenantServicesFileStore
import TenantServicesRPC
import TenantServicesTesting
import Testing

/// The files the file store writes match `Schemas/store/`, for a history that touches every
/// kind of entity (partners, tenants, domains with services, users, discounts and cancellations,
/// tasks, offers).
@Suite struct StoreFormatSchemaTests {
    static let address = Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH")

    @Test func journalAndSnapshotMatchTheirSchemas() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-schema-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try FileStore(directory: directory)
        let world = try WorldBuilder(clock: TestClock("2026-11-18"), store: store)
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        let domain = try world.domain(
            "muster.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned, users: [.signEncrypt: 2])
        try world.domain("muster.de", of: tenant, mode: .parallel, status: .ordered)
        let op = Principal.platformOperator()
        _ = try world.portal.perform(
            ServiceSetDiscount(domainId: domain, service: "SC-F-INBOUND", percent: 10, reason: .volume), as: op)
        _ = try world.portal.perform(ServiceCancel(domainId: domain, service: "SC-F-OUTBOUND"), as: op)
        _ = try world.portal.perform(
            OfferCreate(
                tenantId: tenant, validUntil: CivilDate("2026-12-31")!,
                lines: [OfferCreate.LineRequest(domain: "neu.ch", mode: .inline, services: ["SC-F-INBOUND"], users: 5)]),
            as: op)
        // Request keys, on an operation's last record and on a record of their own (no change).
        let entries = [TenantImport.Entry(name: "CRM AG", address: Self.address, externalId: "crm-1")]
        _ = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op, requestKey: "i1")
        _ = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op, requestKey: "i2")
        // Half in the snapshot, half in the journal.
        try store.snapshot(history: world.portal.journal)
        try world.domain("later.ch", of: tenant, status: .confirmed)
        let admin = Principal(id: "ta", kind: .tenantAdmin, tenantId: tenant, roles: [.ALL])
        _ = try world.portal.perform(
            UsersImport(domainId: domain, users: [.init(address: "neu@muster.ch", protection: .signOnly)]), as: admin,
            requestKey: "u1")
        _ = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op, requestKey: "i3")
        store.close()

        let schemas = SchemaSet.embedded
        let snapshot = try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent("snapshot.json")))
        #expect(try schemas.storeSchema("snapshot.json").validate(snapshot).isEmpty)
        #expect(snapshot["events"]!.count > 5)
        let keys = snapshot["events"]!.elements.compactMap { $0["requestKey"] }
        #expect(keys.count == 2, "both keys are in the snapshot")
        let lines = try String(contentsOf: directory.appendingPathComponent("journal.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count > 2)
        #expect(lines.filter { $0.contains("\"requestKey\"") }.count == 2)
        let lineSchema = try schemas.storeSchema("journal-line.json")
        for line in lines {
            let errors = lineSchema.validate(try JSONValue.parse(Array(line.utf8)))
            #expect(errors.isEmpty, "\(errors) in \(line.prefix(120))")
        }
        // The schema is strict: an unknown member is refused.
        let tampered = try JSONValue.parse(
            Array(lines[1].replacingOccurrences(of: "\"part\"", with: "\"extra\":1,\"part\"").utf8))
        #expect(!lineSchema.validate(tampered).isEmpty)
        let keyLine = try #require(lines.first { $0.contains("\"requestKey\"") })
        let badDigest = try JSONValue.parse(
            Array(keyLine.replacingOccurrences(of: "\"digest\":\"", with: "\"digest\":\"x").utf8))
        #expect(!lineSchema.validate(badDigest).isEmpty, "a digest is 64 hex digits")
    }
}
