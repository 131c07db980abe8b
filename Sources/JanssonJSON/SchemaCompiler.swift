import Foundation

/// Compiles schema documents into `SchemaNode` graphs and resolves references.
final class SchemaCompiler {
    let registry: SchemaRegistry
    /// Compiled nodes by "resource#fragment" (JSON pointer or anchor).
    var nodes: [String: SchemaNode] = [:]
    /// Raw resource values by resource URI, for pointers into places that are not known subschemas.
    var resources: [String: JSONValue] = [:]
    var dynamicAnchors: [String: SchemaNode] = [:]
    var refs: [(RefTarget, base: String)] = []
    var compiledDocuments: Set<String> = []
    var usesUnevaluated = false
    /// Every node created: the compiled schema owns them all, so `$ref` links (which may form
    /// cycles) can be unowned and nothing leaks.
    var arena: [SchemaNode] = []

    func makeNode(resource: String) -> SchemaNode {
        let node = SchemaNode(resource: resource)
        arena.append(node)
        return node
    }

    init(registry: SchemaRegistry) { self.registry = registry }

    /// Whether the validation vocabulary is off for the document being compiled (its meta-schema lacks it).
    var validationVocabularyOff = false

    static let validationKeywords: Set<String> = [
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired",
    ]

    func compileDocument(_ value: JSONValue, uri: String) throws(SchemaError) -> SchemaNode {
        let base = URIReference(uri).withoutFragment.text
        compiledDocuments.insert(base)
        let outer = validationVocabularyOff
        defer { validationVocabularyOff = outer }
        validationVocabularyOff = false
        if let meta = value["$schema"]?.stringValue,
            let document = registry.documents[URIReference(meta).withoutFragment.text],
            let vocabularies = document["$vocabulary"], vocabularies.kind == .object
        {
            validationVocabularyOff = vocabularies["https://json-schema.org/draft/2020-12/vocab/validation"] == nil
        }
        return try compile(value, base: base, pointer: "", resourceRoot: true)
    }

    private func fail(_ base: String, _ pointer: String, _ message: String) -> SchemaError {
        SchemaError(location: base + "#" + pointer, message: message)
    }

    func compile(_ value: JSONValue, base: String, pointer: String, resourceRoot: Bool = false) throws(SchemaError)
        -> SchemaNode
    {
        if value.kind == .object, let id = value["$id"]?.stringValue {
            let resolved = URIReference(base).resolving(URIReference(id))
            if let fragment = resolved.fragment, !fragment.isEmpty {
                throw fail(base, pointer, "$id must not contain a fragment ('\(id)')")
            }
            // A new resource: reachable by its own URI and by its place in the enclosing resource.
            let node = makeNode(resource: resolved.withoutFragment.text)
            node.isResourceRoot = true
            nodes[base + "#" + pointer] = node
            return try fill(node, value, base: node.resource, pointer: "")
        }
        let node = makeNode(resource: base)
        node.isResourceRoot = resourceRoot
        switch value.kind {
        case .bool:
            node.alwaysValid = value.boolValue!
            nodes[base + "#" + pointer] = node
            if resourceRoot { resources[base] = value }
            return node
        case .object:
            return try fill(node, value, base: base, pointer: pointer)
        default:
            throw fail(base, pointer, "a schema must be an object or a boolean")
        }
    }

    /// Compiles the members of a schema object into `node`'s keywords, in member order (those
    /// that depend on others later).
    private func fill(_ node: SchemaNode, _ value: JSONValue, base: String, pointer: String) throws(SchemaError)
        -> SchemaNode
    {
        register(node, value, base: base, pointer: pointer)
        let site = SchemaSite(compiler: self, base: base, pointer: pointer)
        var list = KeywordList()
        if let v = value["minContains"] { list.minContains = try site.int("minContains", v) }
        if let v = value["maxContains"] { list.maxContains = try site.int("maxContains", v) }
        for (key, v) in value.members {
            if validationVocabularyOff && Self.validationKeywords.contains(key) { continue }
            switch key {
            case "type", "enum", "const", "format":
                try valueKeyword(key, v, site, into: &list)
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
                try numberKeyword(key, v, site, into: &list)
            case "minLength", "maxLength", "pattern":
                try stringKeyword(key, v, site, into: &list)
            case "prefixItems", "items", "contains", "minItems", "maxItems", "uniqueItems":
                try arrayKeyword(key, v, site, into: &list)
            case "properties", "patternProperties", "additionalProperties", "required", "propertyNames",
                "minProperties", "maxProperties", "dependentRequired", "dependentSchemas":
                try objectKeyword(key, v, of: value, site, into: &list)
            case "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$defs":
                try applicatorKeyword(key, v, site, into: &list)
            case "$ref", "$dynamicRef":
                try referenceKeyword(key, v, site, into: &list)
            case "unevaluatedProperties", "unevaluatedItems":
                try unevaluatedKeyword(key, v, site, into: &list)
            default:
                continue
            }
        }
        node.keywords = list.ordered
        return node
    }

