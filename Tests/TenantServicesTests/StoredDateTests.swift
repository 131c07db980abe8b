import Foundation
import Logging
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

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
            seq: 1, at: Date(), actor: PrincipalReference(id: "ops", kind: .operator), action: "a", target: "t",
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
