import Foundation

/// The `requestKey`s in force (kept at least 24 hours, so a retried call is answered with the
/// first reply instead of running again): rebuilt from the event records that carry them, so a
/// key survives a restart and is known to every server that reads the same records.
///
/// A key belongs to the actor's whole identity (``RequestKeyRecord/Scope``); its digest covers
/// the method, the params and the actor's roles and expert mode. A key is kept for the
/// retention period after its record's time, then evicted: from the table and from the record
/// in the history, so neither memory nor snapshots grow with keys.
///
/// Memory: per key about 200 bytes plus its result's JSON text (about the size of the reply).
/// Equal result texts are held once (interned): a CRM sync retried under fresh keys, whose
/// result does not change, costs one result in all. The text is shared with the record in the
/// history, never copied.
struct RequestKeyTable: Sendable, Equatable {
    /// Where a key lives: the actor's identity and the key.
    struct Key: Hashable, Sendable {
        var scope: RequestKeyRecord.Scope
        var key: String
    }

    /// A key in force: its record, and the seq and time of the event record that carries it.
    struct Entry: Sendable, Equatable {
        var record: RequestKeyRecord
        var seq: Int
        var at: Date
    }

    private(set) var entries: [Key: Entry] = [:]
    /// Keys in the order they were recorded, oldest first from `head` (entries since replaced or
    /// undone are skipped when they come up).
    private var order: [(key: Key, seq: Int)] = []
    private var head = 0
    /// Every distinct result text of `entries`, with the number of entries holding it.
    private var results: [ResultText: Int] = [:]

    /// A result text compared and hashed by its bytes (`String` equality is Unicode-canonical:
    /// two different byte sequences may be equal, and a replay must return the very bytes).
    private struct ResultText: Hashable, Sendable {
        let text: String

        static func == (lhs: Self, rhs: Self) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.entries == rhs.entries }

    var count: Int { entries.count }

    /// Bytes of distinct result text held (the bulk of the table's memory).
    var resultBytes: Int { results.keys.reduce(0) { $0 + $1.text.utf8.count } }

    /// The entry of `key` if it was recorded after `cutoff`.
    func entry(_ key: Key, recordedAfter cutoff: Date) -> Entry? {
        guard let entry = entries[key], entry.at > cutoff else { return nil }
        return entry
    }

    /// Records a key; returns the record as kept (its result text shared with equal ones) and
    /// the entry it replaces (for undo).
    mutating func insert(_ record: RequestKeyRecord, seq: Int, at: Date) -> (
        kept: RequestKeyRecord, key: Key, previous: Entry?
    ) {
        let key = Key(scope: record.scope, key: record.key)
        var record = record
        record.result = retain(record.result)
        let previous = entries.updateValue(Entry(record: record, seq: seq, at: at), forKey: key)
        if let previous { release(previous.record.result) }
        order.append((key, seq))
        return (record, key, previous)
    }

    /// Puts back what `insert` replaced.
    mutating func restore(_ key: Key, _ previous: Entry?) {
        if let previous { _ = retain(previous.record.result) }
        if let current = entries[key] { release(current.record.result) }
        entries[key] = previous
        if let previous { order.append((key, previous.seq)) }
    }

    /// The kept text equal to `text` (or `text`, now kept), counted once more.
    private mutating func retain(_ text: String) -> String {
        let wrapped = ResultText(text: text)
        if let index = results.index(forKey: wrapped) {
            results.values[index] += 1
            return results.keys[index].text
        }
        results[wrapped] = 1
        return text
    }

    private mutating func release(_ text: String) {
        let wrapped = ResultText(text: text)
        guard let count = results[wrapped] else { return }
        results[wrapped] = count > 1 ? count - 1 : nil
    }

    /// Removes every key recorded at or before `cutoff`, oldest first, stopping at the first one
    /// still in force; returns the seqs of the records whose keys were removed.
    mutating func evict(recordedAtOrBefore cutoff: Date) -> [Int] {
        var evicted: [Int] = []
        while head < order.count {
            let (key, seq) = order[head]
            if let entry = entries[key], entry.seq == seq {
                guard entry.at <= cutoff else { break }
                entries[key] = nil
                release(entry.record.result)
                evicted.append(seq)
            }
            head += 1
        }
        if head > 1024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        return evicted
    }
}

extension RequestKeyRecord {
    /// The digest of a call: its method, its params and the roles and expert mode of the actor
    /// making it, so that the same key with other roles is never replayed (it answers
    /// `request-key-reused`).
    static func digest<R: PortalRequest>(ofCall request: R, by actor: Principal) throws(PortalError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let roles = Set(actor.roles.map(\.rawValue)).sorted()
        do {
            let bytes = try encoder.encode(
                Fingerprint(method: R.method, params: request, roles: roles, expertMode: actor.expertMode))
            return SHA256.hexDigest(bytes)
        } catch {
            throw PortalError(
                .invalidArgument, "the request cannot be encoded to be kept under its request key: \(error)")
        }
    }
}

/// What a request key's digest covers.
private struct Fingerprint<Params: Encodable>: Encodable {
    var method: String
    var params: Params
    var roles: [String]
    var expertMode: Bool
}
