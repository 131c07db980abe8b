import Foundation

/// A changing call made with a `requestKey`: what identifies it (the key in the actor's scope and
/// the digest of the call), how a repeat of it is answered, and what is kept for it (SPEC §7).
struct KeyedCall {
    let key: RequestKeyTable.Key
    /// The digest of the call's method, params, roles and expert mode.
    let digest: String
    let method: String

    init<R: PortalRequest>(_ request: R, key: String, by actor: Principal) throws(PortalError) {
        self.key = RequestKeyTable.Key(scope: RequestKeyRecord.Scope(actor), key: key)
        self.digest = try RequestKeyRecord.digest(ofCall: request, by: actor)
        self.method = R.method
    }

    /// The first call made with this key, kept in `state` and recorded after `cutoff`, with the
    /// seq of the event record that carries it; nil if there is none. A first call that was
    /// another one (other method, params, roles or expert mode) is refused with `request-key-reused`.
    func firstCall(
        in state: PortalState, recordedAfter cutoff: Date, by actorID: String
    ) throws(PortalError) -> RequestKeyTable.Entry? {
        guard let entry = state.requestKeys.entry(key, recordedAfter: cutoff) else { return nil }
        guard entry.record.method == method, entry.record.digest == digest else {
            throw PortalError(
                .requestKeyReused,
                "request key '\(key.key)' was already used by '\(actorID)' for a \(entry.record.method) call with other parameters or other roles; use a new key for a new request"
            )
        }
        return entry
    }

    /// What is kept for this call: its key and digest, and its response as JSON text, so that a
    /// replay returns exactly the same result.
    func record(_ response: some Encodable) throws(PortalError) -> RequestKeyRecord {
        let encoder = JSONEncoder()
        // Sorted, so that equal results have equal text (and are held once).
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let result: String
        do {
            result = String(decoding: try encoder.encode(response), as: UTF8.self)
        } catch {
            throw PortalError(.storageFailure, "the result could not be kept for its request key: \(error)")
        }
        return RequestKeyRecord(scope: key.scope, key: key.key, method: method, digest: digest, result: result)
    }

    /// The response kept in a first call's record.
    static func response<T: Decodable>(of record: RequestKeyRecord, as type: T.Type) throws(PortalError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(record.result.utf8))
        } catch {
            throw PortalError(
                .requestKeyReused,
                "the result kept for this request key cannot be read by this version (\(error)); use a new key")
        }
    }
}
