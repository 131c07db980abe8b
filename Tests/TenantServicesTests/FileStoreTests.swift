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
    static let op = Principal.platformOperator()

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
        try Self.append(Data(tail.utf8), to: journal)
        let (portal, store) = try Self.open(directory.url)
        #expect(portal.journal == history)
        #expect(try Data(contentsOf: journal) == intact, "the torn tail was cut")
        store.close()
    }

    /// Appends bytes to a file, as a write that was not flushed (or was torn) would leave them.
    static func append(_ bytes: Data, to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    @Test func anOperationMissingItsLastPartIsCutWhole() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try Self.populate(directory.url, tenants: 2)
        let journal = directory.file("journal.jsonl")
        let intact = try Data(contentsOf: journal)
        var extra = history.last!
        extra.seq += 1
        try Self.append(Data(try StoreFormat.journalLine(extra, index: 1, count: 2)), to: journal)
        let (portal, store) = try Self.open(directory.url)
        #expect(portal.journal == history)
        #expect(try Data(contentsOf: journal) == intact)
        store.close()
    }

    /// A power loss in the middle of writing an operation of several records can keep a later
    /// page of it and lose an earlier one (zeros): the last operation is torn, not damage in the
    /// middle, and is cut whole however many of its parts are unreadable.
    @Test(arguments: [[false, true, true], [true, false, true], [false, false, true], [true, false, false]])
    func aLastOperationWithAnUnreadablePartBeforeReadableOnesIsCutWhole(readable: [Bool]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try Self.populate(directory.url, tenants: 2)
        let journal = directory.file("journal.jsonl")
        let intact = try Data(contentsOf: journal)
        var tail = Data()
        for (i, isReadable) in readable.enumerated() {
            var extra = history.last!
            extra.seq += 1 + i
            var line = try StoreFormat.journalLine(extra, index: i + 1, count: readable.count)
            if !isReadable { line.replaceSubrange(0..<line.count - 1, with: repeatElement(0, count: line.count - 1)) }
            tail += line
        }
        try Self.append(tail, to: journal)
        let log = CapturedLog()
        let store = try FileStore(directory: directory.url, logger: log.logger)
        #expect(try store.load() == history)
        #expect(try Data(contentsOf: journal) == intact, "the whole torn operation was cut")
        #expect(log.entries(containing: "cutting a torn write").first?.metadata["offset"] == "\(intact.count)")
        store.close()
    }

    /// An unreadable part followed by a complete operation is damage, not a torn write, even
    /// when parts of its own operation follow it first.
    @Test func anUnreadablePartFollowedByAnotherOperationRefusesToOpen() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let history = try Self.populate(directory.url, tenants: 2)
        let journal = directory.file("journal.jsonl")
        let intact = try Data(contentsOf: journal)
        var tail = Data()
        for (i, (index, count)) in [(1, 2), (2, 2), (1, 1)].enumerated() {
            var extra = history.last!
            extra.seq += 1 + i
            var line = try StoreFormat.journalLine(extra, index: index, count: count)
            if i == 0 { line.replaceSubrange(0..<line.count - 1, with: repeatElement(0, count: line.count - 1)) }
            tail += line
        }
        try (intact + tail).write(to: journal)
        let error = #expect(throws: StoreError.self) { _ = try Self.open(directory.url) }
        #expect(
            error?.message.contains("journal.jsonl is damaged at byte \(intact.count)") == true,
            "\(String(describing: error))")
        #expect(try Data(contentsOf: journal) == intact + tail, "nothing was changed")
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
            seq: seq, at: Date(timeIntervalSinceReferenceDate: 0),
            actor: PrincipalReference(id: "ops", kind: .operator),
            action: "a", target: "t", summary: "s", partnerId: nil, tenantId: nil, domainId: nil, changes: [])
    }
}
