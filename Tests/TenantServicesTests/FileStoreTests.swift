import Foundation
import Logging
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-services-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

@Suite struct FileStoreTests {
    static let op = Actor.platformOperator()

    static func tenantCreate(_ name: String, partner: String) -> TenantCreate {
        TenantCreate(
            partnerId: partner, name: name, contact: Contact(email: "it@example.ch"),
            address: Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH"))
    }

    /// A portal over a file store in `directory` with a fixed clock.
    static func open(_ directory: URL, threshold: Int64 = 64 << 20) throws -> (Portal, FileStore) {
        let store = try FileStore(directory: directory, snapshotThreshold: threshold)
        let clock = TestClock("2026-11-18")
        return (try Portal(clock: clock, calendar: clock.calendar, store: store), store)
    }

    /// Writes a partner and `tenants` tenants (one operation each), then closes the store.
    static func populate(_ directory: URL, tenants: Int) throws -> [EventRecord] {
        let (portal, store) = try open(directory)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: op).partner.id
        for i in 0..<tenants { _ = try portal.perform(tenantCreate("Tenant \(i)", partner: partner), as: op) }
        store.close()
        return portal.journal
    }

    /// The byte offsets at which the journal's lines start.
    static func lineStarts(_ data: Data) -> [Int] {
        [0] + data.indices.filter { data[$0] == 10 && $0 + 1 < data.count }.map { $0 + 1 }
    }

    // MARK: Reload

