import ArgumentParser
import Foundation
import JSONRPC
import JanssonJSON
import Logging
import TenantServices
import TenantServicesFileStore
import TenantServicesPostgres
import TenantServicesRPC

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the JSON-RPC 2.0 server on stdin/stdout.",
        discussion: """
            Framing is detected from the first byte ({ or [: one JSON message per line; C: Content-Length \
            frames) unless --framing is given. stdout carries protocol messages only; logs go to stderr. \
            State lives in the store directory (created on first use; one server per directory): every \
            change is answered only once it is on disk. With --store postgresql://user@host:port/database \
            (password in the URL or PGPASSWORD) any number of servers share one PostgreSQL database. \
            --in-memory keeps it in memory instead.
            """)

    enum FramingOption: String, ExpressibleByArgument, CaseIterable {
        case auto, ndjson, lsp
    }

    @OptionGroup var options: GlobalOptions
    @OptionGroup var location: StoreOptions
    @Flag(help: "Keep state in memory only (tests, experiments); --store is ignored.") var inMemory = false
    @Option(help: "Journal size in MiB past which a snapshot is written.") var snapshotMib = 64
    @Option(help: "A catalog JSON file to use instead of the default.") var catalog: String?
    @Option(help: "Message framing: auto, ndjson or lsp.") var framing: FramingOption = .auto
    @Option(help: "Run on a fixed test clock starting at this RFC 3339 instant; enables clock.get and clock.set.")
    var clock: String?
    @Option(help: "Hours a requestKey is kept after the call that used it (at least 24).")
    var requestKeyHours = 24
    @Option(help: "Largest message in bytes.") var maxMessageBytes = Limits().maxMessageBytes
    @Option(help: "Most requests in one batch.") var maxBatchSize = Limits().maxBatchSize
    @Option(help: "Deepest nesting of arrays and objects.") var maxDepth = Limits().maxDepth
    @Option(help: "Bytes in flight (requests read, replies not yet written) past which reading pauses.")
    var maxBytesInFlight = Limits().maxBytesInFlight
    /// Crash-point tests: SIGKILL at the Nth storage call of the store's snapshots.
    @Option(help: .hidden) var crashAtSnapshotCall: Int?

    func validate() throws {
        _ = try clockStart()
        guard requestKeyHours >= 24, requestKeyHours <= 24 * 366 else {
            throw ValidationError(
                "--request-key-hours \(requestKeyHours) is out of range: request keys are kept at least 24 hours (so a client can retry a day later) and at most 8784 (a year)"
            )
        }
    }

    /// The first instant of `--clock`, checked: an RFC 3339 instant on a date the portal handles.
    func clockStart() throws -> Date? {
        guard let clock else { return nil }
        // Read as `clock.set` reads it (Foundation's ISO 8601 parser counts Julian dates before 1582).
        guard let start = try? JSONValueDecoder().decode(Date.self, from: JSONValue(clock)) else {
            throw ValidationError("--clock '\(clock)' is not an RFC 3339 instant such as 2026-11-27T09:00:00Z")
        }
        if let refusal = try location.calendar().dateRuleRefusal(at: start) {
            throw ValidationError("--clock '\(clock)': \(refusal.message)")
        }
        return start
    }

    func run() throws {
        // First of all: /dev/null on closed standard descriptors, then stdout kept for protocol only.
        let output = StreamServer.protectStandardOutput()
        options.bootstrap()
        let log = Logger(label: "tenant-services.serve")
        let testClock = try clockStart().map(ManualClock.init)
        if let catalog {
            try checkCatalogFile(catalog)
        }
        let backend: any Store
        let progress = ProgressLine(forced: options.progress)
        if inMemory {
            backend = InMemoryStore()
        } else {
            backend = try openBackend(
                location.store, progress: progress, snapshotThreshold: Int64(snapshotMib) << 20,
                faults: crashAtSnapshotCall.map(FileStore.crashing(atSnapshotCall:)))
        }
        let portal = try Portal(
            catalog: try loadCatalog(catalog), clock: testClock ?? SystemClock(),
            calendar: try location.calendar(), store: backend,
            requestKeyRetention: TimeInterval(requestKeyHours) * 3600)
        progress.finish(
            "loaded \(portal.journal.count.formatted()) events from \(inMemory ? "memory" : location.storeName)")
        if let reason = (backend as? FileStore)?.readOnlyReason {
            log.warning("serving read-only", metadata: ["reason": "\(reason)"])
        }
        let limits = Limits(
            maxMessageBytes: maxMessageBytes, maxBatchSize: maxBatchSize, maxDepth: maxDepth,
            maxBytesInFlight: maxBytesInFlight)
        let dispatcher = Dispatcher(
            methods: try TenantServicesMethods.table(portal: portal, clock: testClock), limits: limits,
            onInternalError: { method, error in
                log.error("internal error", metadata: ["method": "\(method)", "error": "\(error)"])
            })
        log.notice(
            "serving JSON-RPC on stdio",
            metadata: [
                "store": "\(inMemory ? "in memory" : location.storeName)", "clock": "\(clock ?? "system")",
                "zone": "\(location.timeZone)",
            ])
        let chosen: Framing? =
            switch framing {
            case .auto: nil
            case .ndjson: .ndjson
            case .lsp: .lsp
            }
        try StreamServer.run(input: 0, output: output, framing: chosen, dispatcher: dispatcher) { bytes in
            log.trace("replied", metadata: ["bytes": "\(bytes)"])
        }
        log.notice("end of input; exiting")
    }
}

struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas", abstract: "Check Schemas/ or regenerate openrpc.json.",
        subcommands: [Verify.self, WriteOpenRPC.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every file is a valid 2020-12 schema, every method has both schemas, openrpc.json is current.")
        @Option(help: "The Schemas directory.") var schemas = "Schemas"

        func run() throws {
            let problems = try SchemaVerification.problems(in: URL(fileURLWithPath: schemas))
            for problem in problems { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
            guard problems.isEmpty else { throw ExitCode.failure }
            print("Schemas OK: \(try SchemaSet(directory: URL(fileURLWithPath: schemas)).methodNames.count) methods")
        }
    }

    struct WriteOpenRPC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write-openrpc", abstract: "Regenerate openrpc.json.")
        @Option(help: "The Schemas directory.") var schemas = "Schemas"

        func run() throws {
            let directory = URL(fileURLWithPath: schemas)
            let text = SchemaVerification.openRPCText(for: try SchemaSet(directory: directory))
            try Data(text.utf8).write(to: directory.appendingPathComponent("openrpc.json"))
            print("wrote \(directory.appendingPathComponent("openrpc.json").path)")
        }
    }
}

/// Opens the store that `--store` names: a PostgreSQL database for a `postgresql://` or
/// `postgres://` URL, else a file store in that directory.
func openBackend(
    _ store: String, progress: ProgressLine, snapshotThreshold: Int64 = 64 << 20, mode: FileStore.Mode = .readWrite,
    faults: StorageFaultInjector? = nil
) throws -> any Store {
    guard PostgresLocation.isURL(store) else {
        return try openStore(
            store, progress: progress, snapshotThreshold: snapshotThreshold, mode: mode, faults: faults)
    }
    do {
        return try PostgresStore(
            url: store,
            onLoadProgress: { done, total in progress.update("reading the events", done: done, total: total) })
    } catch let error as StoreError {
        throw Refusal(error.message)
    }
}

/// How a `--store` value appears in messages: a URL without its password.
func displayName(ofStore store: String) -> String {
    guard PostgresLocation.isURL(store) else { return store }
    return (try? PostgresLocation(url: store, environment: [:]).description) ?? "a postgresql:// URL"
}

/// Opens a file store, showing progress on `progress` while it loads.
func openStore(
    _ path: String, progress: ProgressLine, snapshotThreshold: Int64 = 64 << 20, mode: FileStore.Mode = .readWrite,
    faults: StorageFaultInjector? = nil
) throws -> FileStore {
    let store = try FileStore(
        directory: URL(fileURLWithPath: path), mode: mode, snapshotThreshold: snapshotThreshold,
        onLoadProgress: { file, done, total in
            progress.update("reading \(URL(fileURLWithPath: file).lastPathComponent)", done: done, total: total)
        }, faults: faults)
    return store
}

/// Checks a catalog file against `Schemas/catalog.schema.json` and names every violation.
func checkCatalogFile(_ path: String) throws {
    let value: JSONValue
    do {
        value = try JSONValue.parse(
            Data(contentsOf: URL(fileURLWithPath: path)), options: JSONParseOptions(rejectDuplicateKeys: true))
    } catch {
        throw ValidationError("cannot read catalog \(path): \(error)")
    }
    let errors = try SchemaSet.embedded.catalogSchema().validate(value)
    guard errors.isEmpty else {
        throw ValidationError(
            "catalog \(path) does not match Schemas/catalog.schema.json:\n"
                + errors.map { "  \($0)" }.joined(separator: "\n"))
    }
}
