import CSQLite
import Foundation
import TenantServices
import TenantServicesFileStore

#if canImport(Glibc)
    import Glibc
#endif

/// Durable writes side by side with SQLite and a bare append+fsync loop; loading large stores;
/// the cost of a write in a small and a large store.
extension Benchmark {
    static let op = #"{"id":"ops","kind":"operator"}"#

    static func tenantCreateLine(_ i: Int) -> [UInt8] {
        Array(
            #"{"jsonrpc":"2.0","id":\#(i),"method":"tenant.create","params":{"actor":\#(op),"partnerId":"P1","name":"Tenant \#(i)","contact":{"email":"it@tenant\#(i).ch","phone":"+41 44 123 45 67"},"address":{"street":"Bahnhofstrasse 1","postalCode":"8001","city":"Zürich","country":"CH"}}}"#
                .utf8) + [0x0A]
    }

    /// Times `writes` tenant.create sent lock-step to a running server, then five times as many
    /// written at once by another thread (pipelined); `next` numbers the tenants. `afterLockStep`
    /// runs between the two, outside the timings. Returns seconds, and the pipelined count.
    func timeTenantCreates(
        on server: ServerProcess, writes: Int, next: inout Int, afterLockStep: () throws -> Void = {}
    ) rethrows -> (lockStep: Double, pipelined: Double, pipelinedCount: Int) {
        let lockStep = lockStepCreates(on: server, count: writes, next: &next)
        var number = next
        try afterLockStep()
        let count = writes * 5
        var payload: [UInt8] = []
        for _ in 0..<count {
            payload += Self.tenantCreateLine(number)
            number += 1
        }
        next = number
        let input = server.inputDescriptor
        let bytes = payload
        let writer = Thread { ServerProcess.send(bytes, to: input) }
        let pipelined = best(1) {
            writer.start()
            for _ in 0..<count { _ = server.receiveLine() }
        }
        return (lockStep, pipelined, count)
    }

    /// Seconds for `count` tenant.create sent lock-step to `server` (each reply read before the
    /// next request is sent), numbered from `next`.
    func lockStepCreates(on server: ServerProcess, count: Int, next: inout Int) -> Double {
        var number = next
        defer { next = number }
        return best(1) {
            for _ in 0..<count {
                server.send(Self.tenantCreateLine(number))
                number += 1
                _ = server.receiveLine()
            }
        }
    }

    /// Seconds for `writes` durable tenant.create through the library, one after the other.
    func libraryLockStep(_ portal: Portal, writes: Int) throws -> Double {
        let partner = try portal.perform(PartnerCreate(name: "Bench"), as: .platformOperator()).partner.id
        return try best(1) {
            for i in 0..<writes {
                _ = try portal.perform(
                    TenantCreate(
                        partnerId: partner, name: "Tenant \(i)", contact: Contact(email: "it@t.ch"),
                        address: Address(street: "S 1", postalCode: "8001", city: "Zürich", country: "CH")),
                    as: .platformOperator())
            }
        }
    }

    /// Seconds per lock-step round trip of the C jansson server (`jansson-echo`) answering a
    /// tenant.create request with `reply` (a tenant.create reply of the server): what any stdio
    /// server pays before its own work, so a lock-step ceiling without a pipe cannot be reached.
    func stdioRoundTrip(reply: [UInt8], writes: Int) throws -> Double {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let replyFile = Self.temporaryDirectory("echo").appendingPathComponent("tenant-create-reply.json")
        try Data(reply).write(to: replyFile)
        let echo = try ServerProcess(directory.appendingPathComponent("jansson-echo"), [replyFile.path])
        defer { echo.stop() }
        let line = Self.tenantCreateLine(1)
        for _ in 0..<200 {
            echo.send(line)
            _ = echo.receiveLine()
        }
        return best(1) {
            for _ in 0..<writes {
                echo.send(line)
                _ = echo.receiveLine()
            }
        } / Double(writes)
    }