    /// Makes the node reachable by its pointer, its `$anchor` and its `$dynamicAnchor`.
    private func register(_ node: SchemaNode, _ value: JSONValue, base: String, pointer: String) {
        nodes[base + "#" + pointer] = node
        if node.isResourceRoot { resources[base] = value }
        if let anchor = value["$anchor"]?.stringValue { nodes[base + "#" + anchor] = node }
        if let anchor = value["$dynamicAnchor"]?.stringValue {
            nodes[base + "#" + anchor] = node
            dynamicAnchors[base + "#" + anchor] = node
            node.dynamicAnchor = anchor
        }
    }

    /// `type`, `enum`, `const`, `format`.
    private func valueKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        switch key {
        case "type":
            let names = v.kind == .array ? v.elements.compactMap(\.stringValue) : [v.stringValue].compactMap { $0 }
            let known = ["null", "boolean", "object", "array", "number", "integer", "string"]
            guard !names.isEmpty, names.allSatisfy(known.contains) else {
                throw site.fail("type", "must name JSON types (\(known.joined(separator: ", ")))")
            }
            list.keywords.append(.type(names))
        case "enum":
            guard v.kind == .array else { throw site.fail("enum", "must be an array") }
            list.keywords.append(.enumeration(v.elements))
        case "const": list.keywords.append(.const(v))
        case "format": if let f = v.stringValue { list.keywords.append(.format(f)) }
        default: break
        }
    }

    /// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`.
    private func numberKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        guard v.kind == .integer || v.kind == .real else { throw site.fail(key, "must be a number") }
        switch key {
        case "minimum": list.keywords.append(.minimum(v))
        case "maximum": list.keywords.append(.maximum(v))
        case "exclusiveMinimum": list.keywords.append(.exclusiveMinimum(v))
        case "exclusiveMaximum": list.keywords.append(.exclusiveMaximum(v))
        default:
            guard (v.doubleValue ?? 0) > 0 else { throw site.fail("multipleOf", "must be greater than 0") }
            list.keywords.append(.multipleOf(v))
        }
    }

    /// `minLength`, `maxLength`, `pattern` (checked without a regex where it only excludes characters).
    private func stringKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        switch key {
        case "minLength": list.keywords.append(.minLength(try site.int(key, v)))
        case "maxLength": list.keywords.append(.maxLength(try site.int(key, v)))
        case "pattern":
            guard let p = v.stringValue else { throw site.fail("pattern", "must be a string") }
            if let excluded = excludedScalars(p) {
                list.keywords.append(.excludedScalars(p, excluded))
            } else {
                list.keywords.append(.pattern(p, try site.regex(key, p)))
            }
        default: break
        }
    }

    /// `prefixItems`, `items` (after `prefixItems`), `contains` (with `minContains`/`maxContains`),
    /// `minItems`, `maxItems`, `uniqueItems`.
    private func arrayKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        switch key {
        case "prefixItems": list.keywords.append(.prefixItems(try site.schemaList(key, v)))
        case "items": list.late.append(.items(try site.sub(key, v)))
        case "contains":
            list.keywords.append(.contains(try site.sub(key, v), min: list.minContains, max: list.maxContains))
        case "minItems": list.keywords.append(.minItems(try site.int(key, v)))
        case "maxItems": list.keywords.append(.maxItems(try site.int(key, v)))
        case "uniqueItems": if v.boolValue == true { list.keywords.append(.uniqueItems) }
        default: break
        }
    }

    /// `properties`, `patternProperties`, `additionalProperties` (after both), `required`,
    /// `propertyNames`, `minProperties`, `maxProperties`, `dependentRequired`, `dependentSchemas`.
    /// - Parameter schema: the whole schema object (`additionalProperties` excludes the names and
    ///   patterns of its siblings).
    private func objectKeyword(
        _ key: String, _ v: JSONValue, of schema: JSONValue, _ site: SchemaSite, into list: inout KeywordList
    ) throws(SchemaError) {
        switch key {
        case "properties": list.keywords.append(.properties(try site.schemaMap(key, v)))
        case "patternProperties":
            var patterns: [(String, SchemaPattern, SchemaNode)] = []
            for (p, s) in try site.schemaMap(key, v) { patterns.append((p, try site.regex(key, p), s)) }
            list.keywords.append(.patternProperties(patterns))
        case "additionalProperties":
            let known = Set((schema["properties"]?.keys) ?? [])
            var patterns: [SchemaPattern] = []
            for p in schema["patternProperties"]?.keys ?? [] { patterns.append(try site.regex("patternProperties", p)) }
            list.late.append(.additionalProperties(try site.sub(key, v), known: known, patterns: patterns))
        case "required":
            guard v.kind == .array, v.elements.allSatisfy({ $0.kind == .string }) else {
                throw site.fail("required", "must be an array of strings")
            }
            list.keywords.append(.required(v.elements.compactMap(\.stringValue)))
        case "propertyNames": list.keywords.append(.propertyNames(try site.sub(key, v)))
        case "minProperties": list.keywords.append(.minProperties(try site.int(key, v)))
        case "maxProperties": list.keywords.append(.maxProperties(try site.int(key, v)))
        case "dependentRequired":
            guard v.kind == .object else { throw site.fail(key, "must be an object") }
            list.keywords.append(
                .dependentRequired(v.members.map { ($0.key, $0.value.elements.compactMap(\.stringValue)) }))
        case "dependentSchemas": list.keywords.append(.dependentSchemas(try site.schemaMap(key, v)))
        default: break
        }
    }

    /// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else` (one keyword, after the others), and
    /// `$defs` (compiled so that references into it resolve).
    private func applicatorKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        switch key {
        case "allOf": list.keywords.append(.allOf(try site.schemaList(key, v)))
        case "anyOf": list.keywords.append(.anyOf(try site.schemaList(key, v)))
        case "oneOf": list.keywords.append(.oneOf(try site.schemaList(key, v)))
        case "not": list.keywords.append(.not(try site.sub(key, v)))
        case "if": list.conditionIf = try site.sub(key, v)
        case "then": list.conditionThen = try site.sub(key, v)
        case "else": list.conditionElse = try site.sub(key, v)
        case "$defs": _ = try site.schemaMap(key, v)
        default: break
        }
    }

    /// `$ref`, `$dynamicRef`: targets resolved by ``link()`` once every document is compiled.
    private func referenceKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        guard let text = v.stringValue else { throw site.fail(key, "must be a string") }
        let resolved = URIReference(site.base).resolving(URIReference(text)).text
        let target = RefTarget(uri: resolved)
        refs.append((target, site.base))
        if key == "$ref" {
            list.keywords.append(.ref(target))
        } else {
            let fragment = URIReference(text).fragment
            let anchor = fragment.flatMap { $0.isEmpty || $0.hasPrefix("/") ? nil : $0 }
            list.keywords.append(.dynamicRef(target, anchor: anchor))
        }
    }

    /// `unevaluatedProperties`, `unevaluatedItems`: evaluated after every other keyword.
    private func unevaluatedKeyword(_ key: String, _ v: JSONValue, _ site: SchemaSite, into list: inout KeywordList)
        throws(SchemaError)
    {
        usesUnevaluated = true
        if key == "unevaluatedProperties" {
            list.late.append(.unevaluatedProperties(try site.sub(key, v)))
        } else {
            list.late.append(.unevaluatedItems(try site.sub(key, v)))
        }
    }

    /// The node a URI reference names, compiling registry documents or pointer targets on demand.
    func resolve(_ uri: String, from base: String) throws(SchemaError) -> SchemaNode {
        let reference = URIReference(uri)
        let resource = reference.withoutFragment.text
        let fragment = JSONPointer.percentDecode(reference.fragment ?? "")
        if let node = nodes[resource + "#" + fragment] { return node }
        if resources[resource] == nil {
            if let document = registry.documents[resource], !compiledDocuments.contains(resource) {
                _ = try compileDocument(document, uri: resource)
            } else {
                // An embedded $id in a registry document not compiled yet.
                for (uri, document) in registry.documents where !compiledDocuments.contains(uri) {
                    _ = try compileDocument(document, uri: uri)
                }
            }
            if let node = nodes[resource + "#" + fragment] { return node }
        }
        if let value = resources[resource], let tokens = JSONPointer.tokens(fragment),
            let target = JSONPointer.resolve(tokens, in: value)
        {
            return try compile(target, base: resource, pointer: fragment)
        }
        throw SchemaError(location: base, message: "cannot resolve reference '\(uri)'")
    }

    /// Resolves every reference; references found while resolving are resolved too.
    func link() throws(SchemaError) {
        var i = 0
        while i < refs.count {
            let (target, base) = refs[i]
            target.node = try resolve(target.uri, from: base)
            i += 1
        }
    }
}

