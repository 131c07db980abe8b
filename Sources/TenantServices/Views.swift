import Foundation
import OrderedCollections

/// An instant as RFC 3339 UTC text with second precision (`2026-11-27T13:00:00Z`), the fraction
/// cut off. Computed directly for the years 0001 to 9999 in the proleptic Gregorian calendar, as
/// RFC 3339 counts (the views show several per result, and Foundation's formatter costs
/// microseconds each; before 1582-10-15 it also counts Julian dates, such as 1500-02-29); other
/// instants go through ``formattedTimestamp(_:)``, which a test holds this to over generated
/// instants from 1970 on.
func timestamp(_ date: Date) -> String {
    let seconds = date.timeIntervalSince1970.rounded(.down)
    guard seconds >= -62_135_596_800, seconds < 253_402_300_800 else { return formattedTimestamp(date) }
    let total = Int(seconds)
    var (days, secondOfDay) = total.quotientAndRemainder(dividingBy: 86_400)
    if secondOfDay < 0 {
        days -= 1
        secondOfDay += 86_400
    }
    let civil = CivilDate(daysSince1970: days)
    let (year, month, day) = (civil.year, civil.month, civil.day)
    let (hour, minuteAndSecond) = secondOfDay.quotientAndRemainder(dividingBy: 3600)
    let (minute, second) = minuteAndSecond.quotientAndRemainder(dividingBy: 60)
    return String(unsafeUninitializedCapacity: 20) { text in
        func put(_ value: Int, digits: Int, at offset: Int) {
            var value = value
            for i in stride(from: offset + digits - 1, through: offset, by: -1) {
                text[i] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                value /= 10
            }
        }
        put(year, digits: 4, at: 0)
        text[4] = UInt8(ascii: "-")
        put(month, digits: 2, at: 5)
        text[7] = UInt8(ascii: "-")
        put(day, digits: 2, at: 8)
        text[10] = UInt8(ascii: "T")
        put(hour, digits: 2, at: 11)
        text[13] = UInt8(ascii: ":")
        put(minute, digits: 2, at: 14)
        text[16] = UInt8(ascii: ":")
        put(second, digits: 2, at: 17)
        text[19] = UInt8(ascii: "Z")
        return 20
    }
}

/// ``timestamp(_:)`` by Foundation's ISO 8601 format style.
func formattedTimestamp(_ date: Date) -> String {
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

    /// Whether the shown service is live on a day (see ``ServiceStatus/isLive(endDate:on:)``).
    public func isLive(on day: CivilDate) -> Bool { status.isLive(endDate: endDate, on: day) }
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
    /// The number of the booked service on its domain.
    public var number: Int
    public var kind: TaskKind
    public var record: DNSRecord
    /// `cancelled` once its service has ended without ever having been provisioned, or (a removal
    /// task) once a new booking of the domain name took its record over.
    public var status: TaskStatus
    public var createdAt: String
    public var doneAt: String?
}

extension Partner {
    var view: PartnerView { PartnerView(id: id, name: name, createdAt: timestamp(createdAt)) }
}

extension Domain {
    /// The mode on a day: from the live mode service while the domain has live services
    /// (`nil` without one), else the mode it last had.
    func mode(in catalog: Catalog, on day: CivilDate) -> IntegrationMode? {
        let live = liveServices(on: day)
        return live.isEmpty ? lastMode : catalog.mode(of: live.map(\.code))
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
        // Outside the dates the portal handles every change is refused, so no action can succeed.
        if canChange {
            if access.allows(.editTenant) { actions.append(TenantUpdate.method) }
            if access.allows(.order) { actions.append(DomainAdd.method) }
            if access.allows(.orderManually) { actions.append(DomainAddManually.method) }
            if access.allows(.seePrices) { actions.append(OfferCreate.method) }
        }
        return TenantView(
            id: tenant.id, partnerId: tenant.partnerId, name: tenant.name, contact: tenant.contact,
            address: tenant.address, invoiceReference: tenant.invoiceReference, source: tenant.source,
            externalId: tenant.externalId, products: tenant.products, region: tenant.region,
            currency: tenant.currency, managedDomains: visible.count { $0.hasLiveService(on: today) },
            totalServices: visible.reduce(0) { $0 + $1.liveServices(on: today).count }, version: tenant.version,
            createdAt: timestamp(tenant.createdAt), actions: actions)
    }

