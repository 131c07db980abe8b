import ArgumentParser
import CJanssonBaseline
import Foundation
import JanssonJSON

@main
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant-services-bench",
        abstract: "Print the project's performance figures, measured side by side in one run.")

    @Option(help: "Size of the generated JSON document for the parse benchmark, in MB.") var megabytes = 20
    @Option(help: "Messages for the per-message benchmark.") var messages = 100_000
    @Option(help: "Pipelined tenant.get requests.") var pipelined = 50_000
    @Option(help: "Lock-step tenant.get round trips.") var lockStep = 5_000
    @Option(
        help:
            "Parts to run: json, rpc, statement, store, faults, postgres, postgres-load (default: all but postgres*)."
    )
    var only: String?
    @Option(help: "How long the client of the fault benchmark sends without reading, in seconds.")
    var faultSeconds = 10
    @Option(help: "Tenants for the statement benchmark (about 10 booked services each).") var statementTenants = 100_000
    @Flag(help: "Leave out billing.statement over stdio from the statement benchmark.") var noStatementRPC = false
    @Option(help: "Lines per page of the paged billing.statement over stdio (limit, 1–10000).")
    var statementPageLimit = 10_000
    @Flag(help: "Also fetch the three statements over stdio unpaged (minutes and several GiB at 1,000,000 services).")
    var statementRPCUnpaged = false
    @Option(help: "Durable writes per measurement of the store benchmark.") var storeWrites = 1_000
    @Option(help: "Store sizes to load, in tenants (3 domains and about 10 services each).")
    var storeLoadTenants: [Int] = [10_000, 30_000, 100_000]
    @Option(help: "The large store of the write-cost comparison, in tenants.") var storeCostTenants = 100_000
    @Option(help: .hidden) var loadStore: String?
    @Option(help: .hidden) var loadPostgres: String?
    @Option(
        help:
            "The PostgreSQL cluster for --only postgres (postgresql://user:password@host:port/database; default: TENANT_SERVICES_BENCH_POSTGRES_URL); the benchmark creates and drops databases of its own there."
    )
    var postgresURL: String?
    @Option(help: "Only write a generated store of --statement-tenants tenants into this directory.")
    var generateStore: String?

    func run() throws {
        if let loadStore { return try Self.loadStore(loadStore) }
        if let loadPostgres { return try Self.loadPostgres(loadPostgres) }
        if let generateStore {
            let (records, services, _) = try Self.generatedHistory(tenants: statementTenants)
            try Self.writeStore(records, to: URL(fileURLWithPath: generateStore), snapshot: false)
            return print("wrote \(records.count) events (\(services) services) to \(generateStore)")
        }
        print(
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString)"
        )
        if only == nil || only == "json" {
            try parseThroughput()
            try perMessage()
        }
        if only == "dispatch" { try inProcessTenantGet() }
        if only == "cost" { try writeCost() }
        if only == "durable" { try durableWrites() }
        if only == nil || only == "statement" { try statements() }
        if only == nil || only == "store" {
            try durableWrites()
            try writeCost()
            try storeLoading()
        }
        if only == "postgres" || only == "postgres-load" { try postgres() }
        if only == nil || only == "rpc" {
            try inProcessTenantGet()
            try serverRoundTrips()
        }
        if only == nil || only == "faults" { try faults() }
    }

    /// Best of several runs, in seconds.
    func best(_ runs: Int = 5, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return best
    }

    func parseThroughput() throws {
        let document = Self.largeDocument(megabytes: megabytes)
        let mb = Double(document.count) / 1_000_000
        let c = document.withUnsafeBytes { buffer in
            best {
                precondition(
                    cjansson_baseline_parse(buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count, 1)
                        == 1)
            }
        }
        let swift = try best { _ = try JSONValue.parse(document) }
        print("\n## JSON parse (\(String(format: "%.1f", mb)) MB document, best of 5)")
        print(String(format: "plain jansson (C)   %7.1f MB/s", mb / c))
        print(String(format: "JanssonJSON (Swift) %7.1f MB/s", mb / swift))
        print(String(format: "ratio Swift/C time  %7.2f× (goal ≤ 1.5×)", swift / c))
    }

    struct TenantCreateParams: Decodable {
        struct Principal: Decodable {
            var id: String
            var kind: String
            var partnerId: String?
            var roles: [String]
            var expertMode: Bool?
        }
        struct Contact: Decodable {
            var email: String
            var phone: String?
        }
        struct Address: Decodable {
            var street: String
            var postalCode: String
            var city: String
            var country: String
        }
        var actor: Principal
        var name: String
        var contact: Contact
        var address: Address
        var invoiceReference: String?
        var requestKey: String?
    }

    static let request = #"""
        {"jsonrpc":"2.0","id":17,"method":"tenant.create","params":{"actor":{"id":"u-anna","kind":"partnerAdmin","partnerId":"P1","roles":["Sales"],"expertMode":false},"name":"Muster AG","contact":{"email":"it@muster.ch","phone":"+41 44 123 45 67"},"address":{"street":"Bahnhofstrasse 1","postalCode":"8001","city":"Zürich","country":"CH"},"invoiceReference":"PO-2026-117","requestKey":"8d1c0b6e-2f0e-4d8a-9a53-3f5c0d3c9e11"}}
        """#

    static let paramsSchema = #"""
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "required": ["actor", "name", "contact", "address"],
          "additionalProperties": false,
          "properties": {
            "actor": {"$ref": "#/$defs/actor"},
            "requestKey": {"type": "string", "minLength": 1, "maxLength": 200},
            "partnerId": {"type": "string"},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "contact": {"type": "object", "required": ["email"], "additionalProperties": false,
              "properties": {"email": {"type": "string", "format": "email"}, "phone": {"type": ["string", "null"]}}},
            "address": {"type": "object", "required": ["street", "postalCode", "city", "country"], "additionalProperties": false,
              "properties": {"street": {"type": "string"}, "postalCode": {"type": "string"}, "city": {"type": "string"},
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"}}},
            "invoiceReference": {"type": ["string", "null"]}
          },
          "$defs": {
            "actor": {"type": "object", "required": ["id", "kind"], "additionalProperties": false,
              "properties": {"id": {"type": "string", "minLength": 1}, "kind": {"enum": ["partnerAdmin", "tenantAdmin", "operator"]},
                "partnerId": {"type": "string"}, "tenantId": {"type": "string"},
                "roles": {"type": "array", "items": {"enum": ["Sales", "Support", "Tech", "ALL", "Audit", "UserManagement"]}, "uniqueItems": true},
                "expertMode": {"type": "boolean"}}}
          }
        }
        """#

    func perMessage() throws {
        let bytes = Array(Self.request.utf8)
        let schema = try JSONSchema(JSONValue.parse(Self.paramsSchema), options: SchemaOptions(assertFormats: true))
        let decoder = JSONValueDecoder()
        var parsed: JSONValue = .null
        let n = messages
        let parse = try best(3) { for _ in 0..<n { parsed = try JSONValue.parse(bytes) } }
        let params = parsed["params"]!
        precondition(schema.isValid(params))
        let validate = best(3) { for _ in 0..<n { precondition(schema.validate(params).isEmpty) } }
        let decode = try best(3) { for _ in 0..<n { _ = try decoder.decode(TenantCreateParams.self, from: params) } }
        let all = try best(3) {
            for _ in 0..<n {
                let message = try JSONValue.parse(bytes)
                let p = message["params"]!
                precondition(schema.validate(p).isEmpty)
                _ = try decoder.decode(TenantCreateParams.self, from: p)
            }
        }
        print("\n## Typical request (tenant.create, \(bytes.count) bytes, \(n) messages, best of 3)")
        for (name, t) in [
            ("parse", parse), ("validate params", validate), ("decode params", decode), ("all three", all),
        ] {
            print(String(format: "%-16@ %7.2f µs/message", name as NSString, t / Double(n) * 1e6))
        }
    }

    /// A deterministic document of tenants with domains and services, about `megabytes` large.
    static func largeDocument(megabytes: Int) -> [UInt8] {
        var text = "{\"tenants\":["
        var i = 0
        while text.utf8.count < megabytes * 1_000_000 {
            if i > 0 { text += "," }
            text += """
                {"id":"T\(i)","partnerId":"P\(i % 50)","name":"Tenant \(i) AG","contact":{"email":"it@t\(i).ch","phone":null},\
                "address":{"street":"Bahnhofstrasse \(i % 200)","postalCode":"\(8000 + i % 999)","city":"Zürich","country":"CH"},\
                "version":\(i % 7 + 1),"ratio":\(Double(i % 1000) / 7.0),"domains":[{"id":"D\(i)","name":"t\(i).ch","mode":"inline",\
                "services":[{"number":1,"code":"SC-SERVICE","status":"provisioned"},{"number":2,"code":"SC-F-INBOUND","status":"provisioned"},\
                {"number":3,"code":"SC-SIGENC","status":"ordered","discount":{"percent":12.5,"reason":"nfr"}}]}]}
                """
            i += 1
        }
        return Array((text + "]}").utf8)
    }
}