/// One schema object being compiled: where it stands, and how its members become subschemas
/// and checked values (errors name the member's location).
private struct SchemaSite {
    let compiler: SchemaCompiler
    let base: String
    let pointer: String

    /// A compile error at member `key` of this schema.
    func fail(_ key: String, _ message: String) -> SchemaError {
        SchemaError(location: base + "#" + pointer + "/" + key, message: message)
    }

    /// The subschema at `key` (and further pointer tokens).
    func sub(_ key: String, _ v: JSONValue, _ more: String...) throws(SchemaError) -> SchemaNode {
        try compiler.compile(
            v, base: base, pointer: pointer + "/" + ([key] + more).map(JSONPointer.escape).joined(separator: "/"))
    }

    func int(_ key: String, _ v: JSONValue) throws(SchemaError) -> Int {
        guard let i = v.intValue, i >= 0 else { throw fail(key, "must be a non-negative integer") }
        return Int(i)
    }

    func schemaList(_ key: String, _ v: JSONValue) throws(SchemaError) -> [SchemaNode] {
        guard v.kind == .array, v.count > 0 || key == "prefixItems" else {
            throw fail(key, "must be a non-empty array of schemas")
        }
        var list: [SchemaNode] = []
        for (i, element) in v.elements.enumerated() { list.append(try sub(key, element, String(i))) }
        return list
    }

