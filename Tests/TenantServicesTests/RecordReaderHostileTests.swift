import Foundation
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesFileStore

/// The fast record reader on hostile bytes: whatever it reads, `JSONDecoder` (the store's
/// fallback and the reference) reads the same; whatever `JSONDecoder` refuses, the reader refuses
/// too, so a garbled record fails the load as before instead of being misread.
@Suite struct RecordReaderHostileTests {
    /// Records of a history with every kind of domain member (services with discounts and
    /// cancellations, users, request keys).
    static func records() throws -> [EventRecord] {
        let world = try WorldBuilder(clock: TestClock("2026-11-18"))
        let partner = try world.partner("Müller \u{1F600}")
        let tenant = try world.tenant("Tenant Ä", of: partner)
        let domain = try world.domain(
            "muster.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned,
            users: [.signEncrypt: 2, .none: 1])
        let op = Principal.platformOperator()
        _ = try world.portal.perform(
            ServiceSetDiscount(domainId: domain, service: "SC-F-INBOUND", percent: 12.5, reason: .promotion), as: op)
        _ = try world.portal.perform(ServiceCancel(domainId: domain, service: "SC-F-OUTBOUND"), as: op)
        _ = try world.portal.perform(
            ServiceUncancel(domainId: domain, service: "SC-F-OUTBOUND"), as: op, requestKey: "k1")
        return world.portal.journal
    }

    /// Reader and reference on `bytes`: nil when they agree (or the reader refuses), else why not.
    static func disagreement(_ bytes: [UInt8]) -> String? {
        let fast = try? bytes.withUnsafeBytes { try RecordReader.record($0) }
        guard let fast else { return nil }
        let slow = try? JSONDecoder().decode(EventRecord.self, from: Data(bytes))
        guard let slow else { return "the reader reads what JSONDecoder refuses" }
        return fast == slow ? nil : "the reader reads another record than JSONDecoder"
    }

    static func check(_ inputs: [[UInt8]]) -> [String] {
        var found: [String] = []
        for bytes in inputs {
            if let why = disagreement(bytes) { found.append("\(why): \(String(decoding: bytes, as: UTF8.self))") }
        }
        return found
    }

    /// Every byte replaced by bytes that matter to JSON and UTF-8, deleted, or doubled, and the
    /// record cut at every byte (a torn line).
    @Test func singleByteDamageIsReadLikeJSONDecoderOrRefused() throws {
        let replacements: [UInt8] = [
            0x22, 0x5C, 0x2C, 0x3A, 0x7D, 0x5D, 0x20, 0x30, 0x2D, 0x2E, 0x00, 0x80, 0xC3, 0xFF,
        ]
        var mismatches: [String] = []
        for record in try Self.records() {
            let written = try RecordWriter.json(record)
            var inputs: [[UInt8]] = []
            for at in written.indices {
                for byte in replacements where byte != written[at] {
                    var damaged = written
                    damaged[at] = byte
                    inputs.append(damaged)
                }
                var deleted = written
                deleted.remove(at: at)
                inputs.append(deleted)
                var doubled = written
                doubled.insert(written[at], at: at)
                inputs.append(doubled)
                inputs.append(Array(written[..<at]))
            }
            mismatches += Self.check(inputs)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) inputs, first: \(mismatches.prefix(3))")
    }

    /// Numbers at the edges in the place of every number of the records (seqs, dates, counts).
    @Test func edgeNumbersAreReadLikeJSONDecoderOrRefused() throws {
        let numbers = [
            "1.", ".5", "-.5", "01", "00", "-01", "1e5", "1E+5", "1e-5", "+1", "-0", "-0.0", "0.0", "1.0e", "1e", "--1",
            "0x10", "1e400", "-1e400", "1e-400", "123456789012345678", "1234567890123456789", "9223372036854775807",
            "-9223372036854775808", "9007199254740993", "9007199254740992.0", "900719925474099.3",
            "1.00000000000000000000001",
            "0.30000000000000004", "1234567890.1234567890123", "NaN", "Infinity", "-", "1.5.", "1..5", "1.e5", "1e5.5",
            String(repeating: "9", count: 39), String(repeating: "9", count: 40), "1.0", "10.0", "-10.0", "12.50",
            "99999999999999.9", "999999999999999.0", "9999999999999999.0", "1 ", " 1", "1\n",
        ]
        var mismatches: [String] = []
        for record in try Self.records() {
            let text = String(decoding: try RecordWriter.json(record), as: UTF8.self)
            let pattern = #/(?<lead>[:\[,])-?[0-9][0-9.eE+-]*/#
            let places = text.matches(of: pattern)
            var inputs: [[UInt8]] = []
            for place in places {
                for number in numbers {
                    var damaged = text
                    damaged.replaceSubrange(place.range, with: place.output.lead + number)
                    inputs.append(Array(damaged.utf8))
                }
            }
            mismatches += Self.check(inputs)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) inputs, first: \(mismatches.prefix(3))")
    }

