import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct OfferRuleOrderTests {
    /// Domain rules are checked in the order invalid-domain, conflict, dependency-violation,
    /// date-rule, across every line of an offer.
    @Test func offerCreateAnswersInvalidDomainBeforeAnyOtherDomainRule() throws {
        let world = try World()
        let sales = world.partnerAdmin([.Sales])
        let inconsistent = OfferCreate.LineRequest(
            domain: "neu.ch", mode: .parallel, services: ["SC-F-INBOUND"], users: 5)
        let invalid = OfferCreate.LineRequest(domain: "bad_name.ch", mode: .inline, users: 5)
        let booked = OfferCreate.LineRequest(domain: "alpha-ordered.ch", mode: .inline, users: 5)
        func code(_ lines: [OfferCreate.LineRequest], validUntil: String? = nil) throws -> PortalError.Code {
            try refusal(
                world,
                OfferCreate(tenantId: world.tenants[0], validUntil: validUntil.flatMap(CivilDate.init), lines: lines),
                as: sales
            ).code
        }
        #expect(try code([inconsistent, invalid]) == .invalidDomain)
        #expect(try code([invalid, inconsistent]) == .invalidDomain)
        #expect(try code([inconsistent, booked]) == .conflict)
        #expect(try code([booked, invalid]) == .invalidDomain)
        #expect(try code([inconsistent], validUntil: "2020-01-01") == .dependencyViolation)
    }
}
