import Foundation
import OrderedCollections
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

/// One storage fault a generated run injects: which call fails, from which one on.
struct InjectedFault: Sendable, CustomStringConvertible {
    enum Kind: Int, CaseIterable, Sendable {
        /// The `nth` journal write fails, writing nothing.
        case writeFails
        /// The `nth` journal write stops halfway (a filling disk), then fails with ENOSPC.
        case writeStopsHalfway
        /// The `nth` journal write stops halfway and removing the partial write fails too.
        case writeStopsHalfwayAndTheCutFails
        /// The `nth` flush fails (the page cache keeps the records, as Linux does).
        case flushFails
        /// The `nth` flush fails and cutting the journal back fails too: the outcome is unknown.
        case flushAndCutFail
        /// The `nth` storage call of snapshots fails.
        case snapshotCallFails
        /// The `nth` journal write is short (as the kernel may make it); the rest is written next.
        case shortWrite
    }

    var kind: Kind
    var nth: Int
    var errno: Errno

    init(seed: Int) {
        kind = Kind.allCases[seed % Kind.allCases.count]
        nth = 1 + (seed / 8) % 24
        errno = (seed / 256) % 2 == 0 ? .ioError : .noSpace
    }

    var description: String { "\(kind)@\(nth)(\(errno))" }

    /// Whether a write may be reported failed with an unknown outcome (it may be there after a
    /// restart).
    var outcomeMayBeUnknown: Bool { kind == .flushAndCutFail }

    /// The fault's injector, which lets every call run until `armed` is set (calls are counted
    /// from then on).
    func injector(armed: Locked<Bool>) -> StorageFaultInjector {
        let plan = self.plan
        return { call in armed.withLock { $0 } ? plan.injector(call) : nil }
    }

    /// The plan that injects the fault.
    var plan: FaultPlan {
        let plan = FaultPlan()
        switch kind {
        case .writeFails:
            plan.fail(.pwrite, .write, at: nth, with: errno)
        case .writeStopsHalfway, .writeStopsHalfwayAndTheCutFails:
            let seen = Locked(0)
            plan.add { call in
                guard call.operation == .pwrite, call.activity == .write else { return nil }
                return seen.withLock {
                    $0 += 1
                    if $0 == nth { return .shortWrite(bytes: 37) }
                    return $0 == nth + 1 ? .fail(.noSpace) : nil
                }
            }
            if kind == .writeStopsHalfwayAndTheCutFails { plan.fail(.ftruncate, .write, with: errno) }
        case .flushFails:
            plan.fail(.fdatasync, .flush, at: nth, with: errno)
        case .flushAndCutFail:
            plan.fail(.fdatasync, .flush, at: nth, with: errno)
            plan.fail(.ftruncate, .flush, with: errno)
        case .shortWrite:
            let seen = Locked(0)
            plan.add { call in
                guard call.operation == .pwrite, call.activity == .write else { return nil }
                return seen.withLock {
                    $0 += 1
                    return $0 == nth ? .shortWrite(bytes: 1 + nth * 13) : nil
                }
            }
        case .snapshotCallFails:
            let seen = Locked(0)
            plan.add { call in
                guard call.activity == .snapshot, call.operation != .unlink else { return nil }
                return seen.withLock {
                    $0 += 1
                    return $0 == nth ? .fail(errno) : nil
                }
            }
        }
        return plan
    }
}

/// Generated workflows over a file store whose storage calls fail: after reopening, the state
/// is the one built from the acknowledged writes only.
@Suite struct FileStoreFaultPropertyTests {
    static let op = Principal.platformOperator()

    /// Reopens the store in `directory` without faults; returns its state.
    static func reopened(_ directory: URL, clock: TestClock) throws -> PortalState {
        let store = try FileStore(directory: directory, logger: CapturedLog().logger)
        defer { store.close() }
        return try Portal(clock: clock, calendar: clock.calendar, store: store).state
    }

