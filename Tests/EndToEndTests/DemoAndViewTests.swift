import Foundation
import Testing

/// The demo's output is fixed (golden file), and the read-only views show a store as it is, also
/// while a server holds it.
@Suite struct DemoAndViewTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/demo.txt")

    func text(_ run: Run) -> String { String(decoding: run.stdout, as: UTF8.self) }

    @Test func theDemoPrintsExactlyTheGoldenOutput() throws {
        let run = try Run.server(["demo"], input: [])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = try String(contentsOf: Self.golden, encoding: .utf8)
        let actual = text(run)
        if actual != expected {
            let diff = zip(
                actual.split(separator: "\n", omittingEmptySubsequences: false),
                expected.split(separator: "\n", omittingEmptySubsequences: false)
            ).enumerated()
                .first { $0.element.0 != $0.element.1 }
            Issue.record(
                """
                the demo's output differs from Tests/EndToEndTests/Golden/demo.txt at line \
                \((diff?.offset ?? 0) + 1): got "\(diff?.element.0 ?? "")", expected "\(diff?.element.1 ?? "")". \
                If the change is intended: swift run tenant-services demo > Tests/EndToEndTests/Golden/demo.txt
                """)
        }
        #expect(actual.contains("## 7. An offer for a prospect"))
    }

    @Test func viewsReadTheDemosStoreWhileAServerHoldsIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("views-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let demo = try Run.server(["demo", "--keep-store", directory.path], input: [])
        #expect(demo.status == 0, "\(demo.stderr)")

        // A server holds the store's lock for the rest of the test.
        let server = Process()
        server.executableURL = Run.binary
        server.arguments = ["serve", "--store", directory.path, "--log-level", "error"]
        let input = Pipe()
        let output = Pipe()
        server.standardInput = input
        server.standardOutput = output
        try server.run()
        defer {
            try? input.fileHandleForWriting.close()
            server.waitUntilExit()
        }
        // One answered request proves the server has opened (and locked) the store.
        try input.fileHandleForWriting.write(
            contentsOf: ndjson([#"{"jsonrpc":"2.0","id":1,"method":"partner.list","params":{"actor":\#(op)}}"#]))
        var reply = Data()
        while !reply.contains(0x0A) { reply += output.fileHandleForReading.availableData }

        let store = ["--store", directory.path]
        let tenants = text(try Run.server(["view", "tenants"] + store, input: []))
        #expect(tenants.contains("Muster AG  T1  2                7"), "\(tenants)")
        let tenant = text(try Run.server(["view", "tenant", "T1"] + store, input: []))
        #expect(tenant.contains("4       SC-SIGENC      provisioned  2026-11-03     10 % (nfr)"), "\(tenant)")
        let tasks = text(try Run.server(["view", "tasks"] + store, input: []))
        #expect(tasks == "No open tasks.\n")
        let csv = text(try Run.server(["view", "statement", "2026-11", "--csv"] + store, input: []))
        #expect(csv.hasPrefix("month,tenantId,tenantName,domainId,domain,service,quantity"))
        #expect(csv.contains("2026-11,T1,Muster AG,D1,muster.ch,SC-SIGENC,1,3.00,CHF,10.00,nfr,2.70"))
        let file = directory.appendingPathComponent("offer.md").path
        let offer = try Run.server(["view", "offer", "O1", "--output", file] + store, input: [])
        #expect(offer.status == 0, "\(offer.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("# Offer O1"))
        // Another partner sees none of it.
        let other = text(try Run.server(["view", "tenants", "--partner", "P2"] + store, input: []))
        #expect(!other.contains("Muster"))
    }

    @Test func aViewOfAMissingStoreSaysSo() throws {
        let run = try Run.server(["view", "tenants", "--store", "/nonexistent/store"], input: [])
        #expect(run.status != 0)
        #expect(run.stderr.contains("there is no store at /nonexistent/store"))
    }

    @Test func progressIsSilentWhenStderrIsNotATerminalUnlessAsked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Run.server(["demo", "--keep-store", directory.path], input: [])
        let quiet = try Run.server(["view", "tenants", "--store", directory.path], input: [])
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
        let asked = try Run.server(["view", "tenants", "--store", directory.path, "--progress"], input: [])
        #expect(asked.stderr.contains("reading journal.jsonl 100%"), "\(asked.stderr)")
        #expect(asked.stderr.contains("loaded 19 events"), "\(asked.stderr)")
    }

    @Test func aBigImportRunsInBatchesWithProgressAndStopsAtARefusedBatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Run.server(["demo", "--keep-store", directory.path], input: [])
        func entries(_ count: Int, inGermanyAt bad: Int? = nil) throws -> String {
            let list = (0..<count).map { i in
                [
                    "name": "CRM \(i)", "externalId": "crm-\(i)",
                    "address": [
                        "street": "S 1", "postalCode": "8000", "city": "Zürich", "country": i == bad ? "DE" : "CH",
                    ],
                ] as [String: Any]
            }
            let file = directory.appendingPathComponent("import-\(count)-\(bad ?? -1).json")
            try JSONSerialization.data(withJSONObject: list).write(to: file)
            return file.path
        }
        let store = ["--store", directory.path, "--partner", "P1"]
        let run = try Run.server(["import", "--batch", "300", "--progress", try entries(1200)] + store, input: [])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("importing"))
        #expect(run.stderr.contains("100% (1,200 of 1,200)"))
        #expect(text(run) == "1200 tenants created or updated for partner P1\n")
        let tenants = text(try Run.server(["view", "tenants", "--store", directory.path], input: []))
        #expect(tenants.split(separator: "\n").count == 2 + 1 + 1200, "the demo's tenant and the imported ones")

        // The same external IDs again update instead of creating; a refused batch stops the import:
        // here the tenant of crm-600 has a live domain and may not move to another region.
        let found = try Run.server(
            ["serve", "--store", directory.path],
            input: ndjson([
                #"{"jsonrpc":"2.0","id":1,"method":"tenant.list","params":{"actor":\#(op),"query":"crm-600"}}"#
            ]))
        let crm600 =
            try #require(
                try JSONSerialization.jsonObject(with: Data(found.stdout)) as? [String: Any]
            )["result"].flatMap { ($0 as? [String: Any])?["tenants"] as? [[String: Any]] }?.first?["id"] as? String
        let booked = try Run.server(
            ["serve", "--store", directory.path],
            input: ndjson([
                #"{"jsonrpc":"2.0","id":1,"method":"domain.add","params":{"actor":\#(op),"tenantId":"\#(crm600 ?? "")","name":"crm600.ch","mode":"inline"}}"#
            ]))
        #expect(text(booked).contains("\"result\""), "\(text(booked))")
        let refused = try Run.server(
            ["import", "--batch", "500", try entries(700, inGermanyAt: 600)] + store, input: [])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("the batch of entries 501–700 was refused"), "\(refused.stderr)")
        #expect(refused.stderr.contains("crm600.ch"), "\(refused.stderr)")
        let after = text(try Run.server(["view", "tenants", "--store", directory.path], input: []))
        #expect(after.split(separator: "\n").count == 2 + 1 + 1200, "updates only; the refused batch changed nothing")
    }

    /// The command line accepts exactly what `tenant.import` over RPC accepts: every entry is
    /// checked against its params schema first, and a refusal names the entry and the path.
    @Test func importChecksEveryEntryAgainstTheTenantImportSchema() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-schema-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try Run.server(["demo", "--keep-store", directory.path], input: [])
        let before = text(try Run.server(["view", "tenants", "--store", directory.path], input: []))
        let address: [String: Any] = ["street": "S 1", "postalCode": "8000", "city": "Zürich", "country": "CH"]
        let cases: [(Any, String)] = [
            (
                [
                    ["name": "Fine", "address": address],
                    ["name": String(repeating: "x", count: 100_000), "address": address],
                ],
                "entry 2 at /name: must be at most 500"
            ),
            ([["name": "Fine", "address": address, "extra": 1]], "entry 1 at /extra"),
            (
                [["name": "Fine", "address": address.merging(["city": "Z\u{1B}[2Jürich"]) { $1 }]],
                "entry 1 at /address/city"
            ),
            ([["name": "Fine", "address": address, "externalId": ""]], "entry 1 at /externalId"),
            (["name": "not an array"], "is not a JSON array"),
        ]
        for (i, (document, message)) in cases.enumerated() {
            let file = directory.appendingPathComponent("bad-\(i).json")
            try JSONSerialization.data(withJSONObject: document).write(to: file)
            let run = try Run.server(["import", "--store", directory.path, "--partner", "P1", file.path], input: [])
            #expect(run.status != 0)
            #expect(run.stderr.contains(message), "\(run.stderr)")
        }
        #expect(text(try Run.server(["view", "tenants", "--store", directory.path], input: [])) == before)
    }
}
