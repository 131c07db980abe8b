public import TenantServices

/// Calls the actions a view advertises (`actions` of a tenant or a domain) with valid params
/// chosen from the current state, so a test can check that every button the portal shows works.
///
/// ```swift
/// let view = try world.portal.perform(DomainGet(domainId: id), as: sales).domain
/// for action in view.actions {
///     try AdvertisedActions.call(action, onDomain: id, as: sales, in: try world.fork())
/// }
/// ```
///
/// Each call throws the portal's refusal; when the state offers no valid params at all (say
/// `task.complete` with no open task to complete), it throws an ``InvariantViolation``.
public enum AdvertisedActions {
    /// The address used for users these calls import and remove.
    static let probeUser = "probe-user"
    /// The principal these calls grant and revoke access to.
    static let probePrincipal = "probe-principal"

    /// Calls one of a tenant's advertised actions as an actor.
    /// - Returns: the call made, for logs.
    @discardableResult
    public static func call(_ action: String, onTenant tenantId: String, as actor: Principal, in world: WorldBuilder)
        throws -> String
    {
        let portal = world.portal
        let name = "probe-\(tenantId.lowercased())-\(portal.journal.count).ch"
        switch action {
        case TenantUpdate.method:
            _ = try portal.perform(TenantUpdate(tenantId: tenantId, invoiceReference: "PROBE-1"), as: actor)
        case DomainAdd.method:
            _ = try portal.perform(DomainAdd(tenantId: tenantId, name: name, mode: .inline), as: actor)
        case DomainAddManually.method:
            _ = try portal.perform(DomainAddManually(tenantId: tenantId, name: name), as: actor)
        case OfferCreate.method:
            // The default validity (today + 30 days) would end past the last date in its last month.
            let today = world.clock.today
            let validUntil = today.adding(days: 30).isRepresentable ? nil : CivilDate.latest
            _ = try portal.perform(
                OfferCreate(
                    tenantId: tenantId, validUntil: validUntil, lines: [.init(domain: name, mode: .inline, users: 1)]),
                as: actor)
        default:
            throw unknown(action)
        }
        return "\(action) on \(tenantId)"
    }

    /// Calls one of a domain's advertised actions as an actor.
    /// - Returns: the call made, for logs.
    @discardableResult
    public static func call(_ action: String, onDomain domainId: String, as actor: Principal, in world: WorldBuilder)
        throws -> String
    {
        let portal = world.portal
        let today = world.clock.today
        let domain = try portal.perform(DomainGet(domainId: domainId), as: actor).domain
        func none(_ what: String) -> InvariantViolation {
            InvariantViolation(
                invariant: "every advertised action can be called",
                detail: "\(domain.name) advertises \(action) to \(actor.id), but \(what)")
        }
        var detail = ""
        switch action {
        case ServiceAdd.method:
            let available = try portal.perform(ServiceAvailable(domainId: domainId), as: actor).services
            guard let code = available.first(where: \.available)?.code else {
                throw none("service.available marks no service available")
            }
            detail = code
            _ = try portal.perform(ServiceAdd(domainId: domainId, services: [code]), as: actor)
        case DomainConfirm.method:
            _ = try portal.perform(DomainConfirm(domainId: domainId), as: actor)
        case DomainDeploy.method:
            _ = try portal.perform(DomainDeploy(domainId: domainId), as: actor)
        case TaskComplete.method:
            let open = try portal.perform(TaskList(domainId: domainId, status: .open, limit: 1000), as: actor).tasks
            guard let task = open.first else { throw none("it has no open task") }
            detail = task.id
            _ = try portal.perform(TaskComplete(taskId: task.id), as: actor)
        case ServiceCancel.method:
            // On the last date a deployed service has no end date left: only a never-deployed one can end.
            let endDateExists = today.adding(days: 1).isRepresentable
            guard
                let service = domain.services.last(where: {
                    $0.isLive(on: today) && $0.status != .cancelled && (endDateExists || $0.status < .provisioning)
                })
            else { throw none("no service runs") }
            detail = service.code
            _ = try portal.perform(ServiceCancel(domainId: domainId, service: service.code), as: actor)
        case ServiceUncancel.method:
            // Advertised when some cancelled service can be restored: try each (a refusal changes nothing).
            let cancelled = domain.services.filter { $0.isLive(on: today) && $0.status == .cancelled }
            guard !cancelled.isEmpty else { throw none("no service is cancelled before its end date") }
            var refusal: (any Error)?
            for service in cancelled {
                do {
                    _ = try portal.perform(ServiceUncancel(domainId: domainId, service: service.code), as: actor)
                    return "\(action) \(service.code) on \(domain.name)"
                } catch {
                    refusal = error
                }
            }
            throw refusal!
        case ServiceSetDiscount.method:
            guard let service = domain.services.last(where: { $0.isLive(on: today) }) else {
                throw none("no service is live")
            }
            detail = service.code
            _ = try portal.perform(
                ServiceSetDiscount(domainId: domainId, service: service.code, percent: 10, reason: .volume), as: actor)
        case UsersImport.method:
            _ = try portal.perform(
                UsersImport(
                    domainId: domainId, users: [.init(address: "\(probeUser)@\(domain.name)", protection: .signOnly)]),
                as: actor)
        case UsersRemove.method:
            _ = try portal.perform(
                UsersRemove(domainId: domainId, addresses: ["\(probeUser)@\(domain.name)"]), as: actor)
        case DomainSetConfidential.method:
            _ = try portal.perform(
                DomainSetConfidential(domainId: domainId, confidential: !domain.confidential), as: actor)
        case DomainGrantAccess.method:
            _ = try portal.perform(DomainGrantAccess(domainId: domainId, principalId: probePrincipal), as: actor)
        case DomainRevokeAccess.method:
            _ = try portal.perform(DomainRevokeAccess(domainId: domainId, principalId: probePrincipal), as: actor)
        default:
            throw unknown(action)
        }
        return "\(action) \(detail) on \(domain.name)"
    }

    private static func unknown(_ action: String) -> InvariantViolation {
        InvariantViolation(invariant: "every advertised action is a known method", detail: action)
    }
}