    @Test func reloadEqualsTheInMemoryStateAfterRandomOperations() async {
        await propertyCheck(count: 25, input: Generators.operations(count: 1...30)) { steps in
            let directory = try! TemporaryDirectory()
            defer { directory.remove() }
            do {
                // A tiny snapshot threshold, so snapshots (in the background) happen during the run.
                let store = try FileStore(directory: directory.url, snapshotThreshold: 4096)
                let (world, actors) = try PropertyTests.world(store: store)
                for step in steps { _ = step.run(in: world, actors: actors) }
                store.waitForSnapshot()
                let before = world.portal.state
                store.close()
                let reopened = try FileStore(directory: directory.url)
                let portal = try Portal(clock: world.clock, calendar: world.clock.calendar, store: reopened)
                let reloaded = portal.state
                let same = reloaded == before
                #expect(
                    same,
                    "reloaded state differs after \(steps): \(reloaded.events.count) events reloaded, \(before.events.count) written"
                )
                reopened.close()
            } catch {
                Issue.record("\(error) after \(steps)")
            }
        }
    }

    @Test func aSnapshotCutsTheJournalAndReloadsTheSameHistory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try Self.open(directory.url, threshold: 2000)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        for i in 0..<40 { _ = try portal.perform(Self.tenantCreate("Tenant \(i)", partner: partner), as: Self.op) }
        #expect(store.waitForSnapshot() == nil)
        try store.snapshot(history: portal.journal)
        let journal = try Data(contentsOf: directory.file("journal.jsonl"))
        #expect(Self.lineStarts(journal).count == 1, "only the header is left after a snapshot of everything")
        _ = try portal.perform(Self.tenantCreate("After", partner: partner), as: Self.op)
        let history = portal.journal
        store.close()
        let (reopened, again) = try Self.open(directory.url)
        #expect(reopened.journal == history)
        again.close()
    }

    // MARK: Group commit

    @Test func submittedWritesShareOneFlush() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try Self.open(directory.url)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let flushesBefore = store.flushCount
        let pending = try (0..<50).map {
            try portal.submit(Self.tenantCreate("Tenant \($0)", partner: partner), as: Self.op)
        }
        let names = try pending.map { try $0.wait().tenant.name }
        #expect(names.count == 50)
        #expect(store.flushCount == flushesBefore + 1, "50 writes waiting together need one flush")
        store.close()
    }

    @Test func concurrentWritersAreAllDurable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try Self.open(directory.url)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<64 {
                group.addTask {
                    _ = try portal.perform(Self.tenantCreate("Tenant \(i)", partner: partner), as: Self.op)
                }
            }
            try await group.waitForAll()
        }
        #expect(store.flushCount <= 65)
        let history = portal.journal
        store.close()
        let (reopened, again) = try Self.open(directory.url)
        #expect(reopened.journal == history)
        #expect(reopened.journal.count == 66, "65 operations and the catalog's prices recorded with the first")
        again.close()
    }

    // MARK: Recovery

    @Test(arguments: [
        "{\"part\":[1,1],\"ev", "\0\0\0\0\0\0", "{\"part\":[1,1],\"event\":{},\"crc32c\":\"00000000\"}\n",
    ])
    func aTornLastRecordIsCut(tail: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try Self.populate(directory.url, tenants: 3)
        let journal = directory.file("journal.jsonl")
        let intact = try Data(contentsOf: journal)
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(tail.utf8))
        try handle.close()
        let (portal, store) = try Self.open(directory.url)
        #expect(portal.journal == history)
        #expect(try Data(contentsOf: journal) == intact, "the torn tail was cut")
        store.close()
    }

    @Test func anOperationMissingItsLastPartIsCutWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try Self.populate(directory.url, tenants: 2)
        let journal = directory.file("journal.jsonl")
        let intact = try Data(contentsOf: journal)
        var extra = history.last!
        extra.seq += 1
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(try StoreFormat.journalLine(extra, index: 1, count: 2)))
        try handle.close()
        let (portal, store) = try Self.open(directory.url)
        #expect(portal.journal == history)
        #expect(try Data(contentsOf: journal) == intact)
        store.close()
    }

    @Test func damageBeforeTheEndRefusesToOpenAndNamesTheOffset() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        _ = try Self.populate(directory.url, tenants: 4)
        let journal = directory.file("journal.jsonl")
        var data = try Data(contentsOf: journal)
        let third = Self.lineStarts(data)[3]
        data[third + 30] ^= 0x01  // one bit of the third record
        try data.write(to: journal)
        let error = #expect(throws: StoreError.self) { _ = try Self.open(directory.url) }
        #expect(
            error?.message.contains("journal.jsonl is damaged at byte \(third)") == true, "\(String(describing: error))"
        )
        #expect(try Data(contentsOf: journal) == data, "nothing was changed")
    }

    @Test func aDamagedSnapshotRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try Self.open(directory.url)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        try store.snapshot(history: portal.journal)
        store.close()
        let snapshot = directory.file("snapshot.json")
        var data = try Data(contentsOf: snapshot)
        data[data.count / 2] ^= 0x20
        try data.write(to: snapshot)
        let error = #expect(throws: StoreError.self) { _ = try Self.open(directory.url) }
        #expect(error?.message.contains("snapshot.json is damaged at byte") == true)
    }

    @Test func aJournalThatDoesNotContinueTheSnapshotRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try Self.open(directory.url)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        try store.snapshot(history: portal.journal)
        _ = try portal.perform(Self.tenantCreate("T", partner: partner), as: Self.op)
        store.close()
        try FileManager.default.removeItem(at: directory.file("snapshot.json"))
        let error = #expect(throws: StoreError.self) { _ = try Self.open(directory.url) }
        #expect(error?.message.contains("records are missing") == true, "\(String(describing: error))")
    }

    @Test func anotherFormatVersionIsRefusedByName() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let header = StoreFormat.sealed(Array(#"{"format":"tenant-services-journal","version":2"#.utf8))
        try Data(header).write(to: directory.file("journal.jsonl"))
        let error = #expect(throws: StoreError.self) { _ = try Self.open(directory.url) }
        #expect(error?.message.contains("\"version\":2") == true)
    }

    @Test func aSecondWriterIsRefusedWithTheHoldersProcessID() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try FileStore(directory: directory.url)
        let error = #expect(throws: StoreError.self) { _ = try FileStore(directory: directory.url) }
        #expect(error?.message.contains("in use by process \(getpid())") == true, "\(String(describing: error))")
        first.close()
        let second = try FileStore(directory: directory.url)
        second.close()
    }

    @Test func aReadOnlyStoreReadsWithoutLockingOrWriting() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try Self.populate(directory.url, tenants: 2)
        let (writer, writerStore) = try Self.open(directory.url)
        let reader = try FileStore(directory: directory.url, mode: .readOnly)
        #expect(try reader.load() == history)
        #expect(throws: StoreError.self) { _ = try reader.write(history) }
        _ = writer
        writerStore.close()
    }

    // MARK: Failures

    /// A store whose flush fails after `failAfter` successful flushes, like a disk going bad.
    final class FailingFlush: Store, @unchecked Sendable {
        let inner = InMemoryStore()
        var flushesLeft: Int
        init(flushesLeft: Int) { self.flushesLeft = flushesLeft }
        func load() -> [EventRecord] { [] }
        func write(_ records: [EventRecord]) -> StorePosition { inner.write(records) }
        func waitUntilDurable(_ position: StorePosition) throws {
            flushesLeft -= 1
            if flushesLeft < 0 { throw StoreError("cannot flush journal.jsonl: Input/output error") }
        }
    }

    @Test func aFailedFlushUndoesEveryWriteWaitingForIt() throws {
        let store = FailingFlush(flushesLeft: 1)
        let clock = TestClock("2026-11-18")
        let portal = try Portal(clock: clock, calendar: clock.calendar, store: store)
        let partner = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op).partner.id
        let before = portal.state
        let first = try portal.submit(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k1")
        let second = try portal.submit(Self.tenantCreate("B", partner: partner), as: Self.op)
        #expect(portal.state != before, "submitted writes are visible before they are durable")
        let error = #expect(throws: PortalError.self) { _ = try first.wait() }
        #expect(error?.code == .storageFailure)
        #expect(throws: PortalError.self) { _ = try second.wait() }
        #expect(portal.state == before, "both writes were undone")
        store.flushesLeft = 10
        let again = try portal.perform(Self.tenantCreate("A", partner: partner), as: Self.op, requestKey: "k1")
        #expect(again.tenant.id == "T1", "the undone write used up neither its ID nor its request key")
    }
}

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
        let op = Actor.platformOperator()
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
        let admin = Actor(id: "pa", kind: .partnerAdmin, partnerId: partner, roles: [.ALL])
        _ = try world.portal.perform(
            TenantCreate(name: "Ä", contact: Contact(email: "a@b.ch"), address: Self.address), as: admin,
            requestKey: "pa")
        let tenantAdmin = Actor(id: "ta", kind: .tenantAdmin, tenantId: tenant, roles: [.ALL])
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

    /// Dates of booked services are read in place when they are plain `YYYY-MM-DD`: the same as
    /// `JSONDecoder` reads (or refuses) for every day of a leap and a common year and odd forms.
    @Test func readsCivilDatesInPlaceLikeJSONDecoder() throws {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let tenant = try world.tenant("T", of: try world.partner("P"))
        try world.domain("muster.ch", of: tenant, status: .provisioned)
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

/// Dates survive the store's own writer and reader bit for bit, for any finite instant.
@Suite struct StoredDateTests {
    @Test func everyDateReadsBackExactly() throws {
        let seed: UInt64 = 20_261_127
        // swift-property-based's seeded generator, so a failure can be replayed.
        var generator = Xoshiro(seed: (seed, ~seed, seed &* 31, seed &+ 7))
        var samples: [Double] = [
            0, -0.5, 1, 817_487_783.061_765_9, 9_007_199_254_740_992, 1e-7, -978_307_200, 4e9, 1e22, 1.5e-300,
        ]
        for _ in 0..<20_000 {
            // Realistic instants with sub-second parts, and arbitrary doubles.
            samples.append(Double.random(in: -1e9...4e9, using: &generator))
            let any = Double(bitPattern: generator.next())
            samples.append(any.isFinite ? any : 1)
        }
        let record = EventRecord(
            seq: 1, at: Date(), actor: ActorReference(id: "ops", kind: .operator), action: "a", target: "t",
            summary: "s",
            partnerId: nil, tenantId: nil, domainId: nil, changes: [])
        for seconds in samples where seconds.isFinite {
            var r = record
            r.at = Date(timeIntervalSinceReferenceDate: seconds)
            let bytes = try RecordWriter.json(r)
            let read = try bytes.withUnsafeBytes { try RecordReader.record($0) }
            #expect(
                read.at.timeIntervalSinceReferenceDate.bitPattern == seconds.bitPattern,
                "\(seconds) was read back as \(read.at.timeIntervalSinceReferenceDate) (seed \(seed))")
        }
    }
}