    func schemaMap(_ key: String, _ v: JSONValue) throws(SchemaError) -> [(String, SchemaNode)] {
        guard v.kind == .object else { throw fail(key, "must be an object of schemas") }
        var map: [(String, SchemaNode)] = []
        for (name, element) in v.members { map.append((name, try sub(key, element, name))) }
        return map
    }

    func regex(_ key: String, _ pattern: String) throws(SchemaError) -> SchemaPattern {
        do {
            return try SchemaPattern(pattern)
        } catch {
            throw fail(key, "'\(pattern)' is not a valid regular expression")
        }
    }
}

/// The keywords of one schema object as they are compiled, and the order they are evaluated in.
private struct KeywordList {
    var keywords: [Keyword] = []
    /// Keywords that depend on others: `additionalProperties` and `items` (on `properties`,
    /// `patternProperties`, `prefixItems`), `unevaluated*` (on everything, so last of all).
    var late: [Keyword] = []
    var minContains = 1
    var maxContains: Int?
    var conditionIf: SchemaNode?
    var conditionThen: SchemaNode?
    var conditionElse: SchemaNode?

    /// The keywords in evaluation order.
    var ordered: [Keyword] {
        var keywords = keywords
        if let conditionIf {
            keywords.append(.conditional(if: conditionIf, then: conditionThen, else: conditionElse))
        }
        return keywords + late.sorted { Self.rank($0) < Self.rank($1) }
    }

    private static func rank(_ k: Keyword) -> Int {
        switch k {
        case .unevaluatedProperties, .unevaluatedItems: 1
        default: 0
        }
    }
}

/// The code point ranges of a pattern that only says "none of these characters":
/// `^[^\uXXXX-\uXXXX…]*$` (ranges or single `\uXXXX`), checked without a regular expression;
/// nil for any other pattern.
func excludedScalars(_ pattern: String) -> [ClosedRange<UInt32>]? {
    guard pattern.hasPrefix("^[^"), pattern.hasSuffix("]*$") else { return nil }
    var rest = Substring(pattern.dropFirst(3).dropLast(3))
    func scalar() -> UInt32? {
        guard rest.hasPrefix("\\u"), rest.count >= 6, let value = UInt32(rest.dropFirst(2).prefix(4), radix: 16),
            rest.dropFirst(2).prefix(4).allSatisfy(\.isHexDigit)
        else { return nil }
        rest = rest.dropFirst(6)
        return value
    }
    var ranges: [ClosedRange<UInt32>] = []
    while !rest.isEmpty {
        guard let low = scalar() else { return nil }
        var high = low
        if rest.hasPrefix("-") {
            rest = rest.dropFirst()
            guard let end = scalar(), end >= low else { return nil }
            high = end
        }
        ranges.append(low...high)
    }
    return ranges.isEmpty ? nil : ranges
}

/// Adapts an ECMA-262 pattern to ICU where they differ in ways schemas use: the shorthand
/// classes are ASCII-only, and `$` (outside a class) matches only at the very end, as in
/// ECMA-262 without the `m` flag, never before a final line terminator as ICU's `$` does.
func ecmaToICU(_ pattern: String) -> String {
    var result = ""
    var escaped = false
    var inClass = false
    for ch in pattern {
        if escaped {
            switch ch {
            case "d": result += "[0-9]"
            case "D": result += "[^0-9]"
            case "w": result += "[a-zA-Z0-9_]"
            case "W": result += "[^a-zA-Z0-9_]"
            default: result += "\\" + String(ch)
            }
            escaped = false
        } else if ch == "\\" {
            escaped = true
        } else if ch == "$" && !inClass {
            result += "\\z"
        } else {
            if ch == "[" { inClass = true }
            if ch == "]" { inClass = false }
            result.append(ch)
        }
    }
    if escaped { result += "\\" }
    return result
}
