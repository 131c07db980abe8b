import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct ConfidentialityRoleTests {
    /// Confidentiality and grants need a partner admin role (any) and expert mode.
    @Test func confidentialityAndGrantsNeedARoleAndExpertMode() throws {
        let world = try World()
        let domain = world.domains[0][0]
        for actor in [world.partnerAdmin([], expert: true), world.partnerAdmin([], expert: false)] {
            let set = try refusal(world, DomainSetConfidential(domainId: domain, confidential: true), as: actor)
            #expect(set.code == .permissionDenied)
            #expect(set.details.required == Role.allCases)
            #expect(set.message.contains("roles"))
            let grant = try refusal(world, DomainGrantAccess(domainId: domain, principalId: "ta-x"), as: actor)
            #expect(grant.code == .permissionDenied)
            let revoke = try refusal(world, DomainRevokeAccess(domainId: domain, principalId: "ta-x"), as: actor)
            #expect(revoke.code == .permissionDenied)
        }
        let withoutExpertMode = try refusal(
            world, DomainSetConfidential(domainId: domain, confidential: true), as: world.partnerAdmin([.Audit]))
        #expect(withoutExpertMode.message.contains("expert mode"))
        for role in Role.allCases {
            let actor = world.partnerAdmin([role], expert: true)
            _ = try world.portal.perform(DomainSetConfidential(domainId: domain, confidential: true), as: actor)
            _ = try world.portal.perform(DomainSetConfidential(domainId: domain, confidential: false), as: actor)
        }
    }
}
