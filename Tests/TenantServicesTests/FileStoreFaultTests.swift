import Foundation
import Logging
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

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
    static let op = Principal.platformOperator()

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

    /// A write whose partial bytes cannot be removed stops the store from taking more writes,
    /// but the whole writes before it are still made durable and acknowledged: answering them
    /// failed would be a lie, since they are in the journal and come back after a restart.
    @Test func aPartialWriteThatCannotBeRemovedFailsNoEarlierWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let first = try portal.submit(Self.tenant("First"), as: Self.op)
        let second = try portal.submit(Self.tenant("Second"), as: Self.op)
        let calls = Locked(0)
        plan.add { call in
            guard call.activity == .write, call.operation == .pwrite else { return nil }
            return calls.withLock {
                $0 += 1
                return $0 == 1 ? .shortWrite(bytes: 17) : $0 == 2 ? .fail(.noSpace) : nil
            }
        }
        plan.fail(.ftruncate, .write)
        let refused = #expect(throws: PortalError.self) { _ = try portal.submit(Self.tenant("Full"), as: Self.op) }
        #expect(refused?.code == .storageFailure)
        #expect(try first.wait().tenant.name == "First", "a whole earlier write is made durable")
        #expect(try second.wait().tenant.name == "Second")
        let later = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Later"), as: Self.op) }
        #expect(later?.message.contains("accepts no more writes") == true, "\(String(describing: later))")
        #expect(try Self.names(portal) == ["First", "Second"])
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["First", "Second"], "the partial write is cut")
    }

    /// The snapshot's journal rewrite copies writes not yet flushed. When the directory cannot be
    /// flushed after the rename, either journal may be the one found after a crash: both must
    /// hold those writes durably, so that they are acknowledged, not answered "may be there".
    @Test func aSnapshotWhoseRenameCannotBeFlushedLeavesNoWriteInDoubt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let log = CapturedLog()
        let (portal, store) = try Self.open(directory.url, plan: plan, log: log)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let pending = try portal.submit(Self.tenant("Pending"), as: Self.op)
        // The directory's second flush: the one after the new journal was renamed into place.
        let directoryFlushes = Locked(0)
        plan.add { call in
            guard call.activity == .snapshot, call.operation == .fsync, call.path == directory.url.path else {
                return nil
            }
            return directoryFlushes.withLock {
                $0 += 1
                return $0 == 2 ? .fail(.ioError) : nil
            }
        }
        #expect(throws: StoreError.self) { try store.snapshot(history: portal.journal) }
        #expect(try pending.wait().tenant.name == "Pending", "the write is durable in either journal")
        let later = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Later"), as: Self.op) }
        #expect(later?.code == .storageFailure)
        #expect(later?.message.contains("may be there") == false, "\(String(describing: later))")
        #expect(try Self.names(portal) == ["Pending"])
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["Pending"])
    }

    /// Flushing the writes a snapshot copies into the new journal can fail: they are then
    /// answered failed, and never come back.
    @Test func aSnapshotWhoseFlushOfTheCopiedWritesFailsFailsThemForGood() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (portal, store) = try Self.open(directory.url, plan: plan)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        _ = try portal.perform(Self.tenant("Kept"), as: Self.op)
        let pending = try portal.submit(Self.tenant("Pending"), as: Self.op)
        plan.fail(.fdatasync, .snapshot)
        #expect(throws: StoreError.self) { try store.snapshot(history: portal.journal) }
        let error = #expect(throws: PortalError.self) { _ = try pending.wait() }
        #expect(error?.code == .storageFailure)
        #expect(error?.message.contains("may be there") == false, "\(String(describing: error))")
        #expect(try Self.names(portal) == ["Kept"])
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["Kept"])
    }

    /// Closing the store with writes in the journal that were not flushed yet flushes them: they
    /// are in the file, so answering them failed would be a lie that a restart shows.
    @Test func closingFlushesTheWritesNotYetDurable() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (portal, store) = try Self.open(directory.url)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let pending = try portal.submit(Self.tenant("Pending"), as: Self.op)
        store.close()
        #expect(try pending.wait().tenant.name == "Pending")
        let later = #expect(throws: PortalError.self) { _ = try portal.perform(Self.tenant("Later"), as: Self.op) }
        #expect(later?.message.contains("was closed") == true, "\(String(describing: later))")
        #expect(try Self.namesAfterRestart(directory.url) == ["Pending"])
    }

    /// If that flush fails, the writes are answered failed and cut, as after any failed flush.
    @Test func closingWhenTheFlushFailsCutsTheWritesItFails() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (portal, store) = try Self.open(directory.url, plan: plan)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        _ = try portal.perform(Self.tenant("Kept"), as: Self.op)
        let pending = try portal.submit(Self.tenant("Pending"), as: Self.op)
        plan.fail(.fdatasync, .flush)
        store.close()
        let error = #expect(throws: PortalError.self) { _ = try pending.wait() }
        #expect(error?.message.contains("may be there") == false, "\(String(describing: error))")
        #expect(try Self.namesAfterRestart(directory.url) == ["Kept"])
    }

    /// A `pwrite` that writes nothing (returns 0) fails the write with ENOSPC instead of being
    /// retried for ever while the store's lock is held.
    @Test func aWriteThatMakesNoProgressFailsInsteadOfSpinning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (portal, store) = try Self.open(directory.url, plan: plan)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let stuck = Locked(true)
        plan.add { call in
            call.operation == .pwrite && call.activity == .write && stuck.withLock({ $0 }) ? .shortWrite(bytes: 0) : nil
        }
        let outcome = Locked<PortalError?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do throws(PortalError) {
                _ = try portal.perform(Self.tenant("Stuck"), as: Self.op)
            } catch {
                outcome.withLock { $0 = error }
            }
            done.signal()
        }
        let answered = done.wait(timeout: .now() + 10) == .success
        stuck.withLock { $0 = false }
        if !answered { done.wait() }
        #expect(answered, "the write was retried for ever")
        #expect(outcome.withLock { $0 }?.message.contains("No space left on device") == true)
        _ = try portal.perform(Self.tenant("After"), as: Self.op)
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["After"])
    }

    /// A replay of a key whose first call is durable is answered at once with its response: it
    /// does not wait for (and fail with) a later write that is still pending.
    @Test func aReplayOfADurableCallDoesNotFailWithALaterWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let plan = FaultPlan()
        let (portal, store) = try Self.open(directory.url, plan: plan)
        _ = try portal.perform(PartnerCreate(name: "Acme"), as: Self.op)
        let first = try portal.perform(Self.tenant("Keyed"), as: Self.op, requestKey: "k").tenant
        let later = try portal.submit(Self.tenant("Later"), as: Self.op)
        plan.fail(.fdatasync, .flush)
        let replay = try portal.submit(Self.tenant("Keyed"), as: Self.op, requestKey: "k")
        #expect(try replay.wait().tenant.id == first.id, "the first call is durable")
        #expect(throws: PortalError.self) { _ = try later.wait() }
        store.close()
        #expect(try Self.namesAfterRestart(directory.url) == ["Keyed"])
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
        try FileStoreTests.append(Data(torn), to: journal)
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
