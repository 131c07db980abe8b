import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct OfferVisibilityTests {
    /// Offers are for Sales/ALL and the operator; a partner admin of the offer's own
    /// partner without those roles gets permission-denied, anyone outside the partner not-found.
    @Test func offersArePermissionDeniedInsideThePartnerAndNotFoundOutside() throws {
        let world = try World()
        let sales = world.partnerAdmin([.Sales])
        let offer = try world.portal.perform(
            OfferCreate(
                tenantId: world.tenants[0],
                lines: [.init(domain: "neu.ch", mode: .inline, services: ["SC-F-OUTBOUND"], users: 5)]), as: sales
        ).offer.id
        func codes(_ actor: Principal) -> [PortalError.Code?] {
            func code(_ body: () throws -> Void) -> PortalError.Code? {
                do {
                    try body()
                    return nil
                } catch let error as PortalError {
                    return error.code
                } catch {
                    return .storageFailure
                }
            }
            let p = world.portal
            return [
                code { _ = try p.perform(OfferGet(offerId: offer), as: actor) },
                code { _ = try p.perform(OfferRender(offerId: offer, format: .markdown), as: actor) },
                code { _ = try p.perform(OfferSend(offerId: offer), as: actor) },
                code { _ = try p.perform(OfferDecline(offerId: offer), as: actor) },
                code { _ = try p.perform(OfferAccept(offerId: offer), as: actor) },
            ]
        }
        for role in [Role.Support, .Tech, .Audit, .UserManagement] {
            for expert in [false, true] {
                let actor = world.partnerAdmin([role], expert: expert)
                #expect(codes(actor) == Array(repeating: .permissionDenied, count: 5), "\(role) of the offer's partner")
                let list = #expect(throws: PortalError.self) { try world.portal.perform(OfferList(), as: actor) }
                #expect(list?.code == .permissionDenied)
            }
        }
        for outsider in [
            world.partnerAdmin([.Sales], of: 1), world.partnerAdmin([.ALL], of: 1),
            world.partnerAdmin([.Support], of: 1),
            world.tenantAdmin([.ALL]),
        ] {
            #expect(codes(outsider) == Array(repeating: .notFound, count: 5), "\(outsider.id)")
        }
        #expect(try world.portal.perform(OfferList(), as: world.partnerAdmin([.ALL], of: 1)).offers.isEmpty)
    }
}
