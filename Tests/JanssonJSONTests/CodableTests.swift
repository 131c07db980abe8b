import Foundation
import JanssonJSON
import Testing

@Suite struct CodableTests {
    struct Address: Codable, Equatable {
        var street: String
        var country: String
    }

    struct Tenant: Codable, Equatable {
        enum Source: String, Codable { case portal, crm }
        var id: String
        var version: Int
        var balance: Int64
        var ratio: Double
        var active: Bool
        var address: Address
        var tags: [String]
        var note: String?
        var source: Source
        var createdAt: Date
        var extra: [String: Int]
    }

    let sample = Tenant(
        id: "T1", version: 3, balance: Int64.max, ratio: 0.25, active: true,
        address: Address(street: "Bahnhofstrasse 1", country: "CH"), tags: ["a", "b"], note: nil, source: .crm,
        createdAt: Date(timeIntervalSince1970: 1_795_000_000), extra: ["x": 1])

    @Test func roundTripsAndWritesNullForNil() throws {
        let json = try JSONValueEncoder().encode(sample)
        #expect(json["note"]?.isNull == true, "absent values are null")
        #expect(json["createdAt"]?.stringValue == "2026-11-18T11:06:40Z")
        #expect(json["balance"]?.intValue == Int64.max)
        #expect(try JSONValueDecoder().decode(Tenant.self, from: json) == sample)
        let text = json.text()
        #expect(try JSONValueDecoder().decode(Tenant.self, from: JSONValue.parse(text)) == sample)
    }

    @Test func integersAcceptIntegralReals() throws {
        let json = try JSONValueEncoder().encode(sample).setting("version", to: 3.0)
        #expect(try JSONValueDecoder().decode(Tenant.self, from: json).version == 3)
    }

    @Test(arguments: [
        ("version", JSONValue("three"), "/version"),
        ("address", JSONValue.object([("street", 1), ("country", "CH")]), "/address/street"),
        ("tags", JSONValue.array(["a", 2]), "/tags/1"),
        ("source", JSONValue("fax"), "/source"),
        ("createdAt", JSONValue("yesterday"), "/createdAt"),
        ("version", JSONValue(1.5), "/version"),
    ])
    func decodingErrorsCarryThePointer(key: String, value: JSONValue, pointer: String) throws {
        let json = try JSONValueEncoder().encode(sample).setting(key, to: value)
        let error = #expect(throws: JSONDecodingError.self) { try JSONValueDecoder().decode(Tenant.self, from: json) }
        #expect(error?.pointer == pointer)
    }

    @Test func missingMemberIsNamed() throws {
        let json = JSONValue.object(
            try JSONValueEncoder().encode(sample).members.filter { $0.key != "id" }.map { ($0.key, $0.value) })
        let error = #expect(throws: JSONDecodingError.self) { try JSONValueDecoder().decode(Tenant.self, from: json) }
        #expect(error?.pointer == "/id")
        #expect(error?.message.contains("missing") == true)
    }
}
