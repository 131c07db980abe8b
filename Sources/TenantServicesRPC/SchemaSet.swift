public import Foundation
public import JanssonJSON

/// The JSON Schemas of the interface (`Schemas/`): one params and one result schema per method,
/// shared entity schemas, and the 2020-12 meta-schemas, registered under their `$id`s.
public struct SchemaSet: Sendable {
    /// Documents by path relative to `Schemas/` (`methods/tenant.get.params.json`).
    public let files: [String: JSONValue]
    /// Every document, by `$id`, for `$ref`s across files.
    public let registry: SchemaRegistry

    /// The base URI of our schema `$id`s.
    public static let baseURI = "https://tenant-services.dev/schemas/"

    /// Whether this is the embedded set (whose compiled params schemas are cached).
    let isEmbedded: Bool

    /// The schemas embedded into this library at build time.
    public static let embedded: SchemaSet = {
        var files: [String: JSONValue] = [:]
        for (path, base64) in EmbeddedSchemas.files {
            do {
                files[path] = try JSONValue.parse(Data(base64Encoded: base64)!)
            } catch {
                fatalError("embedded schema \(path) is not valid JSON: \(error)")
            }
        }
        return SchemaSet(files: files, isEmbedded: true)
    }()

    /// The embedded params schemas, compiled once per process.
    private static let compiledEmbeddedParams: [String: JSONSchema] = {
        var compiled: [String: JSONSchema] = [:]
        for method in embedded.methodNames {
            do {
                compiled[method] = try JSONSchema(
                    uri: baseURI + "methods/\(method).params.json", registry: embedded.registry,
                    options: SchemaOptions(assertFormats: true))
            } catch {
                fatalError("embedded params schema of \(method) does not compile: \(error)")
            }
        }
        return compiled
    }()

    /// Loads the schemas of a `Schemas/` directory (to verify them before they are embedded).
    public init(directory: URL) throws {
        var files: [String: JSONValue] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: directory.path) where path.hasSuffix(".json") {
            let data = try Data(contentsOf: directory.appendingPathComponent(path))
            do {
                files[path] = try JSONValue.parse(data, options: JSONParseOptions(rejectDuplicateKeys: true))
            } catch {
                throw SchemaFileError(path: path, message: "\(error)")
            }
        }
        self.init(files: files, isEmbedded: false)
    }

    init(files: [String: JSONValue], isEmbedded: Bool) {
        self.files = files
        self.isEmbedded = isEmbedded
        var registry = SchemaRegistry()
        for (path, document) in files where path != "openrpc.json" {
            registry.add(document, uri: document["$id"]?.stringValue ?? Self.baseURI + path)
        }
        self.registry = registry
    }

    /// Method names that have a params schema, sorted.
    public var methodNames: [String] {
        files.keys.compactMap { path -> String? in
            guard path.hasPrefix("methods/"), path.hasSuffix(".params.json") else { return nil }
            return String(path.dropFirst("methods/".count).dropLast(".params.json".count))
        }.sorted()
    }

    /// The compiled params schema of a method (formats asserted).
    public func paramsSchema(for method: String) throws(SchemaError) -> JSONSchema {
        if isEmbedded, let cached = Self.compiledEmbeddedParams[method] { return cached }
        return try JSONSchema(
            uri: Self.baseURI + "methods/\(method).params.json", registry: registry,
            options: SchemaOptions(assertFormats: true))
    }

    /// The schema of catalog files.
    public func catalogSchema() throws(SchemaError) -> JSONSchema {
        try JSONSchema(uri: Self.baseURI + "catalog.schema.json", registry: registry)
    }

    /// The schema of one file of the file store: `journal-line.json` or `snapshot.json`.
    public func storeSchema(_ name: String) throws(SchemaError) -> JSONSchema {
        try JSONSchema(uri: Self.baseURI + "store/\(name)", registry: registry)
    }

    /// The compiled result schema of a method (formats asserted).
    public func resultSchema(for method: String) throws(SchemaError) -> JSONSchema {
        try JSONSchema(
            uri: Self.baseURI + "methods/\(method).result.json", registry: registry,
            options: SchemaOptions(assertFormats: true))
    }
}

/// A schema file could not be read.
public struct SchemaFileError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
