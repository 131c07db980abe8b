import Foundation
import PostgresNIO
import TenantServices
import TenantServicesPostgres

/// Durable writes on PostgreSQL through the server, beside the file store and a bare
/// insert-and-commit loop (the ceiling); two servers at once; how soon B sees A's write.
extension Benchmark {
    func postgres() throws {
        guard
            let url = postgresURL ?? ProcessInfo.processInfo.environment["TENANT_SERVICES_BENCH_POSTGRES_URL"]
                ?? ProcessInfo.processInfo.environment["TENANT_SERVICES_TEST_POSTGRES_URL"]
        else {
            print(
                "\n## PostgreSQL: skipped (give --postgres-url or TENANT_SERVICES_BENCH_POSTGRES_URL, or run inside Tests/Postgres/with-cluster.sh)"
            )
            return
        }
        let admin = try PostgresLocation(url: url)
        if only == "postgres-load" { return try postgresLoading(admin) }
        let writes = storeWrites
        print("\n## Durable tenant.create on PostgreSQL (\(admin.host):\(admin.port), \(writes) writes each)")

        // Ceiling: one connection, one INSERT of the same event JSON per transaction (autocommit).
        let bareDatabase = try BenchDatabase(admin)
        let event = String(decoding: try Self.sampleEventBytes().dropLast(), as: UTF8.self)
        // WAL flushes of the whole cluster (nothing else writes to it meanwhile). A session reports
        // its counts when idle for a second or when it ends, so they are read after the writers'
        // sessions ended.
        func walFlushes() throws -> Int64 {
            Thread.sleep(forTimeInterval: 0.3)
            return try bareDatabase.withConnection { connection in
                try connection.query("SELECT wal_sync FROM pg_stat_wal", logger: .bench).wait().first!.decode(
                    Int64.self)
            }
        }
        var bareRound = 0
        // Run before and after the servers (the disk's flush time drifts on a shared VM): the best is the ceiling.
        func bareLoop() throws -> (seconds: Double, flushes: Int64) {
            bareRound += 1
            let table = "bench\(bareRound)"
            let flushesBefore = try walFlushes()
            let seconds = try bareDatabase.withConnection { connection in
                _ = try connection.query(
                    PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (seq bigint PRIMARY KEY, record text NOT NULL)"),
                    logger: .bench
                )
                .wait()
                _ = try connection.query("SET synchronous_commit = on", logger: .bench).wait()
                return try best(1) {
                    for i in 0..<writes {
                        var binds = PostgresBindings()
                        binds.append(Int64(i + 1))
                        binds.append(event)
                        _ = try connection.query(
                            PostgresQuery(
                                unsafeSQL: "INSERT INTO \(table) (seq, record) VALUES ($1, $2)", binds: binds),
                            logger: .bench
                        )
                        .wait()
                    }
                }
            }
            // The table's creation is one more flush.
            return (seconds, try walFlushes() - flushesBefore - 1)
        }
        let bareBefore = try bareLoop()

        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tenant-services")
        var createReply: [UInt8] = []
        func serverFigures(_ store: String) throws -> (lockStep: Double, pipelined: Double, writes: Int) {
            let server = try ServerProcess(binary, ["serve", "--store", store, "--log-level", "error"])
            defer { server.stop() }
            server.send(Self.partnerCreateLine)
            _ = server.receiveLine()
            server.send(Self.tenantCreateLine(1))
            createReply = server.receiveLine()
            var next = 2
            let (lockStep, pipelined, count) = try timeTenantCreates(on: server, writes: writes, next: &next)
            return (Double(writes) / lockStep, Double(count) / pipelined, next)
        }
        let postgresDatabase = try BenchDatabase(admin)
        let flushesBefore = try walFlushes()
        let onPostgres = try serverFigures(postgresDatabase.url)
        // Less the flushes of the tables' creation and of the partner.create.
        let serverFlushes = try walFlushes() - flushesBefore - 2
        let roundTrip = try stdioRoundTrip(reply: createReply, writes: writes)
        let ownPath = try inMemoryLockStep(writes: writes)
        // The same writes through the library in process (no stdio): the store's own path.
        let libraryDatabase = try BenchDatabase(admin)
        let libraryStore = try PostgresStore(url: libraryDatabase.url)
        let library = try libraryLockStep(try Portal(store: libraryStore), writes: writes)
        libraryStore.close()
        let bareAfter = try bareLoop()
        let bare = min(bareBefore.seconds, bareAfter.seconds)
        let fileStore = Self.temporaryDirectory("pg-compare-store")
        let onFiles = try serverFigures(fileStore.path)

        // Two servers writing at once (pipelined), and the delay from A's acknowledgement to B seeing it.
        let sharedDatabase = try BenchDatabase(admin)
        let a = try ServerProcess(binary, ["serve", "--store", sharedDatabase.url, "--log-level", "error"])
        let b = try ServerProcess(binary, ["serve", "--store", sharedDatabase.url, "--log-level", "error"])
        a.send(Self.partnerCreateLine)
        _ = a.receiveLine()
        let perServer = writes * 3
        var payloads: [[UInt8]] = [[], []]
        for i in 0..<perServer {
            payloads[0] += Self.tenantCreateLine(1_000_000 + i)
            payloads[1] += Self.tenantCreateLine(2_000_000 + i)
        }
        let (inputA, inputB, payloadA, payloadB) = (a.inputDescriptor, b.inputDescriptor, payloads[0], payloads[1])
        let start = ContinuousClock.now
        Thread { ServerProcess.send(payloadA, to: inputA) }.start()
        Thread { ServerProcess.send(payloadB, to: inputB) }.start()
        let readers = DispatchGroup()
        for server in [a, b] {
            let box = UncheckedBox(server)
            DispatchQueue.global().async(group: readers) { for _ in 0..<perServer { _ = box.value.receiveLine() } }
        }
        readers.wait()
        let together = Double(2 * perServer) / seconds(ContinuousClock.now - start)

        var delays: [Double] = []
        for i in 0..<300 {
            a.send(Self.tenantCreateLine(3_000_000 + i))
            let reply = a.receiveLine()
            let acknowledged = ContinuousClock.now
            guard let id = Self.tenantID(in: reply) else { continue }
            b.send(
                Array(
                    #"{"jsonrpc":"2.0","id":1,"method":"tenant.get","params":{"actor":\#(Self.op),"tenantId":"\#(id)"}}"#
                        .utf8) + [0x0A])
            let seen = b.receiveLine()
            precondition(!seen.starts(with: Array(#"{"jsonrpc":"2.0","id":1,"error""#.utf8)), "B did not see A's write")
            delays.append(seconds(ContinuousClock.now - acknowledged))
        }
        a.stop()
        b.stop()
        delays.sort()
        let p50 = delays[delays.count / 2] * 1000
        let p99 = delays[min(delays.count - 1, delays.count * 99 / 100)] * 1000

        let bareRate = Double(writes) / bare
        print("| writer | writes/s |")
        print("|---|---:|")
        print(
            String(
                format:
                    "| bare INSERT + COMMIT loop, one connection (ceiling: the better of %.0f before / %.0f after the servers) | %.0f |",
                Double(writes) / bareBefore.seconds, Double(writes) / bareAfter.seconds, bareRate))
        print(
            String(
                format: "| server on PostgreSQL, lock-step | %.0f (%.2f× the bare loop; goal ≥ 0.8×) |",
                onPostgres.lockStep,
                onPostgres.lockStep / bareRate))
        let bareCommit = bare / Double(writes)
        for (floor, path) in [
            ("any stdio server: the C jansson round trip", roundTrip),
            ("this server: its own lock-step path on the in-memory store", ownPath),
        ] {
            print(
                String(
                    format: "|   floor of %@ %.1f µs + the bare commit %.1f µs | at most %.2f× the bare loop |",
                    floor as NSString, path * 1e6, bareCommit * 1e6, bareCommit / (bareCommit + path)))
        }
        print(
            String(
                format: "| library on PostgreSQL, lock-step (in process, no stdio) | %.0f (%.2f× the bare loop) |",
                Double(writes) / library, bare / library))
        print(
            String(
                format: "| server on PostgreSQL, pipelined | %.0f (%.2f× the file store's; goal ≥ 0.5×) |",
                onPostgres.pipelined, onPostgres.pipelined / onFiles.pipelined))
        print(String(format: "| server on the file store, lock-step | %.0f |", onFiles.lockStep))
        print(String(format: "| server on the file store, pipelined | %.0f |", onFiles.pipelined))
        print(String(format: "| two servers on PostgreSQL at once, pipelined, together | %.0f |", together))
        print(
            String(
                format:
                    "\nWAL flushes per write: bare loop %.2f; server on PostgreSQL, lock-step then pipelined (group commit) %.2f",
                Double(bareBefore.flushes) / Double(writes), Double(serverFlushes) / Double(onPostgres.writes - 1)))
        print(
            String(
                format:
                    "\nFrom A's acknowledgement to B's reply showing the write (tenant.get on B): p50 %.2f ms, p99 %.2f ms",
                p50, p99))
    }

    /// Loading a large history from PostgreSQL in a fresh process (the goal: 1,000,000 services in under 5 s).
    func postgresLoading(_ admin: PostgresLocation) throws {
        let database = try BenchDatabase(admin)
        let (count, services, domains) = try {
            let (records, services, domains) = try Self.generatedHistory(tenants: statementTenants)
            _ = try PostgresStore(url: database.url).load()  // creates the tables
            try database.withConnection { connection in
                for start in stride(from: 0, to: records.count, by: 5000) {
                    let batch = records[start..<min(start + 5000, records.count)]
                    var binds = PostgresBindings()
                    binds.append(batch.map { Int64($0.seq) })
                    binds.append(try batch.map { String(decoding: try RecordCodec.encode($0), as: UTF8.self) })
                    _ = try connection.query(
                        PostgresQuery(
                            unsafeSQL:
                                "INSERT INTO tenant_services_events (seq, record) SELECT * FROM unnest($1::bigint[], $2::text[])",
                            binds: binds), logger: .bench
                    ).wait()
                }
            }
            return (records.count, services, domains)
        }()
        var runs: [Double] = []
        var text = ""
        for _ in 0..<3 {
            let child = Process()
            let output = Pipe()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["--load-postgres", database.url]
            child.standardOutput = output
            try child.run()
            text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            runs.append(
                Double(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0)
        }
        runs.sort()
        print(
            String(
                format:
                    "\nLoading from PostgreSQL, fresh process: %d tenants / %d domains / %d services (%d events): median %.2f s (runs %.2f / %.2f / %.2f s; goal < 5 s); %@",
                statementTenants, domains, services, count, runs[1], runs[0], runs[1], runs[2],
                text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func loadPostgres(_ url: String) throws {
        let start = ContinuousClock.now
        let portal = try Portal(store: try PostgresStore(url: url))
        let elapsed = seconds(ContinuousClock.now - start)
        print(
            String(
                format: "load %6.2f s, peak %5.0f MiB (%d events)", elapsed, residentHighWaterMiB(),
                portal.journal.count))
    }

    static let partnerCreateLine =
        Array(#"{"jsonrpc":"2.0","id":0,"method":"partner.create","params":{"actor":\#(op),"name":"Bench"}}"#.utf8) + [
            0x0A
        ]

    static func tenantID(in reply: [UInt8]) -> String? {
        let text = String(decoding: reply, as: UTF8.self)
        guard let range = text.range(of: #""tenant":{"#) else { return nil }
        let rest = text[range.upperBound...]
        guard let id = rest.range(of: #""id":""#) else { return nil }
        return String(rest[id.upperBound...].prefix { $0 != "\"" })
    }
}

/// Hands a non-Sendable value to one other thread.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

extension Logger {
    static let bench = Logger(label: "tenant-services-bench")
}

/// A fresh database on the benchmark's cluster, dropped when done.
final class BenchDatabase {
    let admin: PostgresLocation
    let name = "ts_bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init(_ admin: PostgresLocation) throws {
        self.admin = admin
        try Self.connect(admin) {
            _ = try $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: .bench).wait()
        }
    }

    deinit {
        let name = name
        try? Self.connect(admin) {
            _ = try $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: .bench)
                .wait()
        }
    }

    var url: String {
        let password =
            admin.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? ""
        return "postgresql://\(admin.user)\(password)@\(admin.host):\(admin.port)/\(name)"
    }

    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        var location = admin
        location.database = name
        return try Self.connect(location, body)
    }

    static func connect<T>(_ location: PostgresLocation, _ body: (PostgresConnection) throws -> T) throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        let connection = try PostgresConnection.connect(
            on: group.next(), configuration: configuration, id: 0, logger: .bench
        ).wait()
        defer { _ = try? connection.close().wait() }
        return try body(connection)
    }
}
