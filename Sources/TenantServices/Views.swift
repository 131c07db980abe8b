import Foundation
import OrderedCollections

/// An instant as RFC 3339 UTC text with second precision (`2026-11-27T13:00:00Z`).
func timestamp(_ date: Date) -> String {
    date.formatted(
        .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon)
            .timeZone(separator: .omitted))
}

/// A partner as shown to the operator.
public struct PartnerView: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: String
}

/// A tenant as shown to one actor: counts cover only what that actor may see.
public struct TenantView: Codable, Sendable, Equatable {
    public var id: String
    public var partnerId: String
    public var name: String
    public var contact: Contact?
    public var address: Address
    public var invoiceReference: String?
    public var source: TenantSource
    public var externalId: String?
    public var products: [String]
    public var region: Region
    public var currency: String
    /// Domains with a live service.
    public var managedDomains: Int
    /// Live services over all visible domains.
    public var totalServices: Int
    public var version: Int
    public var createdAt: String
    /// Methods this actor may call on this tenant now.
    public var actions: [String]
}

/// A discount as shown: percent with up to two decimals, reason and label.
public struct DiscountView: Codable, Sendable, Equatable {
    public var percent: Double
    public var reason: Discount.Reason?
    public var label: String
}

/// A booked service as shown.
public struct ServiceView: Codable, Sendable, Equatable {
    public var number: Int
    public var code: String
    public var name: String
    public var status: ServiceStatus
    public var orderedAt: String
    public var confirmedAt: String?
    public var provisionedAt: String?
    public var billingStart: CivilDate?
    public var endDate: CivilDate?
    public var discount: DiscountView?
}

/// Active users of a domain by protection.
public struct UserCounts: Codable, Sendable, Equatable {
    public var total: Int
    public var signOnly: Int
    public var signEncrypt: Int
}

/// A domain as shown to one actor.
public struct DomainView: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var name: String
    public var mode: IntegrationMode?
    public var region: Region
    public var confidential: Bool
    /// Principals granted access to this confidential domain.
    public var access: [String]
    public var version: Int
    public var services: [ServiceView]
    public var users: UserCounts
    /// Methods this actor may call on this domain now.
    public var actions: [String]
}

/// A task as shown.
public struct TaskView: Codable, Sendable, Equatable {
    public var id: String
    public var domainId: String
    public var service: String
    public var kind: TaskKind
    public var record: DNSRecord
    public var status: TaskStatus
    public var createdAt: String
    public var doneAt: String?
}

extension Partner {
    var view: PartnerView { PartnerView(id: id, name: name, createdAt: timestamp(createdAt)) }
}

extension DeployTask {
    var view: TaskView {
        TaskView(
            id: id, domainId: domainId, service: service, kind: kind, record: record, status: status,
            createdAt: timestamp(createdAt), doneAt: doneAt.map(timestamp))
    }
}

extension Domain {
    /// The current mode: from the live mode service, else the mode it last had.
    func mode(in catalog: Catalog) -> IntegrationMode? {
        catalog.mode(of: liveServices.map(\.code)) ?? lastMode
    }

    var userCounts: UserCounts {
        let active = users.filter(\.active)
        return UserCounts(
            total: active.count, signOnly: active.count { $0.protection == .signOnly },
            signEncrypt: active.count { $0.protection == .signEncrypt })
    }
}

extension Transaction {
    func view(of tenant: Tenant) -> TenantView {
        let visible = state.domains(ofTenant: tenant.id).filter { access.canSee($0, of: tenant) }
        var actions: [String] = []
        if access.allows(.editTenant) { actions.append("tenant.update") }
        if access.allows(.order) { actions.append("domain.add") }
        if access.allows(.orderManually) { actions.append("domain.addManually") }
        if access.allows(.seePrices) { actions.append("offer.create") }
        return TenantView(
            id: tenant.id, partnerId: tenant.partnerId, name: tenant.name, contact: tenant.contact,
            address: tenant.address, invoiceReference: tenant.invoiceReference, source: tenant.source,
            externalId: tenant.externalId, products: tenant.products, region: tenant.region,
            currency: tenant.currency, managedDomains: visible.count(where: \.hasLiveService),
            totalServices: visible.reduce(0) { $0 + $1.liveServices.count }, version: tenant.version,
            createdAt: timestamp(tenant.createdAt), actions: actions)
    }