// MARK: - Fault injection

/// Log lines captured from a logger handed to the store.
final class CapturedLog: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let captured = Locked<[Entry]>([])

    var entries: [Entry] { captured.withLock { $0 } }

    /// The entries whose message contains `text`.
    func entries(containing text: String) -> [Entry] { entries.filter { $0.message.contains(text) } }

    var logger: Logger { Logger(label: "tenant-services.store") { _ in Handler(log: self) } }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let entry = Entry(
                level: event.level, message: "\(event.message)",
                metadata: (event.metadata ?? [:]).mapValues { "\($0)" })
            log.captured.withLock { $0.append(entry) }
        }
    }
}

/// Rules for the store's storage calls: each sees every call and may make it fail.
final class FaultPlan: Sendable {
    typealias Rule = @Sendable (StorageCall) -> StorageFault?
    private let rules = Locked<[Rule]>([])

    func add(_ rule: @escaping Rule) { rules.withLock { $0.append(rule) } }

    /// Fails `times` calls `operation` of `activity` from the `nth` one (counted from now). Once,
    /// by default: Linux reports a write-back error to one `fsync` and the next one succeeds.
    func fail(
        _ operation: StorageOperation, _ activity: StorageActivity, at nth: Int = 1, times: Int = 1,
        with errno: Errno = .ioError
    ) {
        let seen = Locked(0)
        add { call in
            guard call.operation == operation, call.activity == activity else { return nil }
            return seen.withLock {
                $0 += 1
                return $0 >= nth && $0 - nth < times ? .fail(errno) : nil
            }
        }
    }

