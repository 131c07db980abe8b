import Foundation
import Testing

@testable import TenantServices

@Suite struct DomainNameTests {
    @Test(arguments: [
        ("Muster.CH", "muster.ch"),
        ("muster.ch.", "muster.ch"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("muster-müller.ch", "xn--muster-mller-klb.ch"),
        ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
        ("faß.de", "xn--fa-hia.de"),
        ("例え。テスト", "xn--r8jz45g.xn--zckzah"),
        ("a-b.c-d.example.com", "a-b.c-d.example.com"),
    ])
    func normalizes(raw: String, stored: String) throws {
        #expect(try DomainName.normalize(raw) == stored)
    }

    @Test(arguments: [
        "", "localhost", "muster..ch", ".muster.ch", "-muster.ch", "muster-.ch", "mus ter.ch", "muster.c",
        "muster.123", "ab--cd.ch", "m_uster.ch", "muster.ch/path", "anna@muster.ch", "😀.ch",
        String(repeating: "a", count: 64) + ".ch", (0..<60).map { _ in "abcd" }.joined(separator: "."),
    ])
    func refuses(raw: String) {
        #expect(throws: DomainName.Invalid.self) { try DomainName.normalize(raw) }
    }
}