    func view(of domain: Domain) -> DomainView {
        DomainView(
            id: domain.id, tenantId: domain.tenantId, name: domain.name, mode: domain.mode(in: catalog, on: today),
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

    /// A task as shown, with its status on the current day.
    func view(of task: DeployTask) -> TaskView {
        TaskView(
            id: task.id, domainId: task.domainId, service: task.service, number: task.serviceNumber, kind: task.kind,
            record: task.record, status: status(of: task), createdAt: timestamp(task.createdAt),
            doneAt: task.doneAt.map(timestamp))
    }

    /// A task's status today: an open deploy task whose service has ended (also by date, before
    /// `workflow.tick`) without ever having been provisioned is `cancelled`.
    func status(of task: DeployTask, on domain: Domain? = nil) -> TaskStatus {
        guard task.status == .open, task.kind == .deploy,
            let domain = domain ?? state.domains[task.domainId],
            let service = domain.services.first(where: { $0.number == task.serviceNumber })
        else { return task.status }
        return service.provisionedAt == nil && !service.isLive(on: today) ? .cancelled : .open
    }

    /// The methods this actor may call on this domain now; each would succeed with suitable params.
    func actions(on domain: Domain) -> [String] {
        var actions: [String] = []
        // Outside the dates the portal handles every change is refused, so no action can succeed.
        guard canChange else { return actions }
        if access.allows(.order) {
            let live = domain.liveServices(on: today)
            let orderable = orderable(domain, live: live)
            // A live code is refused (already live, if nothing else): skipped without the whole check.
            let services = catalog.services
            if services.indices.contains(where: { i in
                let code = services[i].code
                return !live.contains { $0.code == code } && addRefusal([code], on: orderable, live: live) == nil
            }) {
                actions.append(ServiceAdd.method)
            }
        }
        if access.allows(.confirm) && domain.services.contains(where: { $0.status == .ordered })
            && catalog.isConsistent(domain.liveServices(on: today).map(\.code), region: domain.region)
        {
            actions.append(DomainConfirm.method)
        }
        if access.allows(.deploy) && domain.services.contains(where: { $0.status == .confirmed }) {
            actions.append(DomainDeploy.method)
        }
        if access.allows(.deploy)
            && state.tasks(ofDomain: domain.id).contains(where: { status(of: $0, on: domain) == .open })
        {
            actions.append(TaskComplete.method)
        }
        if access.allows(.order) {
            // A deployed service needs an end date from tomorrow on: none exists on the last date.
            let endDateExists = today.adding(days: 1).isRepresentable
            if domain.services.contains(where: {
                $0.isRunning(on: today) && ($0.status < .provisioning || endDateExists)
            }) {
                actions.append(ServiceCancel.method)
            }
            if domain.services.contains(where: {
                $0.isCancelledAndLive(on: today) && (try? uncancelled($0.code, on: domain)) != nil
            }) {
                actions.append(ServiceUncancel.method)
            }
            if domain.hasLiveService(on: today) { actions.append(ServiceSetDiscount.method) }
        }
        if access.allows(.manageUsers) { actions += [UsersImport.method, UsersRemove.method] }
        if access.allows(.setConfidential) {
            actions += [DomainSetConfidential.method, DomainGrantAccess.method, DomainRevokeAccess.method]
        }
        return actions
    }
}

/// Whether one catalog service can be added to a domain now, and if not why.
public struct ServiceAvailability: Codable, Sendable, Equatable {
    public var code: String
    public var name: String
    public var available: Bool
    public var reason: String?
}
