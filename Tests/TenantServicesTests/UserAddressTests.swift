import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct UserAddressTests {
    static let stems = ["anna", "Carl", "zoë", "o'brien", "x.y-z"]

    /// Spellings of one address that `users.import` accepts: case, padding, the domain in Unicode,
    /// full-width or punycode, a trailing dot, decomposed letters.
    static func spelling(_ local: String, _ variant: Int) -> String {
        let domains = [
            "münchen.de", "MÜNCHEN.de", "xn--mnchen-3ya.de", "ｍüｎｃｈｅｎ.de", "München.DE.", "mu\u{308}nchen.de",
        ]
        let locals = [local, local.uppercased(), local.lowercased(), local.decomposedStringWithCanonicalMapping]
        let pads = ["", " ", "  "]
        let pad = pads[variant % pads.count]
        return pad + locals[(variant / 3) % locals.count] + "@" + domains[(variant / 12) % domains.count] + pad
    }

    /// `users.remove` of any spelling that `users.import` accepted removes that user.
    @Test func usersRemoveOfAnySpellingUsersImportAcceptedRemovesThatUser() async {
        await propertyCheck(
            count: 60, input: Gen.int(in: 0...(Self.stems.count - 1)), Gen.int(in: 0...71), Gen.int(in: 0...71)
        ) { stem, imported, removed in
            do {
                let world = try WorldBuilder()
                let partner = try world.partner("Muster IT")
                let tenant = try world.tenant("Muster AG", of: partner)
                let domain = try world.domain("münchen.de", of: tenant, users: [.none: 1])
                let admin = world.actor(.all, of: partner)
                let local = Self.stems[stem]
                let spelled = Self.spelling(local, imported)
                _ = try world.portal.perform(
                    UsersImport(domainId: domain, users: [.init(address: spelled, protection: .signOnly)]), as: admin)
                let count = try world.portal.perform(DomainGet(domainId: domain), as: admin).domain.users.total
                #expect(count == 2, "\(spelled) imported")
                let other = Self.spelling(local, removed)
                let after = try world.portal.perform(UsersRemove(domainId: domain, addresses: [other]), as: admin)
                #expect(after.domain.users.total == 1, "removing '\(other)' removes the user imported as '\(spelled)'")
                #expect(after.domain.users.signOnly == 0)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
