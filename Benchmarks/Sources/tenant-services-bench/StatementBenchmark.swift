import Foundation
import Synchronization
import TenantServices

#if canImport(Glibc)
    import Glibc
#endif

/// An event store preloaded with generated history, which it hands over on load and then forgets
/// (as a store on disk keeps no copy of the history in memory).
final class PreloadedStore: Store {
    private let records: Mutex<[EventRecord]>
    init(_ records: [EventRecord]) { self.records = Mutex(records) }
    func load() -> [EventRecord] {
        records.withLock { records in
            let all = records
            records = []
            return all
        }
    }
    func write(_ records: [EventRecord]) -> StorePosition { StorePosition(0) }
    func waitUntilDurable(_ position: StorePosition) {}
}

extension Benchmark {
    /// Peak resident set size of this process, in MiB.
    static func peakMemoryMiB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// A history of `tenants` tenants with three domains each (about ten booked services per
    /// tenant), as one record per entity: the data of the statement and store benchmarks.
    static func generatedHistory(tenants: Int) throws -> (records: [EventRecord], services: Int, domains: Int) {
        // The entity types are built from JSON templates (their memberwise initializers are internal).
        let decoder = JSONDecoder()
        func template<T: Decodable>(_ json: String) throws -> T { try decoder.decode(T.self, from: Data(json.utf8)) }
        let at = 1_793_000_000 - 978_307_200  // 2026-10-26, in Foundation's reference-date seconds
        var record: EventRecord = try template(
            #"{"seq":1,"at":\#(at),"actor":{"id":"ops","kind":"operator"},"action":"bench","target":"P1","summary":"","partnerId":"P1","changes":[{"partnerSaved":{"id":"P1","name":"Bench","createdAt":\#(at)}}]}"#
        )
        var records: [EventRecord] = [record]
        records.reserveCapacity(tenants * 4 + 1)
        var tenant: Tenant = try template(
            #"{"id":"T1","partnerId":"P1","name":"T","contact":{"email":"it@t.ch"},"address":{"street":"S","postalCode":"8000","city":"Z","country":"CH"},"source":"crm","products":[],"version":1,"createdAt":\#(at)}"#
        )
        let service: BookedService = try template(
            #"{"number":1,"code":"SC-SERVICE","status":"provisioned","orderedAt":\#(at),"confirmedAt":\#(at),"provisionedAt":\#(at),"billingStart":"2026-10-26"}"#
        )
        var domain: Domain = try template(
            #"{"id":"D1","tenantId":"T1","name":"d.ch","region":"CH","confidential":false,"access":[],"services":[],"nextServiceNumber":1,"users":[],"version":1,"createdAt":\#(at)}"#
        )
        let layouts: [[String]] = [
            ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-SIGENC"], ["SC-SERVICE", "SC-MS365", "SC-SIGONLY"],
            ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND"],
        ]
        var services = 0
        var domainNumber = 0
        func append(_ target: String, _ change: Change, tenant: String, domain: String? = nil) {
            record.seq = records.count + 1
            record.target = target
            record.tenantId = tenant
            record.domainId = domain
            record.changes = [change]
            records.append(record)
        }
        for t in 1...tenants {
            tenant.id = "T\(t)"
            tenant.name = "Tenant \(t)"
            tenant.address.country = t % 3 == 0 ? "DE" : "CH"
            append(tenant.id, .tenantSaved(tenant), tenant: tenant.id)
            for layout in layouts {
                domainNumber += 1
                domain.id = "D\(domainNumber)"
                domain.tenantId = tenant.id
                domain.name = "d\(domainNumber).ch"
                domain.region = tenant.region
                domain.lastMode = layout.contains("SC-MS365") ? .parallel : .inline
                domain.services = layout.enumerated().map { i, code in
                    var s = service
                    s.number = i + 1
                    s.code = code
                    if i == 1 { s.discount = Discount(basisPoints: 1000, reason: .volume) }
                    return s
                }
                domain.nextServiceNumber = layout.count + 1
                domain.users = (0..<(3 + domainNumber % 5)).map {
                    User(address: "u\($0)@d\(domainNumber).ch", protection: Protection.allCases[$0 % 3], active: true)
                }
                services += layout.count
                append(domain.id, .domainSaved(domain), tenant: tenant.id, domain: domain.id)
            }
        }
        return (records, services, domainNumber)
    }

