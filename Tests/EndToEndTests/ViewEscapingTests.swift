import Foundation
import TenantServices
import TenantServicesFileStore
import Testing

/// Issue 13: text params refuse control characters, but a store may still hold control characters (written by an older version, or by
/// a program on the library); `view` escapes them instead of sending them to the terminal.
@Suite struct ViewEscapingTests {
    @Test func viewsEscapeControlCharactersInWhatTheyPrint() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("escape-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try FileStore(directory: directory)
        let calendar = BusinessCalendar()
        let clock = ManualClock(calendar.start(of: CivilDate("2026-11-18")!).addingTimeInterval(12 * 3600))
        let portal = try Portal(clock: clock, store: store)
        let op = Principal.platformOperator()
        let partner = try portal.perform(PartnerCreate(name: "P"), as: op).partner.id
        let evil = "Evil\u{1B}]0;owned\u{7}\u{1B}[2J AG\u{9B}1m\u{7F}"
        let tenant = try portal.perform(
            TenantCreate(
                partnerId: partner, name: evil, contact: Contact(email: "it@evil.ch"),
                address: Address(street: "S 1", postalCode: "8000", city: "Zü\u{1B}[5mrich", country: "CH")), as: op
        ).tenant.id
        let domain = try portal.perform(DomainAdd(tenantId: tenant, name: "evil.ch", mode: .inline), as: op).domain.id
        _ = try portal.perform(DomainConfirm(domainId: domain), as: op)
        for task in try portal.perform(DomainDeploy(domainId: domain), as: op).tasks {
            _ = try portal.perform(TaskComplete(taskId: task.id), as: op)
        }
        _ = try portal.perform(
            UsersImport(domainId: domain, users: [.init(address: "a@evil.ch", protection: .none)]), as: op)
        store.close()

        let path = ["--store", directory.path]
        for arguments in [["view", "tenants"], ["view", "tenant", tenant], ["view", "statement", "2026-11"]] {
            let run = try Run.server(arguments + path, input: [])
            #expect(run.status == 0, "\(run.stderr)")
            let output = String(decoding: run.stdout, as: UTF8.self)
            #expect(
                !output.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) },
                "\(arguments): \(output.debugDescription)")
            #expect(output.contains("Evil\\u{1B}]0;owned\\u{7}\\u{1B}[2J AG\\u{9B}1m\\u{7F}"), "\(output)")
        }
        let csv = try Run.server(["view", "statement", "2026-11", "--csv"] + path, input: [])
        let text = String(decoding: csv.stdout, as: UTF8.self)
        #expect(text.contains("Evil\\u{1B}]0;owned"))
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("\r\n"), "rows still end in CRLF")
    }
}
