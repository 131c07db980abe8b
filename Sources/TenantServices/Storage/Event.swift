public import Foundation

/// One state change, as applied to the state, written to the journal and shown in the audit log.
///
/// Changes carry whole entities (the entity after the change), so applying one is an upsert and
/// replaying a journal needs no knowledge of the operation that produced it.
///
/// Encoded as an object with one member named after the case: `{"tenantSaved": {…}}`.
public enum Change: Codable, Sendable, Equatable {
    case partnerSaved(Partner)
    case tenantSaved(Tenant)
    case domainSaved(Domain)
    case taskSaved(DeployTask)
    case offerSaved(Offer)
    /// The catalog's prices in force from the event on (recorded when they change).
    case pricesRecorded(PriceList)

    private enum CodingKeys: String, CodingKey {
        case partnerSaved, tenantSaved, domainSaved, taskSaved, offerSaved, pricesRecorded
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "a change has exactly one member: partnerSaved, tenantSaved, domainSaved, taskSaved, offerSaved or pricesRecorded"
                ))
        }
        switch key {
        case .partnerSaved: self = .partnerSaved(try container.decode(Partner.self, forKey: key))
        case .tenantSaved: self = .tenantSaved(try container.decode(Tenant.self, forKey: key))
        case .domainSaved: self = .domainSaved(try container.decode(Domain.self, forKey: key))
        case .taskSaved: self = .taskSaved(try container.decode(DeployTask.self, forKey: key))
        case .offerSaved: self = .offerSaved(try container.decode(Offer.self, forKey: key))
        case .pricesRecorded: self = .pricesRecorded(try container.decode(PriceList.self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .partnerSaved(let value): try container.encode(value, forKey: .partnerSaved)
        case .tenantSaved(let value): try container.encode(value, forKey: .tenantSaved)
        case .domainSaved(let value): try container.encode(value, forKey: .domainSaved)
        case .taskSaved(let value): try container.encode(value, forKey: .taskSaved)
        case .offerSaved(let value): try container.encode(value, forKey: .offerSaved)
        case .pricesRecorded(let value): try container.encode(value, forKey: .pricesRecorded)
        }
    }
}

/// Something that happened: who did what to which target, and the changes it made.
public struct EventRecord: Codable, Sendable, Equatable {
    /// Position in the log, from 1, without gaps.
    public var seq: Int
    public var at: Date
    public var actor: ActorReference
    /// The method name of the operation (`tenant.create`, …).
    public var action: String
    /// The ID of the entity the operation acted on.
    public var target: String
    /// One human-readable line.
    public var summary: String
    /// The partner, tenant and domain the event belongs to (for visibility filtering).
    public var partnerId: String?
    public var tenantId: String?
    public var domainId: String?
    public var changes: [Change]
}

/// An audit event as shown to an actor.
public struct AuditEvent: Codable, Sendable, Equatable {
    public var seq: Int
    public var at: Date
    public var actor: ActorReference
    public var action: String
    public var target: String
    public var summary: String
}
