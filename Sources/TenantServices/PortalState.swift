import Foundation
import OrderedCollections

/// Everything the portal knows, as values. Changed only by ``apply(_:)``.
struct PortalState: Sendable, Equatable {
    var partners: OrderedDictionary<String, Partner> = [:]
    var tenants: OrderedDictionary<String, Tenant> = [:]
    var domains: OrderedDictionary<String, Domain> = [:]
    var tasks: OrderedDictionary<String, DeployTask> = [:]
    var offers: OrderedDictionary<String, Offer> = [:]
    var events: [EventRecord] = []
    var domainsByTenant: [String: IDList] = [:]
    /// Domain IDs by domain name, in creation order (a name may be booked again once its services ended).
    var domainsByName: [String: IDList] = [:]
    /// Task IDs by domain, in creation order.
    var tasksByDomain: [String: IDList] = [:]
    /// Tenant IDs by partner and CRM external ID.
    var tenantsByExternalId: [String: String] = [:]
    /// Highest number used per ID letter, so IDs are never reused.
    var lastNumber: [Character: Int] = [:]
    /// The prices last recorded in the history (nil before the first record).
    var prices: PriceList?
    /// The request keys in force, from the records that carry them.
    var requestKeys = RequestKeyTable()
    /// While a transaction runs: how to undo each change, newest last (nil: not recording).
    var undoLog: [Undo]?
    /// While a load that announced its records runs: room is made for the entities once a
    /// sample of them was applied (see ``reserve(records:)``).
    private var reservation: Reservation?

    /// A load's announced records, and the sizes of the collections before it.
    private struct Reservation: Sendable {
        var records: Int
        var events: Int
        var tenants: Int
        var domains: Int
        var tasks: Int
        var domainsByTenant: Int
        var domainsByName: Int
        var tasksByDomain: Int
        var tenantsByExternalId: Int

        /// How many records are applied before the entities' room is made.
        var sample: Int { max(1_024, records / 64) }

        /// The size a collection of `count` (of `before` when the sample began) will reach if the
        /// rest of the records add to it as the sample did, with a little to spare.
        func projected(_ count: Int, before: Int, applied: Int) -> Int {
            let projected = count + (count - before) * (records - applied) / max(1, applied)
            return projected + projected / 16
        }
    }

    /// One step back to the state before a change.
    enum Undo {
        case partner(String, Partner?)
        case tenant(String, Tenant?)
        case domain(String, Domain?)
        case task(String, DeployTask?)
        case offer(String, Offer?)
        case lastNumber(Character, Int?)
        case prices(PriceList?)
        case events(Int)
        case requestKey(RequestKeyTable.Key, RequestKeyTable.Entry?)
    }

