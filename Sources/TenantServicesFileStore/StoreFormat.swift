import Foundation
import TenantServices

/// The byte layout of the file store (described by `Schemas/store/`).
///
/// Journal (`journal.jsonl`): one JSON object per line, each closed by its own CRC-32C:
///
///     {"format":"tenant-services-journal","version":1,"crc32c":"1c2d3e4f"}
///     {"part":[1,1],"event":{…},"crc32c":"0a1b2c3d"}
///
/// The checksum covers the line's bytes before `,"crc32c"`. `part` is the record's place among
/// the records of one operation, so a torn operation is recognized as a whole.
///
/// Snapshot (`snapshot.json`): one JSON document, one event per line, the checksum at the end
/// covering every byte before `,"crc32c"`:
///
///     {"format":"tenant-services-snapshot","version":1,"lastSeq":2,"events":[
///     {…},
///     {…}
///     ],"crc32c":"5e6f7a8b"}
enum StoreFormat {
    static let version = 1
    static let journalHeader = Array(#"{"format":"tenant-services-journal","version":1"#.utf8)
    static let snapshotHeaderPrefix = Array(#"{"format":"tenant-services-snapshot","version":"#.utf8)
    static let checksumMarker = Array(#","crc32c":""#.utf8)
    /// `,"crc32c":"xxxxxxxx"}`
    static let sealLength = checksumMarker.count + 8 + 2

    /// `body` closed by its checksum and a newline.
    static func sealed(_ body: [UInt8]) -> [UInt8] {
        var line = body
        line.reserveCapacity(body.count + sealLength + 1)
        line += checksumMarker
        line += hex(body.withUnsafeBytes { CRC32C.checksum($0) })
        line += Array("\"}\n".utf8)
        return line
    }

    static func hex(_ value: UInt32) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return (0..<8).reversed().map { digits[Int((value >> (UInt32($0) * 4)) & 0xF)] }
    }

    /// The body of a sealed line (without its newline) if its checksum matches.
    static func unsealed(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard line.count > sealLength, line[line.count - 1] == UInt8(ascii: "}"),
            line[line.count - 2] == UInt8(ascii: "\"")
        else { return nil }
        let bodyEnd = line.count - sealLength
        guard
            UnsafeRawBufferPointer(rebasing: line[bodyEnd..<bodyEnd + checksumMarker.count]).elementsEqual(
                checksumMarker)
        else { return nil }
        let body = UnsafeRawBufferPointer(rebasing: line[0..<bodyEnd])
        guard
            let written = lowerCaseHex(
                UnsafeRawBufferPointer(rebasing: line[bodyEnd + checksumMarker.count..<line.count - 2])),
            written == CRC32C.checksum(body)
        else { return nil }
        return body
    }

    /// The value of exactly eight lower-case hex digits (as ``hex(_:)`` writes them), else nil.
    static func lowerCaseHex(_ digits: UnsafeRawBufferPointer) -> UInt32? {
        guard digits.count == 8 else { return nil }
        var value: UInt32 = 0
        for digit in digits {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt32(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt32(digit - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    /// The journal line of one record: part `index` (from 1) of `count`.
    static func journalLine(_ record: EventRecord, index: Int, count: Int) throws -> [UInt8] {
        sealed(Array(#"{"part":[\#(index),\#(count)],"event":"#.utf8) + (try RecordWriter.json(record)))
    }

    static let recordPrefix = Array(#"{"part":["#.utf8)
    static let recordMiddle = Array(#"],"event":"#.utf8)

    /// The part and the event's bytes of a journal record body.
    static func parseRecordBody(_ body: UnsafeRawBufferPointer) -> (
        index: Int, count: Int, event: UnsafeRawBufferPointer
    )? {
        let prefix = recordPrefix
        guard body.starts(with: prefix) else { return nil }
        var i = prefix.count
        func number() -> Int? {
            var value = 0
            let start = i
            while i < body.count, body[i] >= UInt8(ascii: "0"), body[i] <= UInt8(ascii: "9"), i - start < 12 {
                value = value * 10 + Int(body[i] - UInt8(ascii: "0"))
                i += 1
            }
            return i > start ? value : nil
        }
        guard let index = number(), i < body.count, body[i] == UInt8(ascii: ","),
            ({
                i += 1; return true
            })(),
            let count = number()
        else { return nil }
        let middle = recordMiddle
        guard UnsafeRawBufferPointer(rebasing: body[i...]).starts(with: middle) else { return nil }
        i += middle.count
        guard index >= 1, index <= count else { return nil }
        return (index, count, UnsafeRawBufferPointer(rebasing: body[i...]))
    }
}
