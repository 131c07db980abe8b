import Foundation

/// Writes event records as JSON without `Codable`, so writes and snapshots cost little. The
/// output is what the `Codable` conformances read (absent optionals are left out, dates are
/// seconds since the reference date), and tests hold the two to each other.
package struct RecordWriter {
    /// The encoder for what the writer leaves to `Codable` (offers, price lists): sorted keys,
    /// slashes unescaped, as every record of a store is written.
    static func codableEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }

    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1024) }

    /// The JSON of one record.
    package static func json(_ record: EventRecord) throws -> [UInt8] {
        var writer = RecordWriter()
        try writer.eventRecord(record)
        return writer.bytes
    }

    // MARK: Entities

    mutating func eventRecord(_ r: EventRecord) throws {
        open()
        var f = true
        key("action", &f)
        string(r.action)
        key("actor", &f)
        actor(r.actor)
        key("at", &f)
        date(r.at)
        key("changes", &f)
        try array(r.changes) { try $0.change($1) }
        if let v = r.domainId {
            key("domainId", &f)
            string(v)
        }
        if let v = r.partnerId {
            key("partnerId", &f)
            string(v)
        }
        if let v = r.requestKey {
            key("requestKey", &f)
            requestKey(v)
        }
        key("seq", &f)
        int(r.seq)
        key("summary", &f)
        string(r.summary)
        key("target", &f)
        string(r.target)
        if let v = r.tenantId {
            key("tenantId", &f)
            string(v)
        }
        close()
    }

    private mutating func requestKey(_ k: RequestKeyRecord) {
        open()
        var f = true
        key("digest", &f)
        string(k.digest)
        key("key", &f)
        string(k.key)
        key("method", &f)
        string(k.method)
        key("result", &f)
        string(k.result)
        key("scope", &f)
        open()
        var g = true
        key("id", &g)
        string(k.scope.id)
        key("kind", &g)
        string(k.scope.kind.rawValue)
        if let v = k.scope.partnerId {
            key("partnerId", &g)
            string(v)
        }
        if let v = k.scope.tenantId {
            key("tenantId", &g)
            string(v)
        }
        close()
        close()
    }

    private mutating func actor(_ a: PrincipalReference) {
        open()
        var f = true
        key("id", &f)
        string(a.id)
        key("kind", &f)
        string(a.kind.rawValue)
        close()
    }

    private mutating func change(_ change: Change) throws {
        open()
        var f = true
        switch change {
        case .partnerSaved(let p):
            key("partnerSaved", &f)
            partner(p)
        case .tenantSaved(let t):
            key("tenantSaved", &f)
            tenant(t)
        case .domainSaved(let d):
            key("domainSaved", &f)
            domain(d)
        case .taskSaved(let t):
            key("taskSaved", &f)
            task(t)
        case .offerSaved(let offer):
            key("offerSaved", &f)
            bytes += try Self.codableEncoder().encode(offer)
        case .pricesRecorded(let prices):
            key("pricesRecorded", &f)
            bytes += try Self.codableEncoder().encode(prices)
        }
        close()
    }

    private mutating func partner(_ p: Partner) {
        open()
        var f = true
        key("createdAt", &f)
        date(p.createdAt)
        key("id", &f)
        string(p.id)
        key("name", &f)
        string(p.name)
        close()
    }

    private mutating func tenant(_ t: Tenant) {
        open()
        var f = true
        key("address", &f)
        address(t.address)
        if let contact = t.contact {
            key("contact", &f)
            open()
            var g = true
            key("email", &g)
            string(contact.email)
            if let phone = contact.phone {
                key("phone", &g)
                string(phone)
            }
            close()
        }
        key("createdAt", &f)
        date(t.createdAt)
        if let v = t.externalId {
            key("externalId", &f)
            string(v)
        }
        key("id", &f)
        string(t.id)
        if let v = t.invoiceReference {
            key("invoiceReference", &f)
            string(v)
        }
        key("name", &f)
        string(t.name)
        key("partnerId", &f)
        string(t.partnerId)
        key("products", &f)
        array(t.products) { $0.string($1) }
        key("source", &f)
        string(t.source.rawValue)
        key("version", &f)
        int(t.version)
        close()
    }

    private mutating func address(_ a: Address) {
        open()
        var f = true
        key("city", &f)
        string(a.city)
        key("country", &f)
        string(a.country)
        key("postalCode", &f)
        string(a.postalCode)
        key("street", &f)
        string(a.street)
        close()
    }

    private mutating func domain(_ d: Domain) {
        open()
        var f = true
        key("access", &f)
        array(d.access) { $0.string($1) }
        key("confidential", &f)
        bool(d.confidential)
        key("createdAt", &f)
        date(d.createdAt)
        key("id", &f)
        string(d.id)
        if let mode = d.lastMode {
            key("lastMode", &f)
            string(mode.rawValue)
        }
        key("name", &f)
        string(d.name)
        key("nextServiceNumber", &f)
        int(d.nextServiceNumber)
        key("region", &f)
        string(d.region.rawValue)
        key("services", &f)
        array(d.services) { $0.service($1) }
        key("tenantId", &f)
        string(d.tenantId)
        key("users", &f)
        array(d.users) { writer, user in
            writer.open()
            var g = true
            writer.key("active", &g)
            writer.bool(user.active)
            writer.key("address", &g)
            writer.string(user.address)
            writer.key("protection", &g)
            writer.string(user.protection.rawValue)
            writer.close()
        }
        key("version", &f)
        int(d.version)
        close()
    }

    private mutating func service(_ s: BookedService) {
        open()
        var f = true
        if let v = s.billingStart {
            key("billingStart", &f)
            string(v.description)
        }
        if let v = s.cancellation {
            key("cancellation", &f)
            cancellation(v)
        }
        key("code", &f)
        string(s.code)
        if let v = s.confirmedAt {
            key("confirmedAt", &f)
            date(v)
        }
        if let v = s.discount {
            key("discount", &f)
            open()
            var g = true
            key("basisPoints", &g)
            int(v.basisPoints)
            if let reason = v.reason {
                key("reason", &g)
                string(reason.rawValue)
            }
            close()
        }
        if let v = s.endDate {
            key("endDate", &f)
            string(v.description)
        }
        key("number", &f)
        int(s.number)
        key("orderedAt", &f)
        date(s.orderedAt)
        if let v = s.provisionedAt {
            key("provisionedAt", &f)
            date(v)
        }
        key("status", &f)
        string(s.status.rawValue)
        close()
    }

    private mutating func cancellation(_ c: Cancellation) {
        open()
        var f = true
        key("operation", &f)
        int(c.operation)
        key("previous", &f)
        array(c.previous) { $0.cancellation($1) }
        if let v = c.previousEndDate {
            key("previousEndDate", &f)
            string(v.description)
        }
        key("previousStatus", &f)
        string(c.previousStatus.rawValue)
        close()
    }

    private mutating func task(_ t: DeployTask) {
        open()
        var f = true
        key("createdAt", &f)
        date(t.createdAt)
        if let v = t.doneAt {
            key("doneAt", &f)
            date(v)
        }
        key("domainId", &f)
        string(t.domainId)
        key("id", &f)
        string(t.id)
        key("kind", &f)
        string(t.kind.rawValue)
        key("record", &f)
        open()
        var g = true
        key("name", &g)
        string(t.record.name)
        key("type", &g)
        string(t.record.type)
        key("value", &g)
        string(t.record.value)
        close()
        key("service", &f)
        string(t.service)
        key("serviceNumber", &f)
        int(t.serviceNumber)
        key("status", &f)
        string(t.status.rawValue)
        close()
    }

    // MARK: JSON

    private mutating func open() { bytes.append(UInt8(ascii: "{")) }

    private mutating func close() { bytes.append(UInt8(ascii: "}")) }

    /// Starts a member, after a comma unless it is the object's first.
    private mutating func key(_ name: StaticString, _ first: inout Bool) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes += $0 }
        bytes += [UInt8(ascii: "\""), UInt8(ascii: ":")]
    }

    private mutating func array<T>(_ items: [T], _ element: (inout RecordWriter, T) throws -> Void) rethrows {
        bytes.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            try element(&self, item)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ value: Int) { bytes += Array(String(value).utf8) }

    mutating func bool(_ value: Bool) { bytes += Array((value ? "true" : "false").utf8) }

    /// Seconds since the reference date, in the shortest form that reads back exactly.
    mutating func date(_ date: Date) {
        let seconds = date.timeIntervalSinceReferenceDate
        precondition(seconds.isFinite, "a date must be finite")
        bytes += Array(seconds.description.utf8)
    }
}
