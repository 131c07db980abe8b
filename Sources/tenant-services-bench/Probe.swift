import Foundation
import TenantServices

extension Benchmark {
    func probe(_ records: [EventRecord]) throws {
        let encoder = JSONEncoder()
        var lines = Data()
        let enc = try best(1) {
            for r in records { lines.append(try encoder.encode(r)); lines.append(10) }
        }
        print(String(format: "encode %d records: %.2f s, %.0f MB", records.count, enc, Double(lines.count) / 1e6))
        let decoder = JSONDecoder()
        var count = 0
        let dec = try best(1) {
            var start = lines.startIndex
            while let nl = lines[start...].firstIndex(of: 10) {
                _ = try decoder.decode(EventRecord.self, from: lines[start..<nl])
                count += 1
                start = nl + 1
            }
        }
        print(String(format: "decode lines: %.2f s (%d)", dec, count))
        let whole = try encoder.encode(records)
        let dec2 = try best(1) { _ = try decoder.decode([EventRecord].self, from: whole) }
        print(String(format: "decode one array: %.2f s, %.0f MB", dec2, Double(whole.count) / 1e6))
    }
}
