import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct TenantGeneratorTests {
    @Test func generatedTenantsAreAccepted() async throws {
        let world = try WorldBuilder()
        let partner = try world.partner("P")
        let sales = world.actor(.sales, of: partner)
        await propertyCheck(count: 50, input: Generators.tenant) { request in
            let tenant = try? world.portal.perform(request, as: sales).tenant
            #expect(tenant != nil, "\(request)")
            #expect(tenant?.currency == (["CH", "LI"].contains(request.address.country) ? "CHF" : "EUR"))
        }
    }
}
