import Foundation

/// The JSON form in which stores keep one event record: the file store's journal lines and the
/// rows of the PostgreSQL store hold exactly these bytes. A store of another package (such as the
/// benchmark's SQLite store) keeps records in the same form with it.
public enum RecordCodec {
    /// The record as compact JSON with sorted keys.
    public static func encode(_ record: EventRecord) throws -> [UInt8] { try RecordWriter.json(record) }

    /// A record from the bytes ``encode(_:)`` produced: the fast reader, else `JSONDecoder`
    /// (whose error names what is wrong).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> EventRecord {
        if let record = try? RecordReader.record(bytes) { return record }
        return try JSONDecoder().decode(EventRecord.self, from: Data(bytes))
    }
}