    func statements() throws {
        let directory = Self.temporaryDirectory("statement")
        defer { try? FileManager.default.removeItem(at: directory) }
        try statementsInTheLibrary(writingTheStoreTo: noStatementRPC ? nil : directory)
        if !noStatementRPC { try statementsOverRPC(store: directory) }
    }

    /// The library figures; also writes the generated history as a store for the RPC figures.
    func statementsInTheLibrary(writingTheStoreTo directory: URL?) throws {
        let tenants = statementTenants
        // Only the store holds the generated history, and only until the portal has loaded it.
        let (store, events, services, domainNumber): (PreloadedStore, Int, Int, Int) = try {
            let generated = try Self.generatedHistory(tenants: tenants)
            return (PreloadedStore(generated.records), generated.records.count, generated.services, generated.domains)
        }()
        let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))  // 2026-11-18
        var portal: Portal?
        let load = try best(1) { portal = try Portal(clock: clock, store: store) }
        let op = Principal.platformOperator()
        // Only the line counts are kept, so that no statement outlives its measurement (peak memory).
        var currentLines = 0
        let now = try best(1) {
            currentLines = try portal!.perform(BillingStatement(month: Month("2026-11")!), as: op).lines.count
        }
        var pastLines = 0
        let pastTime = try best(1) {
            pastLines = try portal!.perform(BillingStatement(month: Month("2026-10")!), as: op).lines.count
        }
        let csv = try best(1) {
            _ = try portal!.perform(BillingStatement(month: Month("2026-11")!, format: .csv), as: op)
        }
        print("\n## billing.statement over \(services) booked services (\(tenants) tenants, \(domainNumber) domains)")
        print(String(format: "load (replay %d events)   %7.2f s", events, load))
        print(String(format: "current month (JSON)     %7.2f s  %d lines", now, currentLines))
        print(String(format: "current month (CSV)      %7.2f s", csv))
        print(String(format: "past month (replay)      %7.2f s  %d lines", pastTime, pastLines))
        print(String(format: "peak memory              %7.0f MiB (goals: < 1 s each, < 1 GiB)", Self.peakMemoryMiB()))
        let writes = 200
        let admin = Principal(id: "pa", kind: .partnerAdmin, partnerId: "P1", roles: [.ALL])
        let write = try best(1) {
            for i in 0..<writes {
                _ = try portal!.perform(
                    TenantCreate(
                        name: "New \(i)", contact: Contact(email: "a@b.ch"),
                        address: Address(street: "S", postalCode: "1", city: "C", country: "CH")),
                    as: admin)
            }
        }
        print(
            String(
                format: "tenant.create in memory  %7.2f ms per write at %d tenants", write / Double(writes) * 1000,
                tenants))
        // After the figures above, so that writing the store does not count in their peak memory.
        portal = nil
        if let directory {
            try Self.writeStore(Self.generatedHistory(tenants: tenants).records, to: directory, snapshot: false)
        }
    }
}

/// A server over pipes whose replies may be hundreds of megabytes, timed to their first and
/// last byte.
final class LargeReplyServer {
    private let server: ServerProcess
    private var nextId = 1

    var process: Process { server.process }

    init(_ executable: URL, _ arguments: [String]) throws {
        server = try ServerProcess(executable, arguments)
    }

    /// A round trip: the reply line, the seconds until its first byte and until its last.
    func call(_ method: String, _ params: String) -> (reply: [UInt8], firstByte: Double, whole: Double) {
        let request = #"{"jsonrpc":"2.0","id":\#(nextId),"method":"\#(method)","params":\#(params)}"#
        nextId += 1
        let start = ContinuousClock.now
        server.send(Array(request.utf8) + [0x0A])
        var firstByte: Double?
        let line = server.receiveLine { firstByte = seconds(ContinuousClock.now - start) }
        let whole = seconds(ContinuousClock.now - start)
        return (line, firstByte ?? whole, whole)
    }