    /// Seconds per lock-step tenant.create through this server on the in-memory store: its own
    /// path (pipe, parse, validate, decode, apply, encode, serialize) without any storage, the
    /// part of a durable lock-step write that no store can make cheaper.
    func inMemoryLockStep(writes: Int) throws -> Double {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tenant-services")
        let server = try ServerProcess(binary, ["serve", "--in-memory", "--log-level", "error"])
        defer { server.stop() }
        server.send(Self.partnerCreateLine)
        _ = server.receiveLine()
        var next = 1
        _ = lockStepCreates(on: server, count: 200, next: &next)  // warm-up
        return lockStepCreates(on: server, count: writes, next: &next) / Double(writes)
    }

    static func temporaryDirectory(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tenant-services-bench-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One journal line of a typical tenant.create, as the store writes it.
    static func sampleEventBytes() throws -> [UInt8] {
        let portal = try Portal(clock: ManualClock(Date(timeIntervalSince1970: 1_795_000_000)))
        let partner = try portal.perform(PartnerCreate(name: "Bench"), as: .platformOperator()).partner.id
        _ = try portal.perform(
            TenantCreate(
                partnerId: partner, name: "Tenant 1",
                contact: Contact(email: "it@tenant1.ch", phone: "+41 44 123 45 67"),
                address: Address(street: "Bahnhofstrasse 1", postalCode: "8001", city: "Zürich", country: "CH")),
            as: .platformOperator())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(portal.journal.last!)) + [0x0A]
    }

