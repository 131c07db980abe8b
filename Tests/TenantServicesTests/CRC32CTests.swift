import Foundation
import Testing

@testable import TenantServicesFileStore

/// The processor's CRC-32C instruction and the table compute the same checksums.
@Suite struct CRC32CTests {
    /// `count` seeded random bytes.
    static func randomBytes(_ count: Int, _ random: inout SplitMix) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    @Test func knownValuesOfCRC32C() {
        // The check value of CRC-32C (RFC 3720, B.4) and the empty input.
        for checksum in [CRC32C.checksum(_:), CRC32C.softwareChecksum(_:)] as [(UnsafeRawBufferPointer) -> UInt32] {
            #expect(Array("123456789".utf8).withUnsafeBytes { checksum($0) } == 0xE306_9283)
            #expect([UInt8]().withUnsafeBytes { checksum($0) } == 0)
            #expect([UInt8](repeating: 0, count: 32).withUnsafeBytes { checksum($0) } == 0x8A91_36AA)
            #expect([UInt8](repeating: 0xFF, count: 32).withUnsafeBytes { checksum($0) } == 0x62A8_AB43)
        }
    }

    @Test func usesTheInstructionWhereTheProcessorHasIt() throws {
        #if arch(x86_64) && os(Linux)
            let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            #expect(CRC32C.usesHardware == cpuinfo.contains(" sse4_2"))
        #endif
    }

    @Test func checksumEqualsTheTableOnEveryLengthAndAlignment() {
        var random = SplitMix(seed: 0xC3C3_2C)
        let buffer = Self.randomBytes(300 + 16, &random)
        buffer.withUnsafeBytes { all in
            for alignment in 0..<16 {
                for length in 0...300 {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[alignment..<alignment + length])
                    #expect(
                        CRC32C.checksum(bytes) == CRC32C.softwareChecksum(bytes),
                        "length \(length) at offset \(alignment)")
                }
            }
        }
    }

    @Test func checksumEqualsTheTableOnLongBuffers() {
        var random = SplitMix(seed: 17)
        // Past 16 KiB the instruction reads three streams and combines them: lengths around that.
        let streams = [16_383, 16_384, 16_385, 16_391, 16_392, 24_576 + 13, 49_151, 49_152]
        for length in streams + [1 << 12, 65_537, 1 << 20, 3 * (1 << 20) + 5] {
            let buffer = Self.randomBytes(length + 7, &random)
            buffer.withUnsafeBytes { all in
                for alignment in [0, 3, 7] {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[alignment..<alignment + length])
                    #expect(CRC32C.checksum(bytes) == CRC32C.softwareChecksum(bytes), "length \(length)")
                }
            }
        }
    }

    @Test func checksumEqualsTheTableOnRandomJournalLines() {
        // Lines like the journal's: JSON text of random lengths, some bytes past ASCII.
        var random = SplitMix(seed: 2026)
        let alphabet = Array(#"{}[]":,0123456789abcdefghijklmnopqrstuvwxyz-. "#.utf8) + Array("äöü€".utf8)
        for _ in 0..<2_000 {
            let line = (0..<random.int(0...2_000)).map { _ in random.pick(alphabet) }
            line.withUnsafeBytes { #expect(CRC32C.checksum($0) == CRC32C.softwareChecksum($0)) }
        }
    }
}