    func view(of domain: Domain) -> DomainView {
        DomainView(
            id: domain.id, tenantId: domain.tenantId, name: domain.name, mode: domain.mode(in: catalog),
            region: domain.region, confidential: domain.confidential, access: domain.access,
            version: domain.version, services: domain.services.map(view(of:)), users: domain.userCounts,
            actions: actions(on: domain))
    }

    func view(of service: BookedService) -> ServiceView {
        ServiceView(
            number: service.number, code: service.code,
            name: catalog[service.code]?.name(locale: "en") ?? service.code, status: service.status,
            orderedAt: timestamp(service.orderedAt), confirmedAt: service.confirmedAt.map(timestamp),
            provisionedAt: service.provisionedAt.map(timestamp), billingStart: service.billingStart,
            endDate: service.endDate,
            discount: service.discount?.view)
    }

    func actions(on domain: Domain) -> [String] {
        var actions: [String] = []
        let statuses = Set(domain.services.map(\.status))
        let live = Set(domain.liveServices.map(\.code))
        if access.allows(.order)
            && catalog.services.contains(where: { catalog.isBookable($0.code, beside: live, region: domain.region) })
        {
            actions.append("service.add")
        }
        if access.allows(.confirm) && statuses.contains(.ordered) { actions.append("domain.confirm") }
        if access.allows(.deploy) && statuses.contains(.confirmed) { actions.append("domain.deploy") }
        if access.allows(.deploy)
            && state.tasks.values.contains(where: { $0.domainId == domain.id && $0.status == .open })
        {
            actions.append("task.complete")
        }
        if access.allows(.order) {
            if domain.services.contains(where: { $0.status.isLive && $0.status != .cancelled }) {
                actions.append("service.cancel")
            }
            if statuses.contains(.cancelled) { actions.append("service.uncancel") }
            if domain.hasLiveService { actions.append("service.setDiscount") }
        }
        if access.allows(.manageUsers) { actions += ["users.import", "users.remove"] }
        if access.allows(.setConfidential) {
            actions += ["domain.setConfidential", "domain.grantAccess", "domain.revokeAccess"]
        }
        return actions
    }

    /// Every catalog service and whether it can be added to the domain now (the portal's "add services" list).
    func availability(on domain: Domain) -> [ServiceAvailability] {
        let live = domain.liveServices
        let liveCodes = live.map(\.code)
        return catalog.services.map { service in
            if let booked = live.first(where: { $0.code == service.code }) {
                return ServiceAvailability(
                    code: service.code, name: service.name(locale: "en"), available: false,
                    reason: "already booked as number \(booked.number) (\(booked.status.rawValue))")
            }
            let problems = catalog.permanentViolations(of: liveCodes + [service.code], region: domain.region)
                .filter { $0.services.contains(service.code) }
            guard let problem = problems.first else {
                return ServiceAvailability(
                    code: service.code, name: service.name(locale: "en"), available: true, reason: nil)
            }
            let reason: String
            switch problem.rule {
            case .excludes:
                reason = "excluded by \(problem.services.first { $0 != service.code } ?? "")"
            case .mode:
                let allowed = (service.modes ?? []).map(\.rawValue).joined(separator: " or ")
                reason =
                    "wrong mode: runs only in \(allowed) mode, the domain is \(domain.mode(in: catalog)?.rawValue ?? "without mode")"
            default:
                let allowed = (service.regions ?? []).map(\.rawValue).joined(separator: ", ")
                reason = "wrong region: available only in \(allowed), the domain is in \(domain.region.rawValue)"
            }
            return ServiceAvailability(
                code: service.code, name: service.name(locale: "en"), available: false, reason: reason)
        }
    }
}

/// Whether one catalog service can be added to a domain now, and if not why.
public struct ServiceAvailability: Codable, Sendable, Equatable {
    public var code: String
    public var name: String
    public var available: Bool
    public var reason: String?
}
