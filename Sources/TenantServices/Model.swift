public import Foundation

/// A reseller that owns tenants. Created by the operator.
public struct Partner: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Date
}

/// How a tenant was created: in the portal or by a CRM sync.
public enum TenantSource: String, Codable, Sendable {
    case portal, crm
}

/// The platform region a tenant's domains run in; derived from the tenant's country.
public enum Region: String, Codable, Sendable, CaseIterable {
    case CH, DE

    /// `CH` for Switzerland and Liechtenstein, `DE` for every other country.
    public init(country: String) {
        self = ["CH", "LI"].contains(country.uppercased()) ? .CH : .DE
    }

    /// The currency tenants of this region are billed in.
    public var currency: String { self == .CH ? "CHF" : "EUR" }
}

/// How to reach a tenant's contact person.
public struct Contact: Codable, Sendable, Equatable, Hashable {
    public var email: String
    public var phone: String?

    public init(email: String, phone: String? = nil) {
        self.email = email
        self.phone = phone
    }
}

/// A postal address; `country` is an ISO 3166-1 alpha-2 code.
public struct Address: Codable, Sendable, Equatable, Hashable {
    public var street: String
    public var postalCode: String
    public var city: String
    public var country: String

    public init(street: String, postalCode: String, city: String, country: String) {
        self.street = street
        self.postalCode = postalCode
        self.city = city
        self.country = country
    }
}

/// A partner's customer ("Mandant") as stored.
public struct Tenant: Codable, Sendable, Equatable {
    public var id: String
    public var partnerId: String
    public var name: String
    public var contact: Contact?
    public var address: Address
    public var invoiceReference: String?
    public var source: TenantSource
    public var externalId: String?
    public var products: [String]
    public var version: Int
    public var createdAt: Date

    public var region: Region { Region(country: address.country) }
    public var currency: String { region.currency }
}

/// A domain's integration mode: MX to the cloud (`inline`) or looped from Microsoft 365 (`parallel`).
public enum IntegrationMode: String, Codable, Sendable, CaseIterable {
    case inline, parallel
}

/// The life cycle of one booked service, in order.
public enum ServiceStatus: String, Codable, Sendable, CaseIterable, Comparable {
    case ordered, confirmed, provisioning, provisioned, cancelled, deprovisioning, deprovisioned

    var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    /// Whether a service in this status with this end date is live on a day: `ordered`,
    /// `confirmed`, `provisioning`, `provisioned`, or `cancelled` with an end date not yet passed.
    ///
    /// This is the one definition of liveness: a cancelled service whose end date has passed is
    /// not live even before `workflow.tick` has moved it on, so it is not counted, not billed
    /// after its end date and cannot be uncancelled. Pass "today" in the portal's time zone.
    public func isLive(endDate: CivilDate?, on day: CivilDate) -> Bool {
        switch self {
        case .ordered, .confirmed, .provisioning, .provisioned: true
        case .cancelled: endDate.map { $0 >= day } ?? true
        case .deprovisioning, .deprovisioned: false
        }
    }
}

/// A discount on one booked service.
public struct Discount: Codable, Sendable, Equatable, Hashable {
    /// Why a discount is given.
    public enum Reason: String, Codable, Sendable, CaseIterable {
        case nfr, test, promotion, volume, other
    }

    /// Percent in hundredths (1050 = 10.50 %).
    public var basisPoints: Int
    public var reason: Reason?

    public init(basisPoints: Int, reason: Reason?) {
        self.basisPoints = basisPoints
        self.reason = reason
    }

    /// The portal's label, such as `10 % (nfr)` or `12.5 % (promotion)`.
    public var label: String {
        let whole = basisPoints / 100
        let fraction = basisPoints % 100
        var number = String(whole)
        if fraction != 0 {
            number += fraction % 10 == 0 ? ".\(fraction / 10)" : (fraction < 10 ? ".0\(fraction)" : ".\(fraction)")
        }
        return reason.map { "\(number) % (\($0.rawValue))" } ?? "\(number) %"
    }
}

