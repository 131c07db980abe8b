internal import CJansson
import Foundation

/// One reason an instance does not match a schema: a value a validation reports, not an `Error`
/// that is thrown (the schema being invalid is ``SchemaError``).
public struct SchemaViolation: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// JSON pointer of the failing value in the instance (`""` is the root).
    public var instancePath: String
    /// JSON pointer of the failing keyword in the schema, along the evaluation path (through `$ref`).
    public var keywordLocation: String
    /// The keyword that failed (`type`, `required`, …).
    public var keyword: String
    /// What is wrong, in words.
    public var message: String

    public var description: String { "\(instancePath.isEmpty ? "/" : instancePath): \(message) [\(keywordLocation)]" }
}

/// The outcome of ``JSONSchema/validate(_:keepingAtMost:)``.
public struct ValidationReport: Sendable, Equatable {
    /// The first errors, in the order found (at most the limit asked for).
    public var errors: [SchemaViolation]
    /// How many errors were found in all (at least `errors.count`).
    public var total: Int
    /// Whether the instance is valid.
    public var isValid: Bool { total == 0 }
}

/// A schema could not be compiled.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the schema (URI with JSON pointer fragment).
    public var location: String
    public var message: String
    public var description: String { "\(location): \(message)" }
}

/// Schema documents by URI, for `$ref` across files (our own schema files, test remotes).
public struct SchemaRegistry: Sendable {
    var documents: [String: JSONValue] = [:]

    public init() {}

    /// Adds a schema document under a URI (its `$id`, if any, is registered as well).
    public mutating func add(_ document: JSONValue, uri: String) {
        documents[URIReference(uri).withoutFragment.text] = document
    }
}

/// Options for validation.
public struct SchemaOptions: Sendable, Equatable {
    /// Treat `format` as an assertion (date, date-time, time, email, hostname, ipv4, ipv6, uuid);
    /// by default, as in draft 2020-12, `format` only annotates.
    public var assertFormats = false

    public init(assertFormats: Bool = false) { self.assertFormats = assertFormats }
}

/// A compiled JSON Schema (draft 2020-12) that validates instances and reports every error.
///
/// Compile once, validate many times, from any thread: the compiled form is immutable.
public struct JSONSchema: @unchecked Sendable {
    let root: SchemaNode
    /// Owns every node of the compiled schema (see `RefTarget.node`).
    let arena: [SchemaNode]
    let options: SchemaOptions
    /// Resources by URI and their dynamic anchors, for `$dynamicRef`.
    let dynamicAnchors: [String: SchemaNode]
    /// Whether any reachable schema uses unevaluatedProperties/unevaluatedItems.
    let collectsAnnotations: Bool

    /// The base URI of schemas without `$id`.
    public static let defaultBaseURI = "urn:tenant-services:schema"

    /// Compiles a schema; `$ref`s to other documents are looked up in the registry.
    public init(
        _ schema: JSONValue, registry: SchemaRegistry = SchemaRegistry(), options: SchemaOptions = SchemaOptions()
    )
        throws(SchemaError)
    {
        try self.init(registry: registry, options: options) { compiler throws(SchemaError) in
            try compiler.compileDocument(schema, uri: Self.defaultBaseURI)
        }
    }

    /// Compiles the schema a registry holds under a URI.
    public init(uri: String, registry: SchemaRegistry, options: SchemaOptions = SchemaOptions()) throws(SchemaError) {
        try self.init(registry: registry, options: options) { compiler throws(SchemaError) in
            try compiler.resolve(uri, from: Self.defaultBaseURI)
        }
    }

    private init(
        registry: SchemaRegistry, options: SchemaOptions, root: (SchemaCompiler) throws(SchemaError) -> SchemaNode
    ) throws(SchemaError) {
        let compiler = SchemaCompiler(registry: registry)
        self.root = try root(compiler)
        try compiler.link()
        dynamicAnchors = compiler.dynamicAnchors
        arena = compiler.arena
        collectsAnnotations = compiler.usesUnevaluated
        self.options = options
    }

    /// Every error of the instance; empty when it is valid.
    public func validate(_ instance: JSONValue) -> [SchemaViolation] {
        validate(instance, keepingAtMost: .max).errors
    }

    /// The first `limit` errors of the instance in full, and how many there are in all. Errors
    /// past the limit are counted without building their messages, so an instance with very
    /// many errors costs little more than walking it.
    public func validate(_ instance: JSONValue, keepingAtMost limit: Int) -> ValidationReport {
        // A valid instance has no errors: the verdict alone (no paths, no messages) says so.
        if isValid(instance) { return ValidationReport(errors: [], total: 0) }
        return report(instance, keepingAtMost: limit)
    }

