import CSQLite
import Foundation
import TenantServices

/// A second backend behind the same `Store` protocol, written without touching the domain code:
/// one row per event in SQLite (WAL, synchronous=FULL, one transaction per operation). It is
/// here to compare like with like (both encode each event as JSON) and to show that the
/// protocol is enough for another backend.
final class SQLiteStore: Store, @unchecked Sendable {
    // Used by one portal, which calls `write` serially; SQLite's own mutex guards the handle.
    private var db: OpaquePointer?
    private var insert: OpaquePointer?
    private let encoder = JSONEncoder()

    init(path: String) throws {
        guard
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nil)
                == SQLITE_OK
        else { throw StoreError("cannot open \(path)") }
        for statement in [
            "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
            "CREATE TABLE IF NOT EXISTS events(seq INTEGER PRIMARY KEY, body BLOB NOT NULL)",
        ] {
            try execute(statement)
        }
        guard sqlite3_prepare_v2(db, "INSERT INTO events(seq, body) VALUES (?, ?)", -1, &insert, nil) == SQLITE_OK
        else { throw StoreError(String(cString: sqlite3_errmsg(db))) }
    }

    deinit {
        sqlite3_finalize(insert)
        sqlite3_close(db)
    }

    private func execute(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
            throw StoreError("\(sql): \(String(cString: sqlite3_errmsg(db)))")
        }
    }

    func load() throws -> [EventRecord] {
        var select: OpaquePointer?
        guard sqlite3_prepare_v2(db, "SELECT body FROM events ORDER BY seq", -1, &select, nil) == SQLITE_OK else {
            throw StoreError(String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(select) }
        let decoder = JSONDecoder()
        var records: [EventRecord] = []
        while sqlite3_step(select) == SQLITE_ROW {
            let body = Data(bytes: sqlite3_column_blob(select, 0), count: Int(sqlite3_column_bytes(select, 0)))
            records.append(try decoder.decode(EventRecord.self, from: body))
        }
        return records
    }

    func write(_ records: [EventRecord]) throws -> StorePosition {
        try execute("BEGIN")
        do {
            for record in records {
                let body = try encoder.encode(record)
                sqlite3_bind_int64(insert, 1, Int64(record.seq))
                _ = body.withUnsafeBytes { sqlite3_bind_blob(insert, 2, $0.baseAddress, Int32($0.count), nil) }
                defer { sqlite3_reset(insert) }
                guard sqlite3_step(insert) == SQLITE_DONE else { throw StoreError(String(cString: sqlite3_errmsg(db))) }
            }
            try execute("COMMIT")  // durable when it returns: synchronous=FULL
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        return StorePosition(Int64(records.last?.seq ?? 0))
    }

    func waitUntilDurable(_ position: StorePosition) {}
}
