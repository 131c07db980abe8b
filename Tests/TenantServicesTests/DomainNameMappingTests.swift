import Foundation
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices

@Suite struct DomainNameMappingTests {
    /// The UTS #46 mapping comes first (full-width and other compatibility forms).
    @Test(arguments: [
        ("ｍｕｓｔｅｒ.ch", "muster.ch"),
        ("ＭＵＳＴＥＲ．ＣＨ", "muster.ch"),
        ("ｇｍａｉｌ.com", "gmail.com"),
        ("ﬁrma.ch", "firma.ch"),
        ("Ｍünchen.de", "xn--mnchen-3ya.de"),
        ("muster｡ch", "muster.ch"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ])
    func theUTS46MappingComesFirst(raw: String, stored: String) throws {
        #expect(try DomainName.normalize(raw) == stored)
    }

    /// IDNA 2008 rules that the hand-written codec did not know, and control characters.
    @Test(arguments: [
        "xn--al-0ea.ch",  // MIDDLE DOT without a preceding 'l' (CONTEXTO)
        "xn--hello-txk.ch",  // a U-label that starts with a combining mark
        "xn--x.ch",  // not punycode
        "muster.ch\u{0}.evil.com", "mus\u{1B}ter.ch", "muster\u{85}.ch",
    ])
    func idna2008RulesAndControlCharactersAreRefused(raw: String) {
        #expect(throws: DomainName.Invalid.self) { try DomainName.normalize(raw) }
    }

    /// Mapped spellings are one name for uniqueness and for the free-mail list.
    @Test func mappedSpellingsAreOneNameForUniquenessAndTheFreeMailList() throws {
        let world = try WorldBuilder()
        let partner = try world.partner("Muster IT")
        let tenant = try world.tenant("Muster AG", of: partner)
        try world.domain("muster.ch", of: tenant)
        let sales = world.actor(.sales, of: partner)
        let taken = #expect(throws: PortalError.self) {
            try world.portal.perform(DomainAdd(tenantId: tenant, name: "ｍｕｓｔｅｒ.ch", mode: .inline), as: sales)
        }
        #expect(taken?.code == .conflict)
        for name in ["ｇｍａｉｌ.com", "ＧＭＸ.net", "gmail．com"] {
            let freeMail = #expect(throws: PortalError.self) {
                try world.portal.perform(DomainAdd(tenantId: tenant, name: name, mode: .inline), as: sales)
            }
            #expect(freeMail?.code == .invalidDomain, "\(name)")
            #expect(freeMail?.message.contains("free-mail") == true, "\(name)")
        }
    }
}