/// One catalog service booked on one domain.
public struct BookedService: Codable, Sendable, Equatable {
    /// Per-domain sequential number, never reused.
    public var number: Int
    public var code: String
    public var status: ServiceStatus
    public var orderedAt: Date
    public var confirmedAt: Date?
    public var provisionedAt: Date?
    public var billingStart: CivilDate?
    public var endDate: CivilDate?
    public var discount: Discount?
    /// The cancel operation that ended or cancelled this service, for `service.uncancel`.
    public var cancellation: Cancellation?

    /// Whether this booking is live on a day (see ``ServiceStatus/isLive(endDate:on:)``).
    public func isLive(on day: CivilDate) -> Bool { status.isLive(endDate: endDate, on: day) }

    /// Whether this booking is cancelled and its end date has not passed on a day: it can be uncancelled.
    public func isCancelledAndLive(on day: CivilDate) -> Bool { status == .cancelled && isLive(on: day) }

    /// Whether this booking is live and not cancelled on a day: it runs on and can be cancelled.
    public func isRunning(on day: CivilDate) -> Bool { status != .cancelled && isLive(on: day) }
}

/// How a service was cancelled, so uncancel can restore it exactly.
public struct Cancellation: Codable, Sendable, Equatable {
    /// The sequence number of the cancel event; services cancelled together share it.
    public var operation: Int
    public var previousStatus: ServiceStatus
    public var previousEndDate: CivilDate?
    /// The earlier cancellation of a service this operation moved to an earlier end date (0 or 1 element).
    public var previous: [Cancellation] = []
}

/// How a user's outgoing mail is protected; drives billing quantities.
public enum Protection: String, Codable, Sendable, CaseIterable {
    case none, signOnly, signEncrypt
}

/// A mailbox of a domain.
public struct User: Codable, Sendable, Equatable {
    public var address: String
    public var protection: Protection
    public var active: Bool

    public init(address: String, protection: Protection, active: Bool = true) {
        self.address = address
        self.protection = protection
        self.active = active
    }
}

/// A mail domain of a tenant, with its booked services and users, as stored.
public struct Domain: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var name: String
    public var region: Region
    /// The mode this domain last had; `mode(in:)` derives the current one.
    public var lastMode: IntegrationMode?
    public var confidential: Bool
    public var access: [String]
    public var services: [BookedService]
    public var nextServiceNumber: Int
    public var users: [User]
    public var version: Int
    public var createdAt: Date

    /// Services that are live on a day (ordered up to cancelled with an end date not yet passed).
    public func liveServices(on day: CivilDate) -> [BookedService] { services.filter { $0.isLive(on: day) } }

    /// Whether any booked service is live on a day; a domain is unique on the platform while it has one.
    public func hasLiveService(on day: CivilDate) -> Bool { services.contains { $0.isLive(on: day) } }
}

/// Whether a task brings a service up or takes it down.
public enum TaskKind: String, Codable, Sendable {
    case deploy, remove
}

/// A DNS record (or connector) a task asks for.
public struct DNSRecord: Codable, Sendable, Hashable {
    public var type: String
    public var name: String
    public var value: String
}

/// Whether a task is still waiting for someone.
public enum TaskStatus: String, Codable, Sendable, CaseIterable {
    case open, done
    /// A deploy task whose service ended without ever having been provisioned, or a removal task
    /// whose record a new booking of the domain name took over; it can no longer be completed.
    case cancelled
}

/// Something that must happen outside the system before a service goes live or is removed.
public struct DeployTask: Codable, Sendable, Equatable {
    public var id: String
    public var domainId: String
    public var service: String
    public var serviceNumber: Int
    public var kind: TaskKind
    public var record: DNSRecord
    public var status: TaskStatus
    public var createdAt: Date
    public var doneAt: Date?
}