    /// The peak resident set of the server so far (`VmHWM`), in MiB.
    var peakMemoryMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    func stop() { server.stop() }
}

extension Benchmark {
    /// `billing.statement` end to end over stdio, against a server on the generated store: from
    /// sending the request to the last byte of its reply, and the server's peak memory.
    func statementsOverRPC(store directory: URL) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tenant-services")
        let start = ContinuousClock.now
        let server = try LargeReplyServer(
            executable, ["serve", "--store", directory.path, "--clock", "2026-11-18T11:06:40Z", "--log-level", "error"])
        defer { server.stop() }
        let op = #"{"id":"ops","kind":"operator"}"#
        _ = server.call("partner.list", #"{"actor":\#(op)}"#)
        let load = seconds(ContinuousClock.now - start)
        let loaded = server.peakMemoryMiB
        print("\n## billing.statement over stdio (server on the same store, NDJSON, request to last byte of the reply)")
        print(String(format: "server start and load    %7.2f s, peak %5.0f MiB", load, loaded))
        let statements = [
            ("current month (JSON)", #"{"actor":\#(op),"month":"2026-11""#),
            ("current month (CSV)", #"{"actor":\#(op),"month":"2026-11","format":"csv""#),
            ("past month", #"{"actor":\#(op),"month":"2026-10""#),
        ]
        print("paged, limit \(statementPageLimit): every page in turn, following nextCursor")
        for (name, params) in statements {
            var cursor: String?
            var times: [Double] = []
            var bytes = 0
            var ok = true
            repeat {
                let page =
                    params + ",\"limit\":\(statementPageLimit)" + (cursor.map { ",\"cursor\":\"\($0)\"" } ?? "") + "}"
                let (reply, _, whole) = server.call("billing.statement", page)
                times.append(whole)
                bytes += reply.count
                ok = ok && reply.prefix(100).firstRange(of: Array(#""result":{"month":"#.utf8)) != nil
                cursor = Self.nextCursor(in: reply)
            } while cursor != nil && ok
            let sorted = times.sorted()
            print(
                name.padding(toLength: 25, withPad: " ", startingAt: 0)
                    + String(
                        format:
                            "%7.2f s for %d pages (per page: median %.3f s, slowest %.3f s, last %.3f s), %6.1f MB%@, server peak %5.0f MiB",
                        times.reduce(0, +), times.count, sorted[sorted.count / 2], sorted.last!, times.last!,
                        Double(bytes) / 1e6, ok ? "" : " NOT A RESULT", server.peakMemoryMiB))
        }
        guard statementRPCUnpaged else {
            return print("goal: each reply < 3 s and < 2 GiB (unpaged: --statement-rpc-unpaged)")
        }
        print("unpaged: the whole statement in one reply")
        for (name, params) in statements.map({ ($0.0, $0.1 + "}") }) {
            let (reply, firstByte, whole) = server.call("billing.statement", params)
            let ok = reply.prefix(100).firstRange(of: Array(#""result":{"month":"#.utf8)) != nil
            print(
                name.padding(toLength: 25, withPad: " ", startingAt: 0)
                    + String(
                        format: "%7.2f s (first byte after %.2f s), reply %6.1f MB%@, server peak %5.0f MiB", whole,
                        firstByte, Double(reply.count) / 1e6, ok ? "" : " NOT A RESULT", server.peakMemoryMiB))
        }
        print("goal: < 3 s and < 2 GiB per reply, else paging of the lines")
    }

    /// The `nextCursor` of a paged statement reply (its last member), nil when null or absent.
    static func nextCursor(in reply: [UInt8]) -> String? {
        let key = Array(#""nextCursor":""#.utf8)
        // The last member, so among the last bytes (a line's text never holds the key unescaped).
        guard let range = reply.suffix(400).firstRange(of: key) else { return nil }
        let rest = reply[range.upperBound...]
        guard let end = rest.firstIndex(of: 0x22) else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }
}
