import JanssonJSON
import Testing

/// The `hostname` and `idn-hostname` formats go through libidn2 (IDNA 2008), the same code that
/// normalizes the portal's domain names.
@Suite struct HostnameFormatTests {
    static func accepts(_ format: String, _ text: String) throws -> Bool {
        let schema = try JSONSchema(["format": JSONValue(format)], options: SchemaOptions(assertFormats: true))
        return schema.isValid(JSONValue(text))
    }

    @Test(arguments: [
        ("xn--bcher-kva.example", true), ("xn--ll-0ea.example", true), ("a--b.example", true),
        ("bücher.example", false), ("xn--al-0ea.example", false), ("xn--x.example", false),
        ("ab--cd.example", false), ("XN--BCHER-KVA.example", true),
    ])
    func hostnameChecksALabelsWithIDNA2008(text: String, valid: Bool) throws {
        #expect(try Self.accepts("hostname", text) == valid, "\(text)")
    }

    @Test(arguments: [
        ("bücher.example", true), ("straße.de", true), ("실례.테스트", true), ("l\u{B7}l.example", true),
        ("a\u{3002}b", true), ("a\u{FF0E}b", true), ("xn--bcher-kva.example", true), ("host-name", true),
        ("", false), (".", false), ("\u{3002}", false), ("example.", false), ("example\u{FF61}", false),
        ("-bücher.de", false), ("bücher-.de", false), ("\u{301}bücher.de", false), ("a\u{B7}b.example", false),
        ("ｂｕｃｈｅｒ.de", false), ("\u{640}\u{7FA}.example", false), ("xn--x.example", false),
        ("ab--cd.example", false), ("bü cher.de", false), ("bü\u{0}cher.de", false),
        (String(repeating: "ü", count: 60) + ".de", false),
    ])
    func idnHostnameChecksULabelsWithIDNA2008(text: String, valid: Bool) throws {
        #expect(try Self.accepts("idn-hostname", text) == valid, "\(text.debugDescription)")
    }
}
