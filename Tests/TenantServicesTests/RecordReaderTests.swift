import Foundation
import Logging
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

/// The store's fast record reader reads exactly what the `Codable` conformances write.
@Suite struct RecordReaderTests {
    static let address = Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH")

    // Also checks RecordWriter, the reader's counterpart.
    @Test func readsEveryRecordOfARichHistoryLikeJSONDecoder() throws {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let partner = try world.partner("Müller \"Quote\" \\ Back/slash\nNew line\t\u{01} \u{1F600}")
        let tenant = try world.tenant("Tenant Ä", of: partner)
        let domain = try world.domain(
            "muster.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned,
            users: [.signEncrypt: 2, .none: 1])
        try world.domain("muster.de", of: tenant, mode: .parallel, status: .ordered)
        let op = Principal.platformOperator()
        _ = try world.portal.perform(
            ServiceSetDiscount(domainId: domain, service: "SC-F-INBOUND", percent: 12.5, reason: .promotion), as: op)
        _ = try world.portal.perform(ServiceCancel(domainId: domain, service: "SC-F-OUTBOUND"), as: op)
        _ = try world.portal.perform(
            ServiceUncancel(domainId: domain, service: "SC-F-OUTBOUND"), as: op, requestKey: "k \"1\"\n\u{1F600}")
        _ = try world.portal.perform(
            OfferCreate(
                tenantId: tenant, lines: [.init(domain: "neu.ch", mode: .inline, services: ["SC-F-INBOUND"], users: 5)]),
            as: op)
        // Request keys of every scope, on an operation's last record and on a record of their own.
        let entries = [TenantImport.Entry(name: "CRM \"AG\"", address: Self.address, externalId: "crm-1")]
        _ = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op)
        _ = try world.portal.perform(TenantImport(partnerId: partner, tenants: entries), as: op, requestKey: "same")
        let admin = Principal(id: "pa", kind: .partnerAdmin, partnerId: partner, roles: [.ALL])
        _ = try world.portal.perform(
            TenantCreate(name: "Ä", contact: Contact(email: "a@b.ch"), address: Self.address), as: admin,
            requestKey: "pa")
        let tenantAdmin = Principal(id: "ta", kind: .tenantAdmin, tenantId: tenant, roles: [.ALL])
        _ = try world.portal.perform(
            UsersImport(domainId: domain, users: [.init(address: "neu@muster.ch", protection: .signOnly)]),
            as: tenantAdmin, requestKey: "ta")
        let encoder = RecordWriter.codableEncoder()
        let records = world.portal.journal
        #expect(records.count > 8)
        #expect(records.filter { $0.requestKey != nil }.count == 4)
        #expect(records.contains { $0.requestKey != nil && $0.changes.isEmpty })
        #expect(records.contains { $0.changes.contains { if case .pricesRecorded = $0 { true } else { false } } })
        for record in records {
            let bytes = try encoder.encode(record)
            let fast = try bytes.withUnsafeBytes { try RecordReader.record($0) }
            #expect(fast == record)
            #expect(fast == (try JSONDecoder().decode(EventRecord.self, from: bytes)))
            // The store's own writer: read back the same by both readers.
            let written = Data(try RecordWriter.json(record))
            #expect(try JSONDecoder().decode(EventRecord.self, from: written) == record)
            #expect(try written.withUnsafeBytes { try RecordReader.record($0) } == record)
        }
    }

    @Test(arguments: [#"{"seq":1}"#, #"{"seq":1.5,"at":0}"#, #"{"unknown":1}"#, #"[]"#, #"{"seq":1,"#])
    func refusesWhatItDoesNotKnowSoTheStoreFallsBack(text: String) {
        #expect(throws: RecordReader.Unreadable.self) {
            _ = try Array(text.utf8).withUnsafeBytes { try RecordReader.record($0) }
        }
    }
}