    var injector: StorageFaultInjector {
        { call in
            for rule in self.rules.withLock({ $0 }) {
                if let fault = rule(call) { return fault }
            }
            return nil
        }
    }
}

/// Storage failures injected through the store's system-call seam: no reply lies, and every
/// failure is logged.
@Suite struct FileStoreFaultTests {
    static let op = Actor.platformOperator()

    /// A portal over a file store whose storage calls follow `plan`, logging into `log`.
    static func open(
        _ directory: URL, plan: FaultPlan = FaultPlan(), log: CapturedLog = CapturedLog(),
        threshold: Int64 = 64 << 20
    ) throws -> (Portal, FileStore) {
        let store = try FileStore(
            directory: directory, snapshotThreshold: threshold, logger: log.logger, faults: plan.injector)
        let clock = TestClock("2026-11-18")
        return (try Portal(clock: clock, calendar: clock.calendar, store: store), store)
    }

    static func tenant(_ name: String) -> TenantCreate { FileStoreTests.tenantCreate(name, partner: "P1") }

    /// The tenants' names in the store after a restart without faults.
    static func namesAfterRestart(_ directory: URL) throws -> [String] {
        let (portal, store) = try FileStoreTests.open(directory)
        defer { store.close() }
        return try names(portal)
    }

    /// The tenants' names the portal shows.
    static func names(_ portal: Portal) throws -> [String] {
        try portal.perform(TenantList(), as: op).tenants.map(\.name).sorted()
    }

    // MARK: Defect 1

