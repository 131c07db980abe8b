import Foundation
import Testing

@testable import TenantServicesFileStore

/// A large journal's lines are found in parts on every core: the same lines and the same end
/// (where a torn write starts) as one search from the start.
@Suite struct JournalLinesTests {
    /// Lines of random lengths (some long), then `tail` bytes without a newline.
    static func journal(_ random: inout SplitMix, size: Int, tail: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + tail)
        while bytes.count < size {
            let length = random.chance(2) ? random.int(100_000...3_000_000) : random.int(0...2_000)
            bytes += [UInt8](repeating: UInt8(ascii: "x"), count: length)
            bytes.append(10)
        }
        bytes += [UInt8](repeating: UInt8(ascii: "t"), count: tail)
        return bytes
    }

    @Test func findsTheLinesInPartsLikeOneSearch() {
        var random = SplitMix(seed: 4_200)
        var cases = [(size: 0, tail: 5 << 20), (size: 9 << 20, tail: 0), (size: 5 << 20, tail: 7 << 20)]
        for _ in 0..<8 {
            cases.append((random.int(4 << 20...12 << 20), random.chance(50) ? 0 : random.int(1...(6 << 20))))
        }
        for (size, tail) in cases {
            let bytes = Self.journal(&random, size: size, tail: tail)
            bytes.withUnsafeBytes { all in
                for start in [0, 1, 70] where start <= all.count {
                    let parts = FileStore.completeLines(all, from: start)
                    let one = FileStore.completeLines(all, from: start, to: all.count)
                    #expect(parts.lines == one.lines, "size \(size), tail \(tail), from \(start)")
                    #expect(parts.end == one.end, "size \(size), tail \(tail), from \(start)")
                    #expect(one.end == all.count - tail || start > all.count - tail)
                }
            }
        }
    }

    @Test func splitsAtALineStartOrInsideALine() {
        // Lines of exactly a part's size and one byte more or less, so a split falls on a line
        // start, just after one and just before one.
        for delta in [-1, 0, 1] {
            let share = (8 << 20) / 2
            var bytes = [UInt8](repeating: UInt8(ascii: "y"), count: share + delta - 1)
            bytes.append(10)
            bytes += [UInt8](repeating: UInt8(ascii: "z"), count: 8 << 20 - bytes.count - 1)
            bytes.append(10)
            bytes.withUnsafeBytes { all in
                let parts = FileStore.completeLines(all, from: 0)
                let one = FileStore.completeLines(all, from: 0, to: all.count)
                #expect(parts.lines == one.lines)
                #expect(parts.lines.count == 2)
                #expect(parts.end == one.end)
            }
        }
    }
}