    func durableWrites() throws {
        let writes = storeWrites
        let event = try Self.sampleEventBytes()
        print(
            "\n## Durable tenant.create (\(writes) writes each; files in \(FileManager.default.temporaryDirectory.path))"
        )

        // Ceiling: append one event line and fdatasync, nothing else.
        let bare = Self.temporaryDirectory("bare")
        let fd = open(bare.appendingPathComponent("log").path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        let bareTime = best(1) {
            for _ in 0..<writes {
                _ = event.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fdatasync(fd)
            }
        }
        close(fd)

        // SQLite: WAL, synchronous=FULL, one transaction per write, the same event JSON.
        let sqliteDirectory = Self.temporaryDirectory("sqlite")
        var db: OpaquePointer?
        precondition(sqlite3_open(sqliteDirectory.appendingPathComponent("events.db").path, &db) == SQLITE_OK)
        for pragma in [
            "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
            "CREATE TABLE events(seq INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        ] {
            precondition(sqlite3_exec(db, pragma, nil, nil, nil) == SQLITE_OK, String(cString: sqlite3_errmsg(db)))
        }
        var insert: OpaquePointer?
        precondition(sqlite3_prepare_v2(db, "INSERT INTO events(body) VALUES (?)", -1, &insert, nil) == SQLITE_OK)
        let sqliteTime = best(1) {
            for _ in 0..<writes {
                event.withUnsafeBytes { bytes in
                    _ = sqlite3_bind_text(
                        insert, 1, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
                }
                precondition(sqlite3_step(insert) == SQLITE_DONE)  // autocommit: one transaction
                sqlite3_reset(insert)
            }
        }
        sqlite3_finalize(insert)
        sqlite3_close(db)

        // The server over stdio on a file store: lock-step, then pipelined.
        let storeDirectory = Self.temporaryDirectory("store")
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tenant-services")
        let server = try ServerProcess(binary, ["serve", "--store", storeDirectory.path, "--log-level", "error"])
        server.send(
            Array(
                #"{"jsonrpc":"2.0","id":0,"method":"partner.create","params":{"actor":\#(Self.op),"name":"Bench"}}"#
                    .utf8)
                + [0x0A])
        _ = server.receiveLine()
        server.send(Self.tenantCreateLine(1))
        let createReply = server.receiveLine()
        var next = 2
        let (lockStep, pipelined, pipelinedCount) = try timeTenantCreates(on: server, writes: writes, next: &next)
        server.stop()
        let roundTrip = try stdioRoundTrip(reply: createReply, writes: writes)
        let ownPath = try inMemoryLockStep(writes: writes)

        // The library in process, one thread, lock-step: the file store, then SQLite behind the same protocol.
        func lockStepWrites(_ portal: Portal) throws -> Double { try libraryLockStep(portal, writes: writes) }
        let sqliteStoreTime = try lockStepWrites(
            try Portal(store: try SQLiteStore(path: sqliteDirectory.appendingPathComponent("store.db").path)))
        let libraryDirectory = Self.temporaryDirectory("library")
        let store = try FileStore(directory: libraryDirectory)
        let portal = try Portal(store: store)
        let library = try lockStepWrites(portal)
        let partner = "P1"
        // The library in process, pipelined: 64 submitted, then waited for together (group commit).
        let flushesBefore = store.flushCount
        let libraryPipelined = try best(1) {
            for batch in 0..<(writes * 5 / 64) {
                let pending = try (0..<64).map { i in
                    try portal.submit(
                        TenantCreate(
                            partnerId: partner, name: "Batch \(batch)-\(i)", contact: Contact(email: "it@t.ch"),
                            address: Address(street: "S 1", postalCode: "8001", city: "Zürich", country: "CH")),
                        as: .platformOperator())
                }
                for response in pending { _ = try response.wait() }
            }
        }
        let libraryFlushes = store.flushCount - flushesBefore
        store.close()

        let rate = { (count: Int, time: Double) in Double(count) / time }
        let sqliteRate = rate(writes, sqliteTime)
        print(String(format: "append+fdatasync ceiling       %8.0f writes/s", rate(writes, bareTime)))
        print(
            String(
                format: "SQLite raw (WAL, synchronous=FULL, prepared INSERT of the event bytes) %8.0f writes/s",
                sqliteRate))
        print(
            String(
                format: "server lock-step (stdio)       %8.0f writes/s = %.2f× SQLite (goal ≥ 0.8×)",
                rate(writes, lockStep),
                rate(writes, lockStep) / sqliteRate))
        print(
            String(
                format:
                    "  floor of any stdio server: the C jansson round trip %.1f µs + SQLite's commit %.1f µs = %.2f× SQLite at best",
                roundTrip * 1e6, 1e6 / sqliteRate, (1 / sqliteRate) / (1 / sqliteRate + roundTrip)))
        let bareCommit = bareTime / Double(writes)
        print(
            String(
                format:
                    "  floor of this server: its own lock-step path on the in-memory store %.1f µs + the bare append+fdatasync %.1f µs = %.2f× SQLite at best",
                ownPath * 1e6, bareCommit * 1e6, (1 / sqliteRate) / (ownPath + bareCommit)))
        print(
            String(
                format: "server pipelined (stdio)       %8.0f writes/s = %.2f× SQLite (goal ≥ 5×)",
                rate(pipelinedCount, pipelined), rate(pipelinedCount, pipelined) / sqliteRate))
        let sqliteStoreRate = rate(writes, sqliteStoreTime)
        print(
            String(
                format: "library lock-step, SQLiteStore %8.0f writes/s (the same portal over SQLite)", sqliteStoreRate))
        print(
            String(
                format:
                    "library lock-step, FileStore   %8.0f writes/s = %.2f× SQLite raw, %.2f× SQLiteStore (goal ≥ 0.8×)",
                rate(writes, library), rate(writes, library) / sqliteRate, rate(writes, library) / sqliteStoreRate))
        let batched = writes * 5 / 64 * 64
        print(
            String(
                format:
                    "library pipelined, FileStore   %8.0f writes/s = %.2f× SQLite raw, %.2f× SQLiteStore (goal ≥ 3×); %d flushes for %d writes",
                rate(batched, libraryPipelined), rate(batched, libraryPipelined) / sqliteRate,
                rate(batched, libraryPipelined) / sqliteStoreRate, libraryFlushes, batched))
        for directory in [bare, sqliteDirectory, storeDirectory, libraryDirectory] {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Writes a generated history into a new file store, optionally as a snapshot.
    static func writeStore(_ records: [EventRecord], to directory: URL, snapshot: Bool) throws {
        let store = try FileStore(directory: directory)
        _ = try store.load()
        var position = StorePosition(0)
        for record in records { position = try store.write([record]) }
        try store.waitUntilDurable(position)
        if snapshot { try store.snapshot(history: records) }
        store.close()
    }

    func storeLoading() throws {
        print("\n## Loading a store (fresh process each; time to open and replay, peak memory of that process)")
        for tenants in storeLoadTenants {
            for snapshot in [false, true] {
                let directory = Self.temporaryDirectory("load")
                // Generated and written in a scope of its own, so this process holds no history
                // while the child loads it.
                let (services, domains) = try {
                    let (records, services, domains) = try Self.generatedHistory(tenants: tenants)
                    try Self.writeStore(records, to: directory, snapshot: snapshot)
                    return (services, domains)
                }()
                let size = try FileManager.default.contentsOfDirectory(
                    at: directory, includingPropertiesForKeys: [.fileSizeKey]
                )
                .reduce(0) { $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
                // Three fresh processes; the median is reported (this VM's timings vary run to run).
                var runs: [(seconds: Double, text: String)] = []
                for _ in 0..<3 {
                    let child = Process()
                    let output = Pipe()
                    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
                    child.arguments = ["--load-store", directory.path]
                    child.standardOutput = output
                    try child.run()
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    child.waitUntilExit()
                    let seconds =
                        Double(text.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
                    runs.append((seconds, text.trimmingCharacters(in: .whitespacesAndNewlines)))
                }
                runs.sort { $0.seconds < $1.seconds }
                print(
                    String(
                        format:
                            "%7d tenants / %7d domains / %8d services, %@: %6.0f MB on disk, median %@ (runs %.2f / %.2f / %.2f s; goal < 3 s)",
                        tenants, domains, services, snapshot ? "snapshot" : "journal ", Double(size) / 1e6,
                        runs[1].text,
                        runs[0].seconds, runs[1].seconds, runs[2].seconds))
                try? FileManager.default.removeItem(at: directory)
            }
        }
    }

    /// Run in a child process: opens a store, prints load time and peak memory.
    static func loadStore(_ path: String) throws {
        let start = ContinuousClock.now
        let store = try FileStore(directory: URL(fileURLWithPath: path))
        let portal = try Portal(store: store)
        let elapsed = seconds(ContinuousClock.now - start)
        print(
            String(
                format: "load %6.2f s, peak %5.0f MiB (%d events)", elapsed, residentHighWaterMiB(),
                portal.journal.count))
        store.close()
    }

    /// The peak resident set of this process since it was started (`VmHWM`): unlike `ru_maxrss`,
    /// not inherited from the parent that spawned it.
    static func residentHighWaterMiB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    /// Per-call cost of writes and reads on a small and a large store: nothing a request does
    /// should grow with the number of other tenants, domains or tasks.
    func writeCost() throws {
        print("\n## Cost of a call by store size (library, lock-step, \(storeWrites) calls each, durable writes)")
        let calls = ["tenant.create", "domain.add", "tenant.get"]
        var costs: [[Double]] = []
        for tenants in [1_000, storeCostTenants] {
            let (records, _, domains) = try Self.generatedHistory(tenants: tenants)
            let directory = Self.temporaryDirectory("cost")
            try Self.writeStore(records, to: directory, snapshot: true)
            let store = try FileStore(directory: directory)
            let portal = try Portal(store: store)
            let op = Principal.platformOperator()
            let creates = try best(1) {
                for i in 0..<storeWrites {
                    _ = try portal.perform(
                        TenantCreate(
                            partnerId: "P1", name: "New \(i)", contact: Contact(email: "it@t.ch"),
                            address: Address(street: "S 1", postalCode: "8001", city: "Zürich", country: "CH")),
                        as: op)
                }
            }
            // New names on one tenant: the booked-elsewhere check looks the name up among all domains.
            let adds = try best(1) {
                for i in 0..<storeWrites {
                    _ = try portal.perform(
                        DomainAdd(tenantId: "T1", name: "new-\(i).ch", mode: .inline, services: ["SC-F-INBOUND"]),
                        as: op)
                }
            }
            // T2 has its three generated domains: each view lists the domain's actions.
            let gets = try best(1) {
                for _ in 0..<storeWrites { _ = try portal.perform(TenantGet(tenantId: "T2"), as: op) }
            }
            store.close()
            try? FileManager.default.removeItem(at: directory)
            costs.append([creates, adds, gets].map { $0 / Double(storeWrites) * 1000 })
            print(
                String(
                    format: "%7d tenants / %7d domains: %@ ms per call", tenants, domains,
                    zip(calls, costs.last!).map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ")))
        }
        print(
            "ratio large/small: "
                + zip(calls, zip(costs[1], costs[0])).map { String(format: "%@ %.2f", $0.0, $0.1.0 / $0.1.1) }.joined(
                    separator: ", ") + " (goal ≤ 1.3)")
    }
}