    @Test func afterAFailedFlushAWaitingSnapshotReportsNothingDurable() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let inFlush = DispatchSemaphore(value: 0)
        let snapshotWaits = DispatchSemaphore(value: 0)
        // The snapshot's last call before it waits for the running flush: the directory's fsync.
        plan.add { call in
            if call.activity == .snapshot, call.operation == .fsync, call.path == directory.url.path {
                snapshotWaits.signal()
            }
            return nil
        }
        // The next flush fails, but only once the snapshot waits for it.
        let failed = Locked(false)
        plan.add { call in
            guard call.activity == .flush, call.operation == .fdatasync,
                !failed.withLock({ done in
                    defer { done = true }; return done
                })
            else { return nil }
            inFlush.signal()
            snapshotWaits.wait()
            Thread.sleep(forTimeInterval: 0.2)
            return .fail(.ioError)
        }
        let first = try portal.submit(Self.tenant("A"), as: Self.op)
        let second = try portal.submit(Self.tenant("B"), as: Self.op)
        let firstResult = Locked<Result<TenantView, PortalError>?>(nil)
        let waiterDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            firstResult.withLock { $0 = Result { () throws(PortalError) in try first.wait().tenant } }
            waiterDone.signal()
        }
        inFlush.wait()
        store.compact(history: portal.journal)
        waiterDone.wait()
        #expect(throws: PortalError.self) { try firstResult.withLock { $0 }!.get() }
        #expect(store.waitForSnapshot() != nil, "the snapshot did not rewrite the journal")
        let error = #expect(throws: PortalError.self, "a write after the failed flush is never reported durable") {
            _ = try second.wait()
        }
        #expect(error?.code == .storageFailure)
        #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("C"), as: Self.op) }
        #expect(try Self.names(portal) == [])
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == [], "what was answered as failed stays undone")
    }

    // MARK: Defect 2

    @Test func aWriteAnsweredUndoneDoesNotComeBackAfterARestart() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        _ = try portal.perform(Self.tenant("Kept"), as: Self.op)
        let durableSize = try FileManager.default.attributesOfItem(atPath: directory.file("journal.jsonl").path)[.size]
        // The device fails the flush; the page cache still holds the records (as Linux does).
        plan.fail(.fdatasync, .flush)
        let error = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Undone"), as: Self.op) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains("was undone") == true, "\(String(describing: error))")
        #expect(error?.message.contains("may be there after a restart") == false)
        #expect(
            try FileManager.default.attributesOfItem(atPath: directory.file("journal.jsonl").path)[.size]
                as? Int == durableSize as? Int, "the journal was cut back to the durable point")
        let refused = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Later"), as: Self.op) }
        #expect(refused?.code == .storageFailure, "the store accepts no more writes")
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["Kept"])
    }

    @Test func whenTheCutFailsTooTheReplySaysTheOutcomeIsUnknown() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        plan.fail(.fdatasync, .flush)
        plan.fail(.ftruncate, .flush)
        let error = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Unknown"), as: Self.op) }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains("may be there after a restart") == true, "\(String(describing: error))")
        #expect(try Self.names(portal) == [], "no reply shows it meanwhile")
        #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Later"), as: Self.op) }
        #expect(log.entries(containing: "could not be removed").first?.level == .critical)
        store.close()
    }

    @Test(arguments: [true, false])
    func aReadThatSawAWriteThatIsUndoneIsAnsweredStorageFailure(readWaitsFirst: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (portal, store) = try Self.open(directory.url, plan: plan)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        plan.fail(.fdatasync, .flush)
        let write = try portal.submit(Self.tenant("Undone"), as: Self.op)
        let read = try portal.submit(TenantGet(tenantId: "T1"), as: Self.op)
        let list = try portal.submit(TenantList(), as: Self.op)
        if readWaitsFirst {
            let error = #expect(throws: PortalError.self) { _ = try read.wait() }
            #expect(error?.code == .storageFailure)
            #expect(error?.message.contains("retry") == true, "\(String(describing: error))")
            #expect(throws: PortalError.self) { _ = try write.wait() }
        } else {
            #expect(throws: PortalError.self) { _ = try write.wait() }
            let error = #expect(throws: PortalError.self, "the read saw the undone tenant") { _ = try read.wait() }
            #expect(error?.code == .storageFailure)
        }
        #expect(throws: PortalError.self) { _ = try list.wait() }
        let after = try portal.submit(TenantList(), as: Self.op)
        #expect(try after.wait().tenants.isEmpty, "a read after the undo is answered at once")
        store.close()
    }

    /// A refusal is a reply too: computed on a state that holds a write not yet durable, it is
    /// given only once that write is durable, and `storage-failure` (retry) when it is undone.
    @Test(arguments: [false, true])
    func aRefusalComputedOnAWriteThatIsUndoneIsAnsweredStorageFailure(mutating: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (portal, store) = try Self.open(directory.url, plan: plan)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        plan.fail(.fdatasync, .flush)
        let write = try portal.submit(Self.tenant("Undone"), as: Self.op)
        let error = #expect(throws: PortalError.self) {
            if mutating {
                // `conflict` would name the version of the undone tenant T1.
                _ = try portal.submit(TenantUpdate(tenantId: "T1", expectedVersion: 7, name: "New"), as: Self.op)
            } else {
                _ = try portal.submit(TenantGet(tenantId: "T2"), as: Self.op)
            }
        }
        #expect(error?.code == .storageFailure, "\(String(describing: error))")
        #expect(throws: PortalError.self) { _ = try write.wait() }
        let after = #expect(throws: PortalError.self) {
            _ = try portal.submit(TenantUpdate(tenantId: "T1", expectedVersion: 7, name: "New"), as: Self.op)
        }
        #expect(after?.code == .notFound, "after the undo the refusal is the true one, at once")
        store.close()
    }

    // MARK: The seam itself

    @Test func aWriteThatStopsHalfwayLeavesTheJournalAsItWas() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let journal = directory.file("journal.jsonl")
        let before = try Data(contentsOf: journal)
        let calls = Locked(0)
        plan.add { call in
            guard call.activity == .write, call.operation == .pwrite else { return nil }
            return calls.withLock {
                $0 += 1
                return $0 == 1 ? .shortWrite(bytes: 17) : $0 == 2 ? .fail(.noSpace) : nil
            }
        }
        let error = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Full"), as: Self.op) }
        #expect(error?.message.contains("No space left on device") == true, "\(String(describing: error))")
        #expect(try Data(contentsOf: journal) == before, "the 17 bytes written were cut")
        #expect(log.entries(containing: "journal write failed").first?.metadata["errno"] == "\(ENOSPC)")
        _ = try portal.perform(Self.tenant("After"), as: Self.op)
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["After"])
    }

    @Test func storageErrorsCarryTheirKind() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (_, store) = try Self.open(directory.url, plan: plan)
        let locked = #expect(throws: StoreError.self) { _ = try FileStore(directory: directory.url) }
        #expect(locked?.kind == .locked(pid: getpid()))
        plan.fail(.fdatasync, .flush)
        _ = try store.write([FileStoreTests.record(seq: 1)])
        let flush = #expect(throws: StoreError.self) { try store.waitUntilDurable(StorePosition(.max)) }
        #expect(flush?.kind == .io(operation: .fdatasync, errno: .ioError))
        #expect(flush?.outcomeUnknown == false)
        store.close()
    }

    // MARK: Defect 13

    @Test func cuttingATornWriteIsLoggedWithItsBytesAndSeqs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try FileStoreTests.populate(directory.url, tenants: 2)
        let journal = directory.file("journal.jsonl")
        var extra = history.last!
        extra.seq += 1
        let torn = try StoreFormat.journalLine(extra, index: 1, count: 2) + Array("{\"part\":[2,2],\"ev".utf8)
        let handle = try FileHandle(forWritingTo: journal)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(torn))
        try handle.close()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, log: log)
        #expect(portal.journal == history)
        let cut = log.entries(containing: "cutting a torn write")
        #expect(cut.count == 1)
        #expect(cut.first?.level == .warning)
        #expect(cut.first?.metadata["bytes"] == "\(torn.count)")
        #expect(cut.first?.metadata["seqs"] == "\(extra.seq)-\(extra.seq)")
        store.close()
    }

    // MARK: Defect 14

    @Test func everyFailedFlushIsLoggedWithItsErrno() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        plan.fail(.fdatasync, .flush, with: Errno(rawValue: ENOSPC))
        let next = (portal.journal.last?.seq ?? 0) + 1  // the tenant's record, after the recorded prices
        _ = try? portal.perform(Self.tenant("A"), as: Self.op)
        let failed = log.entries(containing: "journal flush failed")
        #expect(failed.count == 1)
        #expect(failed.first?.level == .error)
        #expect(failed.first?.metadata["errno"] == "\(ENOSPC)")
        #expect(failed.first?.metadata["operation"] == "fdatasync")
        #expect(failed.first?.metadata["seqs"] == "\(next)-\(next)")
        store.close()
    }

    @Test func aSnapshotThatKeepsFailingIsLoggedEachTimeWithTheCount() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        plan.fail(.rename, .snapshot, times: .max)
        for i in 1...3 {
            _ = try portal.perform(Self.tenant("T\(i)"), as: Self.op)
            #expect(throws: StoreError.self) { try store.snapshot(history: portal.journal) }
        }
        let failures = log.entries(containing: "snapshot failed")
        #expect(failures.map { $0.metadata["consecutiveFailures"] } == ["1", "2", "3"])
        #expect(failures.allSatisfy { $0.level == .error && $0.metadata["operation"] == "rename" })
        #expect(failures.first?.metadata["errno"] == "\(EIO)")
        #expect(store.consecutiveSnapshotFailures == 3)
        _ = try portal.perform(Self.tenant("Still writable"), as: Self.op)
        store.close()
        #expect(try Self.namesAfterRestart(directory.url).count == 4)
    }

    // MARK: Defect 3

    @Test func aViewReadingWhileTheServerSnapshotsSeesAHealthyStore() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try FileStoreTests.open(directory.url)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        _ = try portal.perform(Self.tenant("Before"), as: Self.op)
        try store.snapshot(history: portal.journal)
        _ = try portal.perform(Self.tenant("In the journal"), as: Self.op)
        // Between the view's two opens, the server writes, snapshots and writes again.
        let opens = Locked(0)
        let reader = try FileStore(
            directory: directory.url, mode: .readOnly,
            faults: { call in
                guard call.operation == .open,
                    opens.withLock({
                        $0 += 1; return $0
                    }) == 2
                else { return nil }
                _ = try? portal.perform(Self.tenant("Snapshotted"), as: Self.op)
                try? store.snapshot(history: portal.journal)
                _ = try? portal.perform(Self.tenant("After"), as: Self.op)
                return nil
            })
        let records = try reader.load()
        #expect(records.map(\.seq) == Array(1...records.count), "a consistent history, no damage reported")
        #expect(records.count >= 3)
        store.close()
    }

    // MARK: Defect 15

    @Test func aJournalCutWhileAViewReadsItComesBackShorterInsteadOfCrashing() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try FileStoreTests.populate(directory.url, tenants: 3)
        let journal = directory.file("journal.jsonl").path
        let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as! Int
        let cut = Locked(false)
        let reader = try FileStore(
            directory: directory.url, mode: .readOnly,
            faults: { call in
                // A starting server cuts a torn write after the view found the file's size.
                if call.operation == .pread, call.path == journal, !cut.withLock({ $0 }) {
                    cut.withLock { $0 = true }
                    truncate(journal, off_t(size - 40))
                }
                return nil
            })
        let records = try reader.load()
        #expect(records == Array(history.dropLast()), "the cut record is skipped as a torn write")
    }

    // MARK: Defect 16

    @Test(arguments: ["lock", "journal.jsonl", "snapshot.json"])
    func theStoreNeverFollowsASymbolicLink(name: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outside = try TemporaryDirectory()
        defer { outside.remove() }
        if name != "lock" { _ = try FileStoreTests.populate(directory.url, tenants: 1) }
        let target = outside.file("precious")
        try Data("precious\n".utf8).write(to: target)
        try? FileManager.default.removeItem(at: directory.file(name))
        try FileManager.default.createSymbolicLink(at: directory.file(name), withDestinationURL: target)
        let error = #expect(throws: StoreError.self) {
            let store = try FileStore(directory: directory.url)
            defer { store.close() }
            _ = try store.load()
        }
        #expect(error?.message.contains("symbolic link") == true, "\(String(describing: error))")
        #expect(error?.kind == .io(operation: .open, errno: .tooManySymbolicLinks))
        #expect(try Data(contentsOf: target) == Data("precious\n".utf8), "the link's target is untouched")
        if name != "lock" {
            #expect(throws: StoreError.self) { _ = try FileStore(directory: directory.url, mode: .readOnly).load() }
        }
    }
}