    /// Equal when everything but an in-flight undo log is equal.
    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.partners == rhs.partners && lhs.tenants == rhs.tenants && lhs.domains == rhs.domains
            && lhs.tasks == rhs.tasks && lhs.offers == rhs.offers && lhs.events == rhs.events
            && lhs.domainsByTenant == rhs.domainsByTenant && lhs.tasksByDomain == rhs.tasksByDomain
            && lhs.domainsByName == rhs.domainsByName
            && lhs.tenantsByExternalId == rhs.tenantsByExternalId
            && lhs.lastNumber == rhs.lastNumber && lhs.prices == rhs.prices
            && lhs.requestKeys == rhs.requestKeys
    }

    static func externalKey(partnerId: String, externalId: String) -> String { partnerId + "\u{1F}" + externalId }

    mutating func apply(_ change: Change) {
        if undoLog != nil {
            switch change {
            case .partnerSaved(let p): undoLog!.append(.partner(p.id, partners[p.id]))
            case .tenantSaved(let t): undoLog!.append(.tenant(t.id, tenants[t.id]))
            case .domainSaved(let d): undoLog!.append(.domain(d.id, domains[d.id]))
            case .taskSaved(let t): undoLog!.append(.task(t.id, tasks[t.id]))
            case .offerSaved(let o): undoLog!.append(.offer(o.id, offers[o.id]))
            case .pricesRecorded: undoLog!.append(.prices(prices))
            }
        }
        switch change {
        case .partnerSaved(let p):
            note(p.id)
            partners[p.id] = p
        case .tenantSaved(let t):
            note(t.id)
            if let old = tenants[t.id], let oldExternal = old.externalId {
                tenantsByExternalId[Self.externalKey(partnerId: old.partnerId, externalId: oldExternal)] = nil
            }
            tenants[t.id] = t
            if let external = t.externalId {
                tenantsByExternalId[Self.externalKey(partnerId: t.partnerId, externalId: external)] = t.id
            }
        case .domainSaved(let d):
            note(d.id)
            if domains.updateValue(d, forKey: d.id) == nil {
                domainsByTenant[d.tenantId, default: []].append(d.id)
                domainsByName[d.name, default: []].append(d.id)
            }
        case .taskSaved(let task):
            note(task.id)
            if tasks.updateValue(task, forKey: task.id) == nil {
                tasksByDomain[task.domainId, default: []].append(task.id)
            }
        case .offerSaved(let offer):
            note(offer.id)
            offers[offer.id] = offer
        case .pricesRecorded(let list):
            prices = list
        }
    }

    mutating func apply(_ record: EventRecord) {
        for change in record.changes { apply(change) }
        undoLog?.append(.events(events.count))
        var record = record
        if let key = record.requestKey { record.requestKey = noteRequestKey(key, seq: record.seq, at: record.at) }
        events.append(record)
        if let reservation, events.count - reservation.events == reservation.sample { reserveEntities(reservation) }
    }

    /// Makes room for `count` more records about to be applied (a load's): the history's at once,
    /// the entities' once the first of them show how many of each kind they hold. Room only,
    /// nothing changes otherwise.
    mutating func reserve(records count: Int) {
        events.reserveCapacity(events.count + count)
        reservation =
            count < 2 * 1_024
            ? nil
            : Reservation(
                records: count, events: events.count, tenants: tenants.count, domains: domains.count,
                tasks: tasks.count, domainsByTenant: domainsByTenant.count, domainsByName: domainsByName.count,
                tasksByDomain: tasksByDomain.count, tenantsByExternalId: tenantsByExternalId.count)
    }

    private mutating func reserveEntities(_ before: Reservation) {
        reservation = nil
        let applied = events.count - before.events
        func projected(_ count: Int, _ start: Int) -> Int { before.projected(count, before: start, applied: applied) }
        tenants.reserveCapacity(projected(tenants.count, before.tenants))
        domains.reserveCapacity(projected(domains.count, before.domains))
        tasks.reserveCapacity(projected(tasks.count, before.tasks))
        domainsByTenant.reserveCapacity(projected(domainsByTenant.count, before.domainsByTenant))
        domainsByName.reserveCapacity(projected(domainsByName.count, before.domainsByName))
        tasksByDomain.reserveCapacity(projected(tasksByDomain.count, before.tasksByDomain))
        tenantsByExternalId.reserveCapacity(projected(tenantsByExternalId.count, before.tenantsByExternalId))
    }

    /// Gives the last event record (one of the running transaction) the operation's request key.
    mutating func attachRequestKey(_ key: RequestKeyRecord) {
        let last = events.count - 1
        events[last].requestKey = noteRequestKey(key, seq: events[last].seq, at: events[last].at)
    }

    /// Enters a key in the table; returns it as kept (sharing its result text with equal ones).
    private mutating func noteRequestKey(_ key: RequestKeyRecord, seq: Int, at: Date) -> RequestKeyRecord {
        let (kept, tableKey, previous) = requestKeys.insert(key, seq: seq, at: at)
        undoLog?.append(.requestKey(tableKey, previous))
        return kept
    }

    /// Forgets the request keys recorded at or before `cutoff`: removes them from the table and
    /// their results from the records in the history (so a later snapshot leaves them out).
    mutating func evictRequestKeys(recordedAtOrBefore cutoff: Date) {
        for seq in requestKeys.evict(recordedAtOrBefore: cutoff) {
            // The history runs from seq 1 without gaps, so seq n is at index n - 1.
            let index = seq - 1
            if events.indices.contains(index), events[index].seq == seq {
                events[index].requestKey = nil
            } else if let index = events.firstIndex(where: { $0.seq == seq }) {
                events[index].requestKey = nil
            }
        }
    }

    private mutating func note(_ id: String) {
        guard let (letter, n) = Self.letterAndNumber(id) else { return }
        guard undoLog != nil else {
            // Changed in place: one lookup instead of two (the value set is the same).
            Self.raise(&lastNumber[letter, default: 0], to: n)
            return
        }
        setLastNumber(letter, max(lastNumber[letter] ?? 0, n))
    }

    private static func raise(_ value: inout Int, to n: Int) { value = max(value, n) }

    /// The first character of an ID and the number after it, if the rest is one.
    static func letterAndNumber(_ id: String) -> (Character, Int)? {
        // The usual form, an ASCII letter and up to 18 digits, read from the bytes.
        var utf8 = id.utf8.makeIterator()
        if let first = utf8.next(), first < 0x80, first != UInt8(ascii: "\r") {
            var n = 0
            var digits = 0
            while let byte = utf8.next(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 {
                n = n * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
            }
            if digits > 0, digits == id.utf8.count - 1 { return (Character(Unicode.Scalar(first)), n) }
        }
        guard let letter = id.first, let n = Int(id.dropFirst()) else { return nil }
        return (letter, n)
    }

    private mutating func setLastNumber(_ letter: Character, _ n: Int) {
        undoLog?.append(.lastNumber(letter, lastNumber[letter]))
        lastNumber[letter] = n
    }

    mutating func newID(_ letter: Character) -> String {
        let n = (lastNumber[letter] ?? 0) + 1
        setLastNumber(letter, n)
        return "\(letter)\(n)"
    }

    /// Undoes every change recorded since `undoLog` was set, newest first, and stops recording.
    mutating func rollBack() {
        let log = undoLog ?? []
        undoLog = nil
        for step in log.reversed() {
            switch step {
            case .partner(let id, let old): partners[id] = old
            case .tenant(let id, let old):
                if let current = tenants[id], let external = current.externalId {
                    tenantsByExternalId[Self.externalKey(partnerId: current.partnerId, externalId: external)] = nil
                }
                tenants[id] = old
                if let old, let external = old.externalId {
                    tenantsByExternalId[Self.externalKey(partnerId: old.partnerId, externalId: external)] = id
                }
            case .domain(let id, let old):
                if old == nil, let current = domains[id] {
                    Self.remove(id, from: &domainsByTenant, at: current.tenantId)
                    Self.remove(id, from: &domainsByName, at: current.name)
                }
                domains[id] = old
            case .task(let id, let old):
                if old == nil, let current = tasks[id] { Self.remove(id, from: &tasksByDomain, at: current.domainId) }
                tasks[id] = old
            case .offer(let id, let old): offers[id] = old
            case .lastNumber(let letter, let old): lastNumber[letter] = old
            case .prices(let old): prices = old
            case .events(let count): events.removeSubrange(count...)
            case .requestKey(let key, let previous): requestKeys.restore(key, previous)
            }
        }
    }

    /// Takes an ID out of an index (and the key with its last ID, so the index is as if it never held it).
    private static func remove(_ id: String, from index: inout [String: IDList], at key: String) {
        index[key]?.remove(id)
        if index[key]?.isEmpty == true { index[key] = nil }
    }

    func domains(ofTenant tenantId: String) -> [Domain] {
        (domainsByTenant[tenantId] ?? []).compactMap { domains[$0] }
    }

    /// The domains of this name (on any tenant), in creation order.
    func domains(named name: String) -> [Domain] {
        (domainsByName[name] ?? []).compactMap { domains[$0] }
    }

    /// The domain's tasks, in creation order.
    func tasks(ofDomain domainId: String) -> [DeployTask] {
        (tasksByDomain[domainId] ?? []).compactMap { tasks[$0] }
    }
}
