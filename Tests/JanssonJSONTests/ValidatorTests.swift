import Foundation
import JanssonJSON
import Testing

@Suite struct ValidatorTests {
    let schema = try! JSONSchema(
        JSONValue.parse(
            #"""
            {
              "type": "object",
              "properties": {
                "name": {"type": "string", "minLength": 1},
                "month": {"type": "string", "format": "date"},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}}
              },
              "required": ["name"],
              "additionalProperties": false,
              "$defs": {"tag": {"enum": ["a", "b"]}}
            }
            """#), options: SchemaOptions(assertFormats: true))

    @Test func reportsEveryErrorWithPathsAndKeywords() throws {
        let errors = schema.validate(try JSONValue.parse(#"{"month": "2026-02-30", "tags": ["a", "c"], "extra": 1}"#))
        let summary = Set(errors.map { "\($0.instancePath) \($0.keywordLocation) \($0.keyword)" })
        #expect(
            summary == [
                "/month /properties/month/format format", "/tags/1 /properties/tags/items/$ref/enum enum",
                "/extra /additionalProperties additionalProperties", " /required required",
            ])
        #expect(errors.allSatisfy { !$0.message.isEmpty })
        #expect(errors.first { $0.keyword == "required" }?.message == "required member 'name' is missing")
        #expect(schema.isValid(try JSONValue.parse(#"{"name": "x", "month": "2028-02-29", "tags": ["b"]}"#)))
    }

    @Test func formatsAnnotateUnlessAsserted() throws {
        let lenient = try JSONSchema(JSONValue.parse(#"{"format": "date"}"#))
        #expect(lenient.isValid("2026-13-01"))
        let strict = try JSONSchema(
            JSONValue.parse(#"{"format": "date"}"#), options: SchemaOptions(assertFormats: true))
        #expect(!strict.isValid("2026-13-01"))
    }

    @Test func badSchemasAreRefusedWithTheirLocation() {
        let error = #expect(throws: SchemaError.self) {
            try JSONSchema(JSONValue.parse(#"{"properties": {"a": {"minLength": -1}}}"#))
        }
        #expect(error?.location.hasSuffix("#/properties/a/minLength") == true)
        #expect(throws: SchemaError.self) { try JSONSchema(JSONValue.parse(#"{"$ref": "other.json"}"#)) }
        #expect(throws: SchemaError.self) { try JSONSchema(JSONValue.parse(#"{"pattern": "("}"#)) }
    }

    @Test func refsAcrossARegistry() throws {
        var registry = SchemaRegistry()
        registry.add(
            try JSONValue.parse(#"{"$defs": {"id": {"type": "string", "pattern": "^T[0-9]+$"}}}"#),
            uri: "https://example.com/entities.json")
        let schema = try JSONSchema(
            JSONValue.parse(
                #"{"$id": "https://example.com/params.json", "properties": {"tenantId": {"$ref": "entities.json#/$defs/id"}}}"#
            ),
            registry: registry)
        #expect(schema.isValid(["tenantId": "T12"]))
        #expect(schema.validate(["tenantId": "X"]).map(\.keywordLocation) == ["/properties/tenantId/$ref/pattern"])
    }
}