    /// Every storage failure leaves, in memory and on disk, the state of the acknowledged writes:
    /// generated workflows (with snapshots in the background) under one injected fault each.
    @Test func afterAnyInjectedFaultTheReopenedStateIsTheAcknowledgedOne() async {
        await propertyCheck(
            count: 40, input: Generators.operations(count: 1...25), Gen.int(in: 0...Int(Int32.max))
        ) { steps, seed in
            let fault = InjectedFault(seed: seed)
            let directory = try! TemporaryDirectory()
            defer { directory.remove() }
            do {
                let armed = Locked(false)
                let store = try FileStore(
                    directory: directory.url, snapshotThreshold: 3000, logger: CapturedLog().logger,
                    faults: fault.injector(armed: armed))
                let (world, actors) = try PropertyTests.world(store: store)
                armed.withLock { $0 = true }
                var unknown = 0
                for step in steps {
                    let refusal = step.run(in: world, actors: actors).refusal
                    if refusal?.message.contains("may be there after a restart") == true { unknown += 1 }
                    if fault.kind == .shortWrite, let refusal, refusal.code == .storageFailure {
                        Issue.record("a short write alone failed a write: \(refusal) after \(steps)")
                    }
                }
                store.waitForSnapshot()
                let before = world.portal.state
                store.close()
                let after = try Self.reopened(directory.url, clock: world.clock)
                if unknown > 0 {
                    #expect(fault.outcomeMayBeUnknown, "an unknown outcome under \(fault) after \(steps)")
                    #expect(
                        Array(after.events.prefix(before.events.count)) == before.events,
                        "the acknowledged history is not kept under \(fault) after \(steps)")
                } else {
                    #expect(
                        after == before,
                        "reopened state differs under \(fault) after \(steps): \(after.events.count) events reopened, \(before.events.count) in memory"
                    )
                }
            } catch {
                Issue.record("\(error) under \(fault) after \(steps)")
            }
        }
    }
}

extension FileStoreFaultPropertyTests {
    /// One pipelined request of a generated run: a new tenant, an import of several (an
    /// operation of several records), or a repeat of an earlier request under its key.
    struct Pipelined: Sendable {
        var key: String
        var request: Request

        enum Request: Sendable {
            case create(TenantCreate)
            case importing(TenantImport)
        }
    }

    static func pipelined(_ seed: Int, number: Int, earlier: [Pipelined]) -> Pipelined {
        if seed % 5 == 0, !earlier.isEmpty { return earlier[(seed / 5) % earlier.count] }
        let key = "k\(number)"
        if seed % 3 == 0 {
            let entries = (0..<(2 + seed % 3)).map { i in
                TenantImport.Entry(
                    name: "Imported \(number).\(i)",
                    address: Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH"),
                    externalId: "crm-\(number)-\(i)")
            }
            return Pipelined(key: key, request: .importing(TenantImport(partnerId: "P1", tenants: entries)))
        }
        return Pipelined(key: key, request: .create(FileStoreTests.tenantCreate("Tenant \(number)", partner: "P1")))
    }

    /// The names a request writes.
    static func names(_ request: Pipelined) -> [String] {
        switch request.request {
        case .create(let create): [create.name]
        case .importing(let importing): importing.tenants.map(\.name)
        }
    }

