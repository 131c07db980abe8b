import Foundation
import OrderedCollections

/// Everything the portal knows, as values. Changed only by ``apply(_:)``.
struct PortalState: Sendable {
    var partners: OrderedDictionary<String, Partner> = [:]
    var tenants: OrderedDictionary<String, Tenant> = [:]
    var domains: OrderedDictionary<String, Domain> = [:]
    var tasks: OrderedDictionary<String, DeployTask> = [:]
    var offers: OrderedDictionary<String, Offer> = [:]
    var events: [EventRecord] = []
    var domainsByTenant: [String: [String]] = [:]
    /// Tenant IDs by partner and CRM external ID.
    var tenantsByExternalId: [String: String] = [:]
    /// Highest number used per ID letter, so IDs are never reused.
    var lastNumber: [Character: Int] = [:]

    static func externalKey(partnerId: String, externalId: String) -> String { partnerId + "\u{1F}" + externalId }

    mutating func apply(_ change: Change) {
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
            }
        case .taskSaved(let task):
            note(task.id)
            tasks[task.id] = task
        case .offerSaved(let offer):
            note(offer.id)
            offers[offer.id] = offer
        }
    }

    mutating func apply(_ record: EventRecord) {
        for change in record.changes { apply(change) }
        events.append(record)
    }

    private mutating func note(_ id: String) {
        guard let letter = id.first, let n = Int(id.dropFirst()) else { return }
        lastNumber[letter] = max(lastNumber[letter] ?? 0, n)
    }

    mutating func newID(_ letter: Character) -> String {
        let n = (lastNumber[letter] ?? 0) + 1
        lastNumber[letter] = n
        return "\(letter)\(n)"
    }

    func domains(ofTenant tenantId: String) -> [Domain] {
        (domainsByTenant[tenantId] ?? []).compactMap { domains[$0] }
    }
}
