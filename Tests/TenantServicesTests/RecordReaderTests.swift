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

    /// `json` with a space after every `:` and `,` outside strings: the same value, not in the
    /// writer's exact form.
    static func spaced(_ json: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var inString = false
        var escaped = false
        for byte in json {
            result.append(byte)
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: ":") || byte == UInt8(ascii: ",") {
                result.append(UInt8(ascii: " "))
            }
        }
        return result
    }

    /// The reader's two ways to read a service or a user (the writer's exact form, and member by
    /// member for any other) give the same records as `JSONDecoder`, on generated histories.
    @Test(arguments: OperationStep.Mix.allCases)
    func readsTheWritersFormAndAnyOtherAlikeOnGeneratedHistories(_ mix: OperationStep.Mix) async {
        await propertyCheck(count: 10, input: Generators.operations(count: 8...30, mix: mix)) { steps in
            do {
                let (world, actors) = try PropertyTests.world()
                for step in steps { _ = step.run(in: world, actors: actors) }
                let records = world.portal.journal
                #expect(records.contains { $0.changes.contains { if case .domainSaved = $0 { true } else { false } } })
                for record in records {
                    let written = try RecordWriter.json(record)
                    let spaced = Self.spaced(written)
                    #expect(spaced.count > written.count)
                    for bytes in [written, spaced] {
                        let decoded = try JSONDecoder().decode(EventRecord.self, from: Data(bytes))
                        #expect(decoded == record)
                        #expect(try bytes.withUnsafeBytes { try RecordReader.record($0) } == decoded)
                    }
                }
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Dates of booked services are read in place when they are plain `YYYY-MM-DD`: the same as
    /// `JSONDecoder` reads (or refuses) for every day of a leap and a common year and odd forms.
    @Test func readsCivilDatesInPlaceLikeJSONDecoder() throws {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let tenant = try world.tenant("T", of: try world.partner("P"))
        // Billing starts once the domain has users that count.
        try world.domain("muster.ch", of: tenant, status: .provisioned, users: [.signEncrypt: 2])
        let record = try #require(
            world.portal.journal.last { record in
                record.changes.contains {
                    if case .domainSaved(let d) = $0 { d.services.contains { $0.billingStart != nil } } else { false }
                }
            })
        let text = String(decoding: try RecordWriter.json(record), as: UTF8.self)
        let pattern = #/"billingStart":"[^"]*"/#
        #expect(text.contains(pattern))
        var dates: [String] = []
        for year in [2024, 2026] {
            for month in 0...13 {
                for day in 0...32 { dates.append(String(format: "%04d-%02d-%02d", year, month, day)) }
            }
        }
        dates += ["0001-01-01", "9999-12-31", "2026-1-01", "2026-01-1", "+026-01-01", "2026-01-0a", "2026/01/01", ""]
        for date in dates {
            let json = Array(text.replacing(pattern, with: "\"billingStart\":\"\(date)\"").utf8)
            let fast = try? json.withUnsafeBytes { try RecordReader.record($0) }
            let slow = try? JSONDecoder().decode(EventRecord.self, from: Data(json))
            #expect(fast == slow, "\(date)")
            #expect((slow != nil) == (CivilDate(date) != nil), "\(date)")
        }
    }

    @Test(arguments: [#"{"seq":1}"#, #"{"seq":1.5,"at":0}"#, #"{"unknown":1}"#, #"[]"#, #"{"seq":1,"#])
    func refusesWhatItDoesNotKnowSoTheStoreFallsBack(text: String) {
        #expect(throws: RecordReader.Unreadable.self) {
            _ = try Array(text.utf8).withUnsafeBytes { try RecordReader.record($0) }
        }
    }
}