    /// Pipelined writes share flushes (group commit), repeat keys and run beside background
    /// snapshots while one storage call fails: every write answered is there after reopening,
    /// every write answered failed is not (unless its outcome was reported unknown), and the
    /// reopened state is the one in memory.
    @Test func pipelinedWritesUnderAFaultKeepExactlyTheAcknowledgedOnes() async {
        await propertyCheck(
            count: 40, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...60), Gen.int(in: 0...Int(Int32.max))
        ) { seeds, seed in
            let fault = InjectedFault(seed: seed)
            let directory = try! TemporaryDirectory()
            defer { directory.remove() }
            do {
                let clock = TestClock("2026-11-18")
                let (first, firstStore) = try FileStoreTests.open(directory.url)
                _ = try first.perform(PartnerCreate(name: "Acme"), as: Self.op)
                firstStore.close()
                let store = try FileStore(
                    directory: directory.url, snapshotThreshold: 2500, logger: CapturedLog().logger,
                    faults: fault.plan.injector)
                let portal = try Portal(clock: clock, calendar: clock.calendar, store: store)
                var sent: [Pipelined] = []
                var acknowledged = Set<String>()
                var unknown = Set<String>()
                // The first request of each key acknowledged (its submission number): a later
                // one of that key is a replay, which must never fail. An earlier one may have
                // failed (then the key was not recorded and the later one ran afresh).
                var acknowledgedFirst: [String: Int] = [:]
                var window: [(number: Int, request: Pipelined, submitted: () throws -> [String])] = []
                func settle() {
                    // Waited for in an order of their own, not always the order they were sent in.
                    let order = window.indices.sorted { (seeds[$0 % seeds.count] ^ $1) % 3 < ($1 ^ $0) % 3 }
                    var failures: [(number: Int, key: String, error: PortalError)] = []
                    for i in order {
                        let (number, request, submitted) = window[i]
                        do {
                            _ = try submitted()
                            acknowledged.insert(request.key)
                            acknowledgedFirst[request.key] = min(acknowledgedFirst[request.key] ?? number, number)
                        } catch let error as PortalError {
                            if error.code != .storageFailure { Issue.record("\(error) for \(request.key)") }
                            failures.append((number, request.key, error))
                            if error.message.contains("may be there after a restart") { unknown.insert(request.key) }
                        } catch {
                            Issue.record("\(error) for \(request.key)")
                        }
                    }
                    for failure in failures where (acknowledgedFirst[failure.key] ?? Int.max) < failure.number {
                        Issue.record("a replay of acknowledged \(failure.key) failed: \(failure.error) under \(fault)")
                    }
                    window = []
                }
                for (n, seed) in seeds.enumerated() {
                    let request = Self.pipelined(seed, number: n, earlier: sent)
                    sent.append(request)
                    // A refusal at submission (the store refused the write) is a failed write too.
                    var submitted: () throws -> [String]
                    do {
                        switch request.request {
                        case .create(let create):
                            let pending = try portal.submit(create, as: Self.op, requestKey: request.key)
                            submitted = { [try pending.wait().tenant.name] }
                        case .importing(let importing):
                            let pending = try portal.submit(importing, as: Self.op, requestKey: request.key)
                            submitted = { try pending.wait().tenants.map(\.name) }
                        }
                    } catch {
                        submitted = { throw error }
                    }
                    window.append((n, request, submitted))
                    if seed % 7 == 0 || window.count >= 12 { settle() }
                    if seed % 11 == 0 { store.compact(history: portal.journal) }
                }
                settle()
                store.waitForSnapshot()
                let before = portal.state
                store.close()
                let after = try Self.reopened(directory.url, clock: clock)
                let present = Set(after.tenants.values.map(\.name))
                for request in sent {
                    let names = Set(Self.names(request))
                    if acknowledged.contains(request.key) {
                        #expect(names.isSubset(of: present), "acknowledged \(request.key) is lost under \(fault)")
                    } else if !unknown.contains(request.key) {
                        #expect(names.isDisjoint(with: present), "failed \(request.key) came back under \(fault)")
                    }
                }
                if unknown.isEmpty {
                    #expect(after == before, "reopened state differs under \(fault) after \(seeds)")
                } else {
                    #expect(fault.outcomeMayBeUnknown, "an unknown outcome under \(fault) after \(seeds)")
                }
            } catch {
                Issue.record("\(error) under \(fault) after \(seeds)")
            }
        }
    }
}

