import Foundation
import Testing

@testable import TenantServices

@Suite struct OrderingOnACancelledDomainTests {
    /// Found by the property test: a service booked after its requirement was cancelled outlived it.
    @Test func servicesThatWouldOutliveTheirRequirementsAreRefused() throws {
        let d = try Deployed(on: "2026-11-18")
        _ = try d.cancel("SC-SIGENC")
        let sigenc = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-CERT"]), as: d.admin)
        }
        #expect(sigenc?.code == .conflict || sigenc?.code == .invalidTransition)
        _ = try d.cancel("SC-SERVICE")
        let whole = #expect(throws: PortalError.self) {
            try d.portal.perform(ServiceAdd(domainId: d.domainId, services: ["SC-HIN"]), as: d.admin)
        }
        #expect(whole?.code == .invalidTransition)
        #expect(whole?.message.contains("uncancel") == true)
    }
}
