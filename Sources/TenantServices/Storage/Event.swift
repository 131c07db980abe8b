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
    public var actor: PrincipalReference
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
    /// The request key of the operation, on its last record (the key that makes a retry answer
    /// the first reply instead of running again), while it is
    /// kept; nil otherwise. An operation that changes nothing but was given a key writes one
    /// record with no changes that carries only the key (not shown in the audit log).
    public var requestKey: RequestKeyRecord? = nil
}

/// A `requestKey` as the store keeps it: who used it for which call, a digest of the call's
/// parameters and the call's result, so any server that reads the record can replay the result.
public struct RequestKeyRecord: Codable, Sendable, Equatable {
    /// The identity a key belongs to: each actor has a key space of its own.
    public struct Scope: Codable, Sendable, Hashable {
        public var kind: Principal.Kind
        public var id: String
        public var partnerId: String?
        public var tenantId: String?

        public init(kind: Principal.Kind, id: String, partnerId: String? = nil, tenantId: String? = nil) {
            self.kind = kind
            self.id = id
            self.partnerId = partnerId
            self.tenantId = tenantId
        }

        /// The key space of `actor`: its kind, ID, partner and tenant (roles are params, not scope).
        public init(_ actor: Principal) {
            self.init(kind: actor.kind, id: actor.id, partnerId: actor.partnerId, tenantId: actor.tenantId)
        }
    }

    public var scope: Scope
    /// The key the client sent.
    public var key: String
    /// The method the key was used for.
    public var method: String
    /// SHA-256 (lower-case hex) of the method, the params and the actor's roles and expert mode.
    public var digest: String
    /// The JSON text of the first result, replayed as is.
    public var result: String

    public init(scope: Scope, key: String, method: String, digest: String, result: String) {
        self.scope = scope
        self.key = key
        self.method = method
        self.digest = digest
        self.result = result
    }
}

/// An audit event as shown to an actor.
public struct AuditEvent: Codable, Sendable, Equatable {
    public var seq: Int
    public var at: Date
    public var actor: PrincipalReference
    public var action: String
    public var target: String
    public var summary: String
}