    /// One pass that keeps the first `limit` errors, whatever the instance.
    func report(_ instance: JSONValue, keepingAtMost limit: Int) -> ValidationReport {
        var sink: ErrorSink? = ErrorSink(limit: limit)
        withExtendedLifetime(instance) {
            var evaluator = Evaluator(options: options, dynamicAnchors: dynamicAnchors, collect: collectsAnnotations)
            _ = evaluator.evaluate(root, instance.raw, errors: &sink)
        }
        return ValidationReport(errors: sink!.errors, total: sink!.total)
    }

    /// Whether the instance is valid (faster than ``validate(_:)``: no messages are built).
    public func isValid(_ instance: JSONValue) -> Bool {
        var errors: ErrorSink? = nil
        return withExtendedLifetime(instance) {
            var evaluator = Evaluator(options: options, dynamicAnchors: dynamicAnchors, collect: collectsAnnotations)
            return evaluator.evaluate(root, instance.raw, errors: &errors) != nil
        }
    }
}

/// A compiled (sub)schema.
final class SchemaNode {
    var alwaysValid: Bool?
    var keywords: [Keyword] = []
    /// URI of the resource this node belongs to.
    let resource: String
    /// Whether this node starts a resource (`$id` or document root).
    var isResourceRoot = false
    var dynamicAnchor: String?

    init(resource: String) { self.resource = resource }
}

/// A `$ref` or `$dynamicRef` target, resolved after compilation.
final class RefTarget {
    let uri: String
    /// Unowned: the compiled schema's arena keeps every node alive; a strong link would make
    /// recursive schemas reference cycles.
    unowned var node: SchemaNode?
    init(uri: String) { self.uri = uri }
}

enum Keyword {
    case type([String])
    case enumeration([JSONValue])
    case const(JSONValue)
    case properties([(String, SchemaNode)])
    case patternProperties([(String, SchemaPattern, SchemaNode)])
    case additionalProperties(SchemaNode, known: Set<String>, patterns: [SchemaPattern])
    case required([String])
    case propertyNames(SchemaNode)
    case minProperties(Int), maxProperties(Int)
    case dependentRequired([(String, [String])])
    case dependentSchemas([(String, SchemaNode)])
    case prefixItems([SchemaNode])
    case items(SchemaNode)
    case contains(SchemaNode, min: Int, max: Int?)
    case minItems(Int), maxItems(Int)
    case uniqueItems
    case minimum(JSONValue), maximum(JSONValue), exclusiveMinimum(JSONValue), exclusiveMaximum(JSONValue)
    case multipleOf(JSONValue)
    case minLength(Int), maxLength(Int)
    case pattern(String, SchemaPattern)
    /// A `pattern` of the form `^[^…]*$` over code point ranges, checked without a regex.
    case excludedScalars(String, [ClosedRange<UInt32>])
    case allOf([SchemaNode]), anyOf([SchemaNode]), oneOf([SchemaNode])
    case not(SchemaNode)
    case conditional(if: SchemaNode, then: SchemaNode?, else: SchemaNode?)
    case ref(RefTarget)
    case dynamicRef(RefTarget, anchor: String?)
    case unevaluatedProperties(SchemaNode)
    case unevaluatedItems(SchemaNode)
    case format(String)

    var name: String {
        switch self {
        case .type: "type"
        case .enumeration: "enum"
        case .const: "const"
        case .properties: "properties"
        case .patternProperties: "patternProperties"
        case .additionalProperties: "additionalProperties"
        case .required: "required"
        case .propertyNames: "propertyNames"
        case .minProperties: "minProperties"
        case .maxProperties: "maxProperties"
        case .dependentRequired: "dependentRequired"
        case .dependentSchemas: "dependentSchemas"
        case .prefixItems: "prefixItems"
        case .items: "items"
        case .contains: "contains"
        case .minItems: "minItems"
        case .maxItems: "maxItems"
        case .uniqueItems: "uniqueItems"
        case .minimum: "minimum"
        case .maximum: "maximum"
        case .exclusiveMinimum: "exclusiveMinimum"
        case .exclusiveMaximum: "exclusiveMaximum"
        case .multipleOf: "multipleOf"
        case .minLength: "minLength"
        case .maxLength: "maxLength"
        case .pattern, .excludedScalars: "pattern"
        case .allOf: "allOf"
        case .anyOf: "anyOf"
        case .oneOf: "oneOf"
        case .not: "not"
        case .conditional: "if"
        case .ref: "$ref"
        case .dynamicRef: "$dynamicRef"
        case .unevaluatedProperties: "unevaluatedProperties"
        case .unevaluatedItems: "unevaluatedItems"
        case .format: "format"
        }
    }
}