extension FileStoreTests {
    /// The resident kilobytes of this process's mappings of `path` (from `/proc/self/smaps`).
    static func residentKiB(ofMappingsOf path: String) throws -> Int {
        let smaps = try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8)
        var inMapping = false
        var total = 0
        for line in smaps.split(separator: "\n") {
            if let first = line.first, first.isHexDigit, line.contains("-") {
                inMapping = line.hasSuffix(path)
            } else if inMapping, line.hasPrefix("Rss:") {
                total += Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
        }
        return total
    }

    @Test func loadingGivesBackThePagesOfTheJournalItHasDecoded() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // 48 records of 1 MiB each: 48 MiB of journal.
        let store = try FileStore(directory: directory.url)
        _ = try store.load()
        var position = StorePosition(0)
        for seq in 1...48 {
            var record = Self.record(seq: seq)
            record.summary = String(repeating: "x", count: 1 << 20)
            position = try store.write([record])
        }
        try store.waitUntilDurable(position)
        store.close()

        let reopened = try FileStore(directory: directory.url)
        defer { reopened.close() }
        let journal = directory.file(FileStore.journalName).resolvingSymlinksInPath().path
        var residentAtEnd: Int?
        var count = 0
        try reopened.load { record in
            count += 1
            if record.seq == 48 { residentAtEnd = try Self.residentKiB(ofMappingsOf: journal) }
        }
        #expect(count == 48)
        // Without giving pages back, all 48 MiB would be resident by the last record.
        let resident = try #require(residentAtEnd)
        #expect(resident < 24 << 10, "\(resident) KiB of the journal resident at the end of the load")
    }

    /// A record with nothing in it but its seq.
    static func record(seq: Int) -> EventRecord {
        EventRecord(
            seq: seq, at: Date(timeIntervalSinceReferenceDate: 0), actor: ActorReference(id: "ops", kind: .operator),
            action: "a", target: "t", summary: "s", partnerId: nil, tenantId: nil, domainId: nil, changes: [])
    }
}