    /// Strings with escapes, astral and invalid UTF-8, long strings, and enum names spelled with
    /// escapes, in the place of every string.
    @Test func hostileStringsAreReadLikeJSONDecoderOrRefused() throws {
        let strings = [
            #"\u0061"#, #"\ud83d\ude00"#, #"\ud800"#, #"\udc00x"#, #"\""#, #"\\"#, #"\/"#, #"\b\f\n\r\t"#, #"\x"#,
            #"\u00"#, "\u{7F}", "\u{85}\u{2028}\u{FEFF}", "e\u{301}", "\u{1F600}",
            String(repeating: "abcdefgh", count: 40),
            String(repeating: "ä", count: 31), "\u{10FFFF}", "",
        ]
        var mismatches: [String] = []
        for record in try Self.records() {
            let text = String(decoding: try RecordWriter.json(record), as: UTF8.self)
            // Values only: a string after a colon or in an array.
            let pattern = #/(?<lead>[:\[,])"[^"\\]*"/#
            var inputs: [[UInt8]] = []
            for place in text.matches(of: pattern) {
                let inner = text[place.range].dropFirst(2).dropLast()
                var variants = strings.map { "\"" + $0 + "\"" }
                // The value itself, with its first letter escaped, or a byte of it made invalid UTF-8.
                if let first = inner.unicodeScalars.first, first.isASCII {
                    variants.append("\"\\u" + String(format: "%04x", first.value) + inner.dropFirst() + "\"")
                }
                for variant in variants {
                    var damaged = text
                    damaged.replaceSubrange(place.range, with: place.output.lead + variant)
                    inputs.append(Array(damaged.utf8))
                }
                var bytes = Array(text.utf8)
                let start = text.utf8.distance(from: text.startIndex, to: place.range.lowerBound) + 2
                for bad: [UInt8] in [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF]] {
                    bytes = Array(text.utf8)
                    bytes.insert(contentsOf: bad, at: start)
                    inputs.append(bytes)
                }
            }
            mismatches += Self.check(inputs)
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) inputs, first: \(mismatches.prefix(3))")
    }

    /// A record the writer never writes (a number out of JSON's grammar, bytes that are not
    /// UTF-8) fails the store's load with the damage named, instead of being read as something.
    @Test(arguments: [#""at":1."#, #""at":01"#, #""at":1e-400"#, #""seq":01"#, "\"action\":\"\u{FFFD}"])
    func aRecordOutsideJSONFailsTheLoad(_ damage: String) throws {
        let record = try #require(try Self.records().first)
        let text = String(decoding: try RecordWriter.json(record), as: UTF8.self)
        var bytes = Array(
            text.replacing(#/"at":[0-9.]+/#, with: "\"at\":1.0").replacing(#/"action":"/#, with: "\"action\":\"")
                .utf8)
        let damaged = damage.replacingOccurrences(of: "\u{FFFD}", with: "")
        let target =
            damage.hasPrefix(#""at""#) ? #""at":1.0"# : damage.hasPrefix(#""seq""#) ? #""seq":1"# : #""action":""#
        var place = String(decoding: bytes, as: UTF8.self)
        place = place.replacingOccurrences(of: target, with: damaged)
        bytes = Array(place.utf8)
        if damage.contains("\u{FFFD}") {
            let at = Array(place.utf8).firstRange(of: Array(damaged.utf8))!.upperBound
            bytes.insert(0xFF, at: at)
        }
        #expect(throws: StoreError.self) {
            _ = try bytes.withUnsafeBytes { try FileStore.record($0, file: "journal.jsonl", offset: 0) }
        }
    }
}
