import Foundation

/// The JSON form in which stores keep one event record: the file store's journal lines and the
/// rows of the PostgreSQL store hold exactly these bytes.
package enum RecordCodec {
    /// The record as compact JSON with sorted keys.
    package static func encode(_ record: EventRecord) throws -> [UInt8] { try RecordWriter.json(record) }

    /// A record from the bytes ``encode(_:)`` produced: the fast reader, else `JSONDecoder`
    /// (whose error names what is wrong).
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws -> EventRecord {
        if let record = try? RecordReader.record(bytes) { return record }
        return try JSONDecoder().decode(EventRecord.self, from: Data(bytes))
    }
}
