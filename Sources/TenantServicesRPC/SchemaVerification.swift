public import Foundation
import JanssonJSON
import TenantServices

/// Checks a `Schemas/` directory: meta-schema validity, a params and a result schema for every
/// method of the server, and that `openrpc.json` is what the schemas generate.
public enum SchemaVerification {
    /// Every method the server can expose (including the `--clock` ones).
    public static var allMethods: [String] {
        TenantServicesMethods.requests.map { $0.method } + TenantServicesMethods.clockMethods + ["rpc.discover"]
    }

    /// The openrpc.json text for a schema set (pretty, with a final newline).
    public static func openRPCText(for schemas: SchemaSet) -> String {
        OpenRPC.document(schemas: schemas, methods: allMethods).text(JSONWriteOptions(pretty: true)) + "\n"
    }

    /// Every problem found; empty when all is well.
    public static func problems(in directory: URL) throws -> [String] {
        let schemas = try SchemaSet(directory: directory)
        var problems: [String] = []
        let meta: JSONSchema
        do {
            meta = try JSONSchema(uri: "https://json-schema.org/draft/2020-12/schema", registry: schemas.registry)
        } catch {
            return ["the 2020-12 meta-schema is missing from meta/: \(error)"]
        }
        for (path, document) in schemas.files.sorted(by: { $0.key < $1.key }) where path != "openrpc.json" {
            for error in meta.validate(document) { problems.append("\(path): not a valid 2020-12 schema: \(error)") }
            if !path.hasPrefix("meta/") {
                do {
                    _ = try JSONSchema(
                        document, registry: schemas.registry, options: SchemaOptions(assertFormats: true))
                } catch {
                    problems.append("\(path): does not compile: \(error)")
                }
            }
        }
        for method in allMethods {
            for kind in ["params", "result"] where schemas.files["methods/\(method).\(kind).json"] == nil {
                problems.append("method \(method) has no \(kind) schema (methods/\(method).\(kind).json)")
            }
        }
        for extra in Set(schemas.methodNames).subtracting(allMethods) {
            problems.append("methods/\(extra).params.json belongs to no method of the server")
        }
        let expected = try JSONValue.parse(openRPCText(for: schemas))
        if schemas.files["openrpc.json"] != expected {
            problems.append(
                "openrpc.json is stale: run `swift run tenant-services schemas write-openrpc`"
            )
        }
        return problems
    }
}
