import Foundation
import Synchronization
import TenantServices
import Testing

@testable import TenantServicesFileStore

/// The chunked parallel decoding of a load: every result in order, and the workers never run far
/// ahead of a slow consumer (what waits for it stays bounded, and so does the memory it holds).
@Suite struct ParallelDecodingTests {
    @Test func handsEveryResultInOrderAndStaysCloseToASlowConsumer() throws {
        let count = 512 * 200
        let made = Atomic(0)
        var consumed = 0
        var mostAhead = 0
        try FileStore.inParallel(count) { i in
            made.add(1, ordering: .relaxed)
            return i * 3
        } consume: { i, result in
            #expect(result == i * 3)
            #expect(i == consumed)
            consumed += 1
            mostAhead = max(mostAhead, made.load(ordering: .relaxed) - consumed)
            if i % 1_000 == 0 { Thread.sleep(forTimeInterval: 0.001) }
        }
        #expect(consumed == count)
        // 64 chunks of 200 handed out past the consumer, and the chunks in the workers' hands.
        let chunk = count / 512
        #expect(mostAhead <= (64 + ProcessInfo.processInfo.activeProcessorCount + 1) * chunk)
        #expect(mostAhead > 0)
    }

    @Test func throwsTheFirstFailureInOrder() {
        #expect(throws: StoreError("item 70000")) {
            try FileStore.inParallel(100_000) { i in
                if i == 70_000 || i == 90_000 { throw StoreError("item \(i)") }
                return i
            } consume: { _, _ in
            }
        }
        #expect(throws: StoreError("consumed 500")) {
            try FileStore.inParallel(100_000) {
                $0
            } consume: { i, _ in
                if i == 500 { throw StoreError("consumed 500") }
            }
        }
    }
}
