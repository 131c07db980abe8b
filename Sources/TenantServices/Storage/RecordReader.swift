import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads event records as the file store writes them, without `Codable`, so large stores load
/// quickly. It reads the same JSON the `Codable` conformances write; whatever it does not
/// understand it reports, and the store then decodes that record with `JSONDecoder`, so this is a
/// fast path only, never a second definition of the format.
package struct RecordReader {
    struct Unreadable: Error {}

    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The record in `bytes`, which must hold exactly one JSON object.
    package static func record(_ bytes: UnsafeRawBufferPointer) throws -> EventRecord {
        var reader = RecordReader(bytes)
        let record = try reader.eventRecord()
        reader.skipSpace()
        guard reader.i == bytes.count else { throw Unreadable() }
        return record
    }

    // MARK: Entities

    private mutating func eventRecord() throws -> EventRecord {
        let start = i
        if let record = try? writtenEventRecord() { return record }
        i = start
        var seq: Int?
        var at: Date?
        var actor: PrincipalReference?
        var action: String?
        var target: String?
        var summary: String?
        var partnerId: String?
        var tenantId: String?
        var domainId: String?
        var changes: [Change]?
        var requestKey: RequestKeyRecord?
        try object { reader, key in
            switch key {
            case "seq": seq = try reader.int()
            case "at": at = try reader.date()
            case "actor": actor = try reader.actorReference()
            case "action": action = try reader.string()
            case "target": target = try reader.string()
            case "summary": summary = try reader.string()
            case "partnerId": partnerId = try reader.optionalString()
            case "tenantId": tenantId = try reader.optionalString()
            case "domainId": domainId = try reader.optionalString()
            case "changes": changes = try reader.array { try $0.change() }
            case "requestKey": requestKey = try reader.null() ? nil : try reader.requestKeyRecord()
            default: throw Unreadable()
            }
        }
        guard let seq, let at, let actor, let action, let target, let summary, let changes else { throw Unreadable() }
        return EventRecord(
            seq: seq, at: at, actor: actor, action: action, target: target, summary: summary, partnerId: partnerId,
            tenantId: tenantId, domainId: domainId, changes: changes, requestKey: requestKey)
    }

    /// A record as the writer puts it (see ``writtenService()``).
    private mutating func writtenEventRecord() throws -> EventRecord {
        guard consume(UInt8(ascii: "{")) else { throw Unreadable() }
        var first = true
        var domainId: String?
        var partnerId: String?
        var requestKey: RequestKeyRecord?
        var tenantId: String?
        guard member("action", &first) else { throw Unreadable() }
        let action = try string()
        guard member("actor", &first) else { throw Unreadable() }
        let actor = try actorReference()
        guard member("at", &first) else { throw Unreadable() }
        let at = try date()
        guard member("changes", &first) else { throw Unreadable() }
        let changes = try array { try $0.change() }
        if member("domainId", &first) { domainId = try optionalString() }
        if member("partnerId", &first) { partnerId = try optionalString() }
        if member("requestKey", &first) { requestKey = try null() ? nil : try requestKeyRecord() }
        guard member("seq", &first) else { throw Unreadable() }
        let seq = try int()
        guard member("summary", &first) else { throw Unreadable() }
        let summary = try string()
        guard member("target", &first) else { throw Unreadable() }
        let target = try string()
        if member("tenantId", &first) { tenantId = try optionalString() }
        guard bytes.count > i, bytes[i] == UInt8(ascii: "}") else { throw Unreadable() }
        i += 1
        return EventRecord(
            seq: seq, at: at, actor: actor, action: action, target: target, summary: summary, partnerId: partnerId,
            tenantId: tenantId, domainId: domainId, changes: changes, requestKey: requestKey)
    }

    private mutating func requestKeyRecord() throws -> RequestKeyRecord {
        var scope: RequestKeyRecord.Scope?
        var key: String?
        var method: String?
        var digest: String?
        var result: String?
        try object { reader, member in
            switch member {
            case "scope": scope = try reader.requestKeyScope()
            case "key": key = try reader.string()
            case "method": method = try reader.string()
            case "digest": digest = try reader.string()
            case "result": result = try reader.string()
            default: throw Unreadable()
            }
        }
        guard let scope, let key, let method, let digest, let result else { throw Unreadable() }
        return RequestKeyRecord(scope: scope, key: key, method: method, digest: digest, result: result)
    }

    private mutating func requestKeyScope() throws -> RequestKeyRecord.Scope {
        var kind: Principal.Kind?
        var id: String?
        var partnerId: String?
        var tenantId: String?
        try object { reader, member in
            switch member {
            case "kind": kind = try reader.enumeration(Self.principalKinds)
            case "id": id = try reader.string()
            case "partnerId": partnerId = try reader.optionalString()
            case "tenantId": tenantId = try reader.optionalString()
            default: throw Unreadable()
            }
        }
        guard let kind, let id else { throw Unreadable() }
        return RequestKeyRecord.Scope(kind: kind, id: id, partnerId: partnerId, tenantId: tenantId)
    }

    private mutating func actorReference() throws -> PrincipalReference {
        var id: String?
        var kind: Principal.Kind?
        try object { reader, key in
            switch key {
            case "id": id = try reader.string()
            case "kind": kind = try reader.enumeration(Self.principalKinds)
            default: throw Unreadable()
            }
        }
        guard let id, let kind else { throw Unreadable() }
        return PrincipalReference(id: id, kind: kind)
    }

    private mutating func change() throws -> Change {
        var change: Change?
        try object { reader, key in
            guard change == nil else { throw Unreadable() }
            switch key {
            case "partnerSaved": change = .partnerSaved(try reader.partner())
            case "tenantSaved": change = .tenantSaved(try reader.tenant())
            case "domainSaved": change = .domainSaved(try reader.domain())
            case "taskSaved": change = .taskSaved(try reader.task())
            case "offerSaved": change = .offerSaved(try reader.decodeWithFoundation(Offer.self))
            case "pricesRecorded": change = .pricesRecorded(try reader.decodeWithFoundation(PriceList.self))
            default: throw Unreadable()
            }
        }
        guard let change else { throw Unreadable() }
        return change
    }

    private mutating func partner() throws -> Partner {
        var id: String?
        var name: String?
        var createdAt: Date?
        try object { reader, key in
            switch key {
            case "id": id = try reader.string()
            case "name": name = try reader.string()
            case "createdAt": createdAt = try reader.date()
            default: throw Unreadable()
            }
        }
        guard let id, let name, let createdAt else { throw Unreadable() }
        return Partner(id: id, name: name, createdAt: createdAt)
    }

    private mutating func tenant() throws -> Tenant {
        var id: String?
        var partnerId: String?
        var name: String?
        var contact: Contact?
        var address: Address?
        var invoiceReference: String?
        var source: TenantSource?
        var externalId: String?
        var products: [String]?
        var version: Int?
        var createdAt: Date?
        try object { reader, key in
            switch key {
            case "id": id = try reader.string()
            case "partnerId": partnerId = try reader.string()
            case "name": name = try reader.string()
            case "contact": contact = try reader.null() ? nil : try reader.contact()
            case "address": address = try reader.address()
            case "invoiceReference": invoiceReference = try reader.optionalString()
            case "source": source = try reader.enumeration()
            case "externalId": externalId = try reader.optionalString()
            case "products": products = try reader.array { try $0.string() }
            case "version": version = try reader.int()
            case "createdAt": createdAt = try reader.date()
            default: throw Unreadable()
            }
        }
        guard let id, let partnerId, let name, let address, let source, let products, let version, let createdAt
        else { throw Unreadable() }
        return Tenant(
            id: id, partnerId: partnerId, name: name, contact: contact, address: address,
            invoiceReference: invoiceReference, source: source, externalId: externalId, products: products,
            version: version, createdAt: createdAt)
    }

    private mutating func contact() throws -> Contact {
        var email: String?
        var phone: String?
        try object { reader, key in
            switch key {
            case "email": email = try reader.string()
            case "phone": phone = try reader.optionalString()
            default: throw Unreadable()
            }
        }
        guard let email else { throw Unreadable() }
        return Contact(email: email, phone: phone)
    }

    private mutating func address() throws -> Address {
        var street: String?
        var postalCode: String?
        var city: String?
        var country: String?
        try object { reader, key in
            switch key {
            case "street": street = try reader.string()
            case "postalCode": postalCode = try reader.string()
            case "city": city = try reader.string()
            case "country": country = try reader.string()
            default: throw Unreadable()
            }
        }
        guard let street, let postalCode, let city, let country else { throw Unreadable() }
        return Address(street: street, postalCode: postalCode, city: city, country: country)
    }

    private mutating func domain() throws -> Domain {
        let start = i
        if let domain = try? writtenDomain() { return domain }
        i = start
        var id: String?
        var tenantId: String?
        var name: String?
        var region: Region?
        var lastMode: IntegrationMode?
        var confidential: Bool?
        var access: [String]?
        var services: [BookedService]?
        var nextServiceNumber: Int?
        var users: [User]?
        var version: Int?
        var createdAt: Date?
        try object { reader, key in
            switch key {
            case "id": id = try reader.string()
            case "tenantId": tenantId = try reader.string()
            case "name": name = try reader.string()
            case "region": region = try reader.enumeration(Self.regions)
            case "lastMode": lastMode = try reader.null() ? nil : try reader.enumeration(Self.integrationModes)
            case "confidential": confidential = try reader.bool()
            case "access": access = try reader.array { try $0.string() }
            case "services": services = try reader.array { try $0.service() }
            case "nextServiceNumber": nextServiceNumber = try reader.int()
            case "users": users = try reader.array { try $0.user() }
            case "version": version = try reader.int()
            case "createdAt": createdAt = try reader.date()
            default: throw Unreadable()
            }
        }
        guard let id, let tenantId, let name, let region, let confidential, let access, let services,
            let nextServiceNumber, let users, let version, let createdAt
        else { throw Unreadable() }
        return Domain(
            id: id, tenantId: tenantId, name: name, region: region, lastMode: lastMode, confidential: confidential,
            access: access, services: services, nextServiceNumber: nextServiceNumber, users: users, version: version,
            createdAt: createdAt)
    }

    /// A domain as the writer puts it (see ``writtenService()``).
    private mutating func writtenDomain() throws -> Domain {
        guard consume(UInt8(ascii: "{")) else { throw Unreadable() }
        var first = true
        var lastMode: IntegrationMode?
        guard member("access", &first) else { throw Unreadable() }
        let access = try array { try $0.string() }
        guard member("confidential", &first) else { throw Unreadable() }
        let confidential = try bool()
        guard member("createdAt", &first) else { throw Unreadable() }
        let createdAt = try date()
        guard member("id", &first) else { throw Unreadable() }
        let id = try string()
        if member("lastMode", &first) { lastMode = try null() ? nil : try enumeration(Self.integrationModes) }
        guard member("name", &first) else { throw Unreadable() }
        let name = try string()
        guard member("nextServiceNumber", &first) else { throw Unreadable() }
        let nextServiceNumber = try int()
        guard member("region", &first) else { throw Unreadable() }
        let region = try enumeration(Self.regions)
        guard member("services", &first) else { throw Unreadable() }
        let services = try array { try $0.service() }
        guard member("tenantId", &first) else { throw Unreadable() }
        let tenantId = try string()
        guard member("users", &first) else { throw Unreadable() }
        let users = try array { try $0.user() }
        guard member("version", &first) else { throw Unreadable() }
        let version = try int()
        guard bytes.count > i, bytes[i] == UInt8(ascii: "}") else { throw Unreadable() }
        i += 1
        return Domain(
            id: id, tenantId: tenantId, name: name, region: region, lastMode: lastMode, confidential: confidential,
            access: access, services: services, nextServiceNumber: nextServiceNumber, users: users, version: version,
            createdAt: createdAt)
    }

    private mutating func service() throws -> BookedService {
        let start = i
        if let service = try? writtenService() { return service }
        i = start
        var number: Int?
        var code: String?
        var status: ServiceStatus?
        var orderedAt: Date?
        var confirmedAt: Date?
        var provisionedAt: Date?
        var billingStart: CivilDate?
        var endDate: CivilDate?
        var discount: Discount?
        var cancellation: Cancellation?
        try object { reader, key in
            switch key {
            case "number": number = try reader.int()
            case "code": code = try reader.string()
            case "status": status = try reader.enumeration(Self.serviceStatuses)
            case "orderedAt": orderedAt = try reader.date()
            case "confirmedAt": confirmedAt = try reader.null() ? nil : try reader.date()
            case "provisionedAt": provisionedAt = try reader.null() ? nil : try reader.date()
            case "billingStart": billingStart = try reader.null() ? nil : try reader.civilDate()
            case "endDate": endDate = try reader.null() ? nil : try reader.civilDate()
            case "discount": discount = try reader.null() ? nil : try reader.discount()
            case "cancellation": cancellation = try reader.null() ? nil : try reader.cancellation()
            default: throw Unreadable()
            }
        }
        guard let number, let code, let status, let orderedAt else { throw Unreadable() }
        return BookedService(
            number: number, code: code, status: status, orderedAt: orderedAt, confirmedAt: confirmedAt,
            provisionedAt: provisionedAt, billingStart: billingStart, endDate: endDate, discount: discount,
            cancellation: cancellation)
    }

    private mutating func discount() throws -> Discount {
        var basisPoints: Int?
        var reason: Discount.Reason?
        try object { reader, key in
            switch key {
            case "basisPoints": basisPoints = try reader.int()
            case "reason": reason = try reader.null() ? nil : try reader.enumeration(Self.discountReasons)
            default: throw Unreadable()
            }
        }
        guard let basisPoints else { throw Unreadable() }
        return Discount(basisPoints: basisPoints, reason: reason)
    }

    private mutating func cancellation() throws -> Cancellation {
        var operation: Int?
        var previousStatus: ServiceStatus?
        var previousEndDate: CivilDate?
        var previous: [Cancellation]?
        try object { reader, key in
            switch key {
            case "operation": operation = try reader.int()
            case "previousStatus": previousStatus = try reader.enumeration(Self.serviceStatuses)
            case "previousEndDate": previousEndDate = try reader.null() ? nil : try reader.civilDate()
            case "previous": previous = try reader.array { try $0.cancellation() }
            default: throw Unreadable()
            }
        }
        guard let operation, let previousStatus, let previous else { throw Unreadable() }
        return Cancellation(
            operation: operation, previousStatus: previousStatus, previousEndDate: previousEndDate, previous: previous)
    }

    /// A service as the writer puts it (members in order, no spaces), read without looking up
    /// each member's name; throws at anything else, and ``service()`` then reads it member by
    /// member. It reads a member with the same call as ``service()``, so both read the same.
    private mutating func writtenService() throws -> BookedService {
        guard consume(UInt8(ascii: "{")) else { throw Unreadable() }
        var first = true
        var billingStart: CivilDate?
        var cancellation: Cancellation?
        var confirmedAt: Date?
        var discount: Discount?
        var endDate: CivilDate?
        var provisionedAt: Date?
        if member("billingStart", &first) { billingStart = try null() ? nil : try civilDate() }
        if member("cancellation", &first) { cancellation = try null() ? nil : try self.cancellation() }
        guard member("code", &first) else { throw Unreadable() }
        let code = try string()
        if member("confirmedAt", &first) { confirmedAt = try null() ? nil : try date() }
        if member("discount", &first) { discount = try null() ? nil : try self.discount() }
        if member("endDate", &first) { endDate = try null() ? nil : try civilDate() }
        guard member("number", &first) else { throw Unreadable() }
        let number = try int()
        guard member("orderedAt", &first) else { throw Unreadable() }
        let orderedAt = try date()
        if member("provisionedAt", &first) { provisionedAt = try null() ? nil : try date() }
        guard member("status", &first) else { throw Unreadable() }
        let status = try enumeration(Self.serviceStatuses)
        guard bytes.count > i, bytes[i] == UInt8(ascii: "}") else { throw Unreadable() }
        i += 1
        return BookedService(
            number: number, code: code, status: status, orderedAt: orderedAt, confirmedAt: confirmedAt,
            provisionedAt: provisionedAt, billingStart: billingStart, endDate: endDate, discount: discount,
            cancellation: cancellation)
    }

    private mutating func user() throws -> User {
        let start = i
        if let user = try? writtenUser() { return user }
        i = start
        var address: String?
        var protection: Protection?
        var active: Bool?
        try object { reader, key in
            switch key {
            case "address": address = try reader.string()
            case "protection": protection = try reader.enumeration(Self.protections)
            case "active": active = try reader.bool()
            default: throw Unreadable()
            }
        }
        guard let address, let protection, let active else { throw Unreadable() }
        return User(address: address, protection: protection, active: active)
    }

    /// A user as the writer puts it (see ``writtenService()``).
    private mutating func writtenUser() throws -> User {
        guard consume(UInt8(ascii: "{")) else { throw Unreadable() }
        var first = true
        guard member("active", &first) else { throw Unreadable() }
        let active = try bool()
        guard member("address", &first) else { throw Unreadable() }
        let address = try string()
        guard member("protection", &first) else { throw Unreadable() }
        let protection = try enumeration(Self.protections)
        guard bytes.count > i, bytes[i] == UInt8(ascii: "}") else { throw Unreadable() }
        i += 1
        return User(address: address, protection: protection, active: active)
    }

    private mutating func task() throws -> DeployTask {
        var id: String?
        var domainId: String?
        var service: String?
        var serviceNumber: Int?
        var kind: TaskKind?
        var record: DNSRecord?
        var status: TaskStatus?
        var createdAt: Date?
        var doneAt: Date?
        try object { reader, key in
            switch key {
            case "id": id = try reader.string()
            case "domainId": domainId = try reader.string()
            case "service": service = try reader.string()
            case "serviceNumber": serviceNumber = try reader.int()
            case "kind": kind = try reader.enumeration()
            case "record": record = try reader.dnsRecord()
            case "status": status = try reader.enumeration(Self.taskStatuses)
            case "createdAt": createdAt = try reader.date()
            case "doneAt": doneAt = try reader.null() ? nil : try reader.date()
            default: throw Unreadable()
            }
        }
        guard let id, let domainId, let service, let serviceNumber, let kind, let record, let status, let createdAt
        else { throw Unreadable() }
        return DeployTask(
            id: id, domainId: domainId, service: service, serviceNumber: serviceNumber, kind: kind, record: record,
            status: status, createdAt: createdAt, doneAt: doneAt)
    }

    private mutating func dnsRecord() throws -> DNSRecord {
        var type: String?
        var name: String?
        var value: String?
        try object { reader, key in
            switch key {
            case "type": type = try reader.string()
            case "name": name = try reader.string()
            case "value": value = try reader.string()
            default: throw Unreadable()
            }
        }
        guard let type, let name, let value else { throw Unreadable() }
        return DNSRecord(type: type, name: name, value: value)
    }

    /// A rare value (offers): decoded with `JSONDecoder` from its own bytes.
    private mutating func decodeWithFoundation<T: Decodable>(_ type: T.Type) throws -> T {
        skipSpace()
        let start = i
        try skipValue()
        let slice = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
        return try JSONDecoder().decode(T.self, from: Data(slice))
    }

    // MARK: JSON

    @inline(__always) private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    @inline(__always) private mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    @inline(__always) private mutating func expect(_ byte: UInt8) throws {
        guard consume(byte) else { throw Unreadable() }
    }

    /// A member name, compared without making a `String`.
    struct Key {
        let bytes: UnsafeRawBufferPointer

        static func ~= (pattern: StaticString, key: Key) -> Bool {
            pattern.utf8CodeUnitCount == key.bytes.count
                && memcmp(pattern.utf8Start, key.bytes.baseAddress!, key.bytes.count) == 0
        }
    }

    private mutating func key() throws -> Key {
        try expect(UInt8(ascii: "\""))
        let start = i
        // A backslash or a control character: no member name has one (the careful path decides).
        let end = firstSpecial(from: start)
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\""), end > start else { throw Unreadable() }
        i = end + 1
        return Key(bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
    }

    /// The offset of the first quote, backslash or control character at or after `start` (the
    /// end of the bytes if there is none), looking at eight bytes at a time.
    @inline(__always) private func firstSpecial(from start: Int) -> Int {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return count }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        var j = start
        while j + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: j, as: UInt64.self))
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // The lowest byte flagged is the first that is 0 (after the xor), or below 0x20.
            let flags =
                ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & high
            if flags != 0 { return j + flags.trailingZeroBitCount / 8 }
            j += 8
        }
        while j < count {
            let byte = base.load(fromByteOffset: j, as: UInt8.self)
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return j }
            j += 1
        }
        return count
    }

    /// Reads `"name":` (after a comma unless it is the `first` member) if it comes next, exactly
    /// so, as the writer puts a member; `first` is false once one was read.
    @inline(__always) private mutating func member(_ name: StaticString, _ first: inout Bool) -> Bool {
        let length = name.utf8CodeUnitCount
        let comma = first ? 0 : 1
        guard i + comma + length + 3 <= bytes.count, let base = bytes.baseAddress else { return false }
        let quote = i + comma
        guard comma == 0 || bytes[i] == UInt8(ascii: ","), bytes[quote] == UInt8(ascii: "\""),
            memcmp(base + quote + 1, name.utf8Start, length) == 0, bytes[quote + 1 + length] == UInt8(ascii: "\""),
            bytes[quote + 2 + length] == UInt8(ascii: ":")
        else { return false }
        i = quote + length + 3
        first = false
        return true
    }

    private mutating func object(_ member: (inout RecordReader, Key) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try key()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// An array, allocated once with room for exactly its elements (growing by appending would
    /// allocate several times and leave unused room in the state that keeps it).
    private mutating func array<T>(_ element: (inout RecordReader) throws -> T) throws -> [T] {
        try expect(UInt8(ascii: "["))
        if consume(UInt8(ascii: "]")) { return [] }
        let first = try element(&self)
        if consume(UInt8(ascii: "]")) { return [first] }
        try expect(UInt8(ascii: ","))
        let room = 16
        return try withUnsafeTemporaryAllocation(of: T.self, capacity: room) { buffer in
            let start = buffer.baseAddress!
            start.initialize(to: first)
            var count = 1
            defer { start.deinitialize(count: count) }
            var rest: [T] = []
            repeat {
                let next = try element(&self)
                if count < room {
                    (start + count).initialize(to: next)
                    count += 1
                } else {
                    rest.append(next)
                }
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
            let inBuffer = count
            var result = [T](unsafeUninitializedCapacity: inBuffer + rest.count) { elements, initialized in
                elements.baseAddress!.moveInitialize(from: start, count: inBuffer)
                initialized = inBuffer
            }
            count = 0
            result.append(contentsOf: rest)
            return result
        }
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = i
        let end = firstSpecial(from: start)
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            i = end + 1
            let text = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if Self.isASCII(text) { return String(decoding: text, as: UTF8.self) }
            // Bytes that are not UTF-8 are refused (as JSONDecoder refuses them), not repaired.
            guard let string = String(validating: text, as: UTF8.self) else { throw Unreadable() }
            return string
        }
        // Escapes and control characters: leave it to the careful path.
        i = start - 1
        return try decodeWithFoundation(String.self)
    }

    /// Whether every byte is ASCII (eight at a time): such text needs no UTF-8 validation.
    @inline(__always) private static func isASCII(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let base = text.baseAddress else { return true }
        var j = 0
        var bits: UInt64 = 0
        while j + 8 <= text.count {
            bits |= base.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            j += 8
        }
        while j < text.count {
            bits |= UInt64(base.load(fromByteOffset: j, as: UInt8.self))
            j += 1
        }
        return bits & 0x8080_8080_8080_8080 == 0
    }

    private mutating func optionalString() throws -> String? { try null() ? nil : try string() }

    /// Consumes `null` if it comes next.
    private mutating func null() throws -> Bool {
        skipSpace()
        guard i + 4 <= bytes.count, bytes[i] == UInt8(ascii: "n") else { return false }
        guard bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == UInt8(ascii: "l"), bytes[i + 3] == UInt8(ascii: "l")
        else { throw Unreadable() }
        i += 4
        return true
    }

    private mutating func bool() throws -> Bool {
        skipSpace()
        if i + 4 <= bytes.count, bytes[i] == UInt8(ascii: "t"), bytes[i + 1] == UInt8(ascii: "r"),
            bytes[i + 2] == UInt8(ascii: "u"), bytes[i + 3] == UInt8(ascii: "e")
        {
            i += 4
            return true
        }
        if i + 5 <= bytes.count, bytes[i] == UInt8(ascii: "f"), bytes[i + 1] == UInt8(ascii: "a"),
            bytes[i + 2] == UInt8(ascii: "l"), bytes[i + 3] == UInt8(ascii: "s"), bytes[i + 4] == UInt8(ascii: "e")
        {
            i += 5
            return false
        }
        throw Unreadable()
    }

    private mutating func int() throws -> Int {
        skipSpace()
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        let start = i
        var value = 0
        var j = i
        while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9") {
            guard j - start < 18 else { throw Unreadable() }
            value = value * 10 + Int(bytes[j] - UInt8(ascii: "0"))
            j += 1
        }
        i = j
        guard i > start else { throw Unreadable() }
        // JSON has no leading zeros.
        guard i - start == 1 || bytes[start] != UInt8(ascii: "0") else { throw Unreadable() }
        if i < bytes.count,
            bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")
        {
            throw Unreadable()
        }
        return negative ? -value : value
    }

    /// Powers of ten that are exact doubles.
    private static let exactPowersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// A `Date` as `JSONEncoder` writes it by default: seconds since the reference date.
    private mutating func date() throws -> Date {
        skipSpace()
        let start = i
        // Fast path (Clinger): at most 2^53 as an integer of digits, at most 22 after the point;
        // one correctly rounded division of two exact doubles gives the exact nearest double.
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var fraction = 0
        var seenPoint = false
        var j = i  // a local index: stores through `self` would be kept in memory on every byte
        let firstDigit = j
        while j < bytes.count {
            let byte = bytes[j]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                mantissa = mantissa &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                digits += 1
                if seenPoint { fraction += 1 }
            } else if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                break
            }
            j += 1
        }
        i = j
        let next = i < bytes.count ? bytes[i] : 0
        // JSON's number grammar: digits on both sides of a point, no leading zeros.
        let whole = digits - fraction
        guard whole > 0, !seenPoint || fraction > 0, whole == 1 || bytes[firstDigit] != UInt8(ascii: "0")
        else { throw Unreadable() }
        if digits > 0, digits <= 15 || (digits <= 16 && mantissa <= 1 << 53), fraction <= 22,
            next != UInt8(ascii: "e"), next != UInt8(ascii: "E")
        {
            // The usual `.0`: the integer part is the exact quotient, so it is what the division
            // would give.
            let magnitude =
                fraction == 1 && mantissa % 10 == 0
                ? Double(mantissa / 10) : Double(mantissa) / Self.exactPowersOfTen[fraction]
            return Date(timeIntervalSinceReferenceDate: negative ? -magnitude : magnitude)
        }
        i = start
        return try slowDate()
    }

    /// Any JSON number, through `strtod` (correctly rounded).
    private mutating func slowDate() throws -> Date {
        let start = i
        while i < bytes.count, let byte = Optional(bytes[i]),
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
                || byte == UInt8(ascii: "+")
        {
            i += 1
        }
        let length = i - start
        guard length > 0, length < 40, Self.isJSONNumber(UnsafeRawBufferPointer(rebasing: bytes[start..<i])) else {
            throw Unreadable()
        }
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let value = withUnsafeMutableBytes(of: &buffer) { raw -> Double? in
            raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            raw[length] = 0
            let text = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(text, &end)
            // A number too small to be anything but zero: left to JSONDecoder, which refuses it
            // (subnormal results, also flagged, are read).
            return end == text + length && !(errno == ERANGE && value == 0) ? value : nil
        }
        guard let value, value.isFinite else { throw Unreadable() }
        return Date(timeIntervalSinceReferenceDate: value)
    }

    /// Whether `text` is a number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    static func isJSONNumber(_ text: UnsafeRawBufferPointer) -> Bool {
        var j = 0
        func isDigit(_ k: Int) -> Bool { k < text.count && text[k] >= 0x30 && text[k] <= 0x39 }
        func digits() -> Bool {
            let first = j
            while isDigit(j) { j += 1 }
            return j > first
        }
        if j < text.count, text[j] == UInt8(ascii: "-") { j += 1 }
        guard isDigit(j) else { return false }
        if text[j] == 0x30 { j += 1 } else { _ = digits() }
        if j < text.count, text[j] == UInt8(ascii: ".") {
            j += 1
            guard digits() else { return false }
        }
        if j < text.count, text[j] == UInt8(ascii: "e") || text[j] == UInt8(ascii: "E") {
            j += 1
            if j < text.count, text[j] == UInt8(ascii: "+") || text[j] == UInt8(ascii: "-") { j += 1 }
            guard digits() else { return false }
        }
        return j == text.count
    }

    private mutating func civilDate() throws -> CivilDate {
        // The usual form, "YYYY-MM-DD" in digits, read in place; anything else through
        // `CivilDate(_:)`, which decides what is valid.
        skipSpace()
        let digit = { (byte: UInt8) -> Int? in byte >= 0x30 && byte <= 0x39 ? Int(byte - 0x30) : nil }
        if i + 12 <= bytes.count, bytes[i] == UInt8(ascii: "\""), bytes[i + 11] == UInt8(ascii: "\""),
            bytes[i + 5] == UInt8(ascii: "-"), bytes[i + 8] == UInt8(ascii: "-"),
            let y0 = digit(bytes[i + 1]), let y1 = digit(bytes[i + 2]), let y2 = digit(bytes[i + 3]),
            let y3 = digit(bytes[i + 4]), let m0 = digit(bytes[i + 6]), let m1 = digit(bytes[i + 7]),
            let d0 = digit(bytes[i + 9]), let d1 = digit(bytes[i + 10])
        {
            let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
            let month = m0 * 10 + m1
            let day = d0 * 10 + d1
            guard (1...12).contains(month), (1...CivilDate.daysIn(year: year, month: month)).contains(day) else {
                throw Unreadable()
            }
            i += 12
            return CivilDate(year: year, month: month, day: day)
        }
        guard let date = CivilDate(try string()) else { throw Unreadable() }
        return date
    }

    private mutating func enumeration<T: RawRepresentable<String>>() throws -> T {
        guard let value = T(rawValue: try string()) else { throw Unreadable() }
        return value
    }

    /// The cases of a string enumeration with the bytes of their raw values, so that one is read
    /// by comparing bytes, without making a `String`.
    struct Cases<T: RawRepresentable<String> & CaseIterable & Sendable>: Sendable {
        let cases: [(name: [UInt8], value: T)]

        init() { cases = T.allCases.map { (Array($0.rawValue.utf8), $0) } }
    }

    static let principalKinds = Cases<Principal.Kind>()
    static let regions = Cases<Region>()
    static let integrationModes = Cases<IntegrationMode>()
    static let serviceStatuses = Cases<ServiceStatus>()
    static let discountReasons = Cases<Discount.Reason>()
    static let protections = Cases<Protection>()
    static let taskStatuses = Cases<TaskStatus>()

    /// A case of `table` (what ``enumeration()`` reads, the same way for a string with escapes).
    private mutating func enumeration<T>(_ table: Cases<T>) throws -> T {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw Unreadable() }
        let start = i + 1
        let end = firstSpecial(from: start)
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return try enumeration() }
        let length = end - start
        for (name, value) in table.cases where name.count == length {
            let equal = name.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress! + start, length) == 0 }
            if equal {
                i = end + 1
                return value
            }
        }
        throw Unreadable()
    }

    /// Skips one value of any kind (for a value handed to `JSONDecoder`).
    private mutating func skipValue() throws {
        skipSpace()
        guard i < bytes.count else { throw Unreadable() }
        var depth = 0
        var inString = false
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if inString {
                if byte == UInt8(ascii: "\\") {
                    i += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return }
                if depth < 0 { throw Unreadable() }
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                if depth == 0 {
                    i -= 1
                    return
                }
            default:
                if depth == 0, i < bytes.count,
                    [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[i])
                {
                    return
                }
            }
        }
        if depth != 0 || inString { throw Unreadable() }
    }
}