extension FileStoreFaultPropertyTests {
    /// The complete operations of a journal: where each starts and ends, how many records it
    /// has, and the seq of its last record.
    static func operations(_ data: Data) throws -> (
        headerEnd: Int, operations: [(start: Int, end: Int, parts: Int, seq: Int)]
    ) {
        try data.withUnsafeBytes { bytes in
            let headerEnd = try FileStore.journalHeaderEnd(bytes, file: "journal") + 1
            var operations: [(start: Int, end: Int, parts: Int, seq: Int)] = []
            for line in FileStore.completeLines(bytes, from: headerEnd).lines {
                let part = try #require(
                    try FileStore.journalPart(
                        UnsafeRawBufferPointer(rebasing: bytes[line]), file: "journal", at: line.lowerBound))
                if part.index == part.count {
                    operations.append(
                        (operations.last?.end ?? headerEnd, line.upperBound + 1, part.count, part.record.seq))
                }
            }
            return (headerEnd, operations)
        }
    }

    /// A crash image of a journal: cut at any byte, and the torn part after the last complete
    /// operation with a range of zeros (a page the disk never wrote, newlines and all). Opening
    /// it gives exactly the complete operations before the cut, and cuts the rest.
    @Test func aJournalCutAnywhereWithLostPagesOpensAsItsCompleteOperations() async {
        await propertyCheck(
            count: 60, input: Generators.operations(count: 1...20), Gen.int(in: 0...Int(Int32.max)).array(of: 3)
        ) { steps, seeds in
            let directory = try! TemporaryDirectory()
            defer { directory.remove() }
            do {
                let store = try FileStore(directory: directory.url, logger: CapturedLog().logger)
                let (world, actors) = try PropertyTests.world(store: store)
                for (i, step) in steps.enumerated() {
                    step.run(in: world, actors: actors)
                    if (seeds[2] >> i) % 4 == 0 {
                        // An operation of several records.
                        let entries = (0..<2 + i % 3).map { k in
                            TenantImport.Entry(
                                name: "Imported \(i).\(k)",
                                address: Address(street: "S 1", postalCode: "8000", city: "Zürich", country: "CH"),
                                externalId: "crm-\(i)-\(k)")
                        }
                        _ = try world.portal.perform(
                            TenantImport(partnerId: world.partners[0], tenants: entries), as: Self.op)
                    }
                }
                let history = world.portal.journal
                store.close()
                let journal = directory.file("journal.jsonl")
                let data = try Data(contentsOf: journal)
                let (headerEnd, operations) = try Self.operations(data)
                // The cut falls in an operation, of several records for every other run if any.
                let several = operations.indices.filter { operations[$0].parts > 1 }
                let chosen =
                    !several.isEmpty && seeds[0] % 2 == 0
                    ? several[(seeds[0] / 2) % several.count] : (seeds[0] / 2) % operations.count
                let torn = operations[chosen]
                // At its end (the whole write reached the file's size) for every other run.
                let cut =
                    (seeds[0] / 7) % 2 == 0 ? torn.end : torn.start + 1 + (seeds[0] / 21) % (torn.end - torn.start)
                var image = data.prefix(cut)
                // A page of the write that the disk never wrote, even when the file is whole.
                let lostPage = seeds[1] % 3 != 0
                if lostPage {
                    // In the first record of an operation of several for every other run.
                    let limit =
                        torn.parts > 1 && (seeds[1] / 3) % 2 == 0
                        ? min(cut, data[torn.start...].firstIndex(of: 10)! + 1) : cut
                    let start = torn.start + seeds[1] % (limit - torn.start)
                    let end = start + 1 + seeds[2] % (limit - start)
                    image.replaceSubrange(start..<end, with: repeatElement(0, count: end - start))
                }
                let complete = cut == torn.end && !lostPage ? torn : chosen > 0 ? operations[chosen - 1] : nil
                let validEnd = complete?.end ?? headerEnd
                try image.write(to: journal)
                let reopened = try FileStore(directory: directory.url, logger: CapturedLog().logger)
                let events = try reopened.load()
                reopened.close()
                #expect(
                    events == Array(history.prefix(complete?.seq ?? 0)),
                    "cut at \(cut) in \(torn) (lost page: \(lostPage)) of \(data.count) after \(steps)")
                #expect(try Data(contentsOf: journal) == data.prefix(validEnd), "the torn part was cut")
            } catch {
                Issue.record("\(error) after \(steps) with \(seeds)")
            }
        }
    }
}
