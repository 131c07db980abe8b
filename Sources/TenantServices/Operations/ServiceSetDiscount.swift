import OrderedCollections

/// Sets or removes the discount of a live booked service.
public struct ServiceSetDiscount: PortalRequest, Executable, Equatable {
    public static let method = "service.setDiscount"
    static let isMutating = true
    public var domainId: String
    public var service: String
    /// 0–100 with up to two decimals; 0 removes the discount.
    public var percent: Double
    /// Required when `percent` is above 0.
    public var reason: Discount.Reason?
    public var expectedVersion: Int?

    public init(
        domainId: String, service: String, percent: Double, reason: Discount.Reason? = nil, expectedVersion: Int? = nil
    ) {
        self.domainId = domainId
        self.service = service
        self.percent = percent
        self.reason = reason
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .order, expectedVersion: expectedVersion)
        _ = try tx.booking(of: service, on: domain)
        let discount = try Discount(percent: percent, reason: reason)
        guard let i = domain.services.lastIndex(where: { $0.code == service && $0.isLive(on: tx.today) }) else {
            throw PortalError(
                .invalidTransition, "\(service) is not live on \(domain.name); only a live service can get a discount")
        }
        domain.services[i].discount = discount
        tx.save(domain, of: tenant, summary: "discount of \(service) on \(domain.name): \(discount?.label ?? "none")")
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

extension Discount {
    /// A discount from a percent with up to two decimals; nil for 0.
    init?(percent: Double, reason: Reason?) throws(PortalError) {
        let basisPoints = (percent * 100).rounded()
        guard percent >= 0, percent <= 100, abs(basisPoints - percent * 100) < 1e-6 else {
            throw PortalError(
                .invalidArgument, "percent must be between 0 and 100 with at most two decimals, not \(percent)")
        }
        guard basisPoints > 0 else { return nil }
        guard let reason else {
            throw PortalError(
                .invalidArgument, "a discount above 0 % needs a reason: nfr, test, promotion, volume or other")
        }
        self.init(basisPoints: Int(basisPoints), reason: reason)
    }
}
