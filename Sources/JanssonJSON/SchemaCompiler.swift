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

    private func fill(_ node: SchemaNode, _ value: JSONValue, base: String, pointer: String) throws(SchemaError)
        -> SchemaNode
    {
        nodes[base + "#" + pointer] = node
        if node.isResourceRoot { resources[base] = value }
        if let anchor = value["$anchor"]?.stringValue { nodes[base + "#" + anchor] = node }
        if let anchor = value["$dynamicAnchor"]?.stringValue {
            nodes[base + "#" + anchor] = node
            dynamicAnchors[base + "#" + anchor] = node
            node.dynamicAnchor = anchor
        }
        func sub(_ key: String, _ v: JSONValue, _ more: String...) throws(SchemaError) -> SchemaNode {
            try compile(
                v, base: base, pointer: pointer + "/" + ([key] + more).map(JSONPointer.escape).joined(separator: "/"))
        }
        func int(_ key: String, _ v: JSONValue) throws(SchemaError) -> Int {
            guard let i = v.intValue, i >= 0 else {
                throw fail(base, pointer + "/" + key, "must be a non-negative integer")
            }
            return Int(i)
        }
        func schemaList(_ key: String, _ v: JSONValue) throws(SchemaError) -> [SchemaNode] {
            guard v.kind == .array, v.count > 0 || key == "prefixItems" else {
                throw fail(base, pointer + "/" + key, "must be a non-empty array of schemas")
            }
            var list: [SchemaNode] = []
            for (i, element) in v.elements.enumerated() { list.append(try sub(key, element, String(i))) }
            return list
        }
        func schemaMap(_ key: String, _ v: JSONValue) throws(SchemaError) -> [(String, SchemaNode)] {
            guard v.kind == .object else { throw fail(base, pointer + "/" + key, "must be an object of schemas") }
            var map: [(String, SchemaNode)] = []
            for (name, element) in v.members { map.append((name, try sub(key, element, name))) }
            return map
        }
        func regex(_ key: String, _ pattern: String) throws(SchemaError) -> NSRegularExpression {
            do {
                return try NSRegularExpression(pattern: ecmaToICU(pattern))
            } catch {
                throw fail(base, pointer + "/" + key, "'\(pattern)' is not a valid regular expression")
            }
        }

        var keywords: [Keyword] = []
        var late: [Keyword] = []
        var minContains = 1
        var maxContains: Int?
        if let v = value["minContains"] { minContains = try int("minContains", v) }
        if let v = value["maxContains"] { maxContains = try int("maxContains", v) }
        var conditionIf: SchemaNode?
        var conditionThen: SchemaNode?
        var conditionElse: SchemaNode?

        for (key, v) in value.members {
            if validationVocabularyOff && Self.validationKeywords.contains(key) { continue }
            switch key {
            case "type":
                let names = v.kind == .array ? v.elements.compactMap(\.stringValue) : [v.stringValue].compactMap { $0 }
                let known = ["null", "boolean", "object", "array", "number", "integer", "string"]
                guard !names.isEmpty, names.allSatisfy(known.contains) else {
                    throw fail(base, pointer + "/type", "must name JSON types (\(known.joined(separator: ", ")))")
                }
                keywords.append(.type(names))
            case "enum":
                guard v.kind == .array else { throw fail(base, pointer + "/enum", "must be an array") }
                keywords.append(.enumeration(v.elements))
            case "const": keywords.append(.const(v))
            case "properties": keywords.append(.properties(try schemaMap(key, v)))
            case "patternProperties":
                var list: [(String, NSRegularExpression, SchemaNode)] = []
                for (p, s) in try schemaMap(key, v) { list.append((p, try regex(key, p), s)) }
                keywords.append(.patternProperties(list))
            case "additionalProperties":
                let known = Set((value["properties"]?.keys) ?? [])
                var patterns: [NSRegularExpression] = []
                for p in value["patternProperties"]?.keys ?? [] { patterns.append(try regex("patternProperties", p)) }
                late.append(.additionalProperties(try sub(key, v), known: known, patterns: patterns))
            case "required":
                guard v.kind == .array, v.elements.allSatisfy({ $0.kind == .string }) else {
                    throw fail(base, pointer + "/required", "must be an array of strings")
                }
                keywords.append(.required(v.elements.compactMap(\.stringValue)))
            case "propertyNames": keywords.append(.propertyNames(try sub(key, v)))
            case "minProperties": keywords.append(.minProperties(try int(key, v)))
            case "maxProperties": keywords.append(.maxProperties(try int(key, v)))
            case "dependentRequired":
                guard v.kind == .object else { throw fail(base, pointer + "/" + key, "must be an object") }
                keywords.append(
                    .dependentRequired(v.members.map { ($0.key, $0.value.elements.compactMap(\.stringValue)) }))
            case "dependentSchemas": keywords.append(.dependentSchemas(try schemaMap(key, v)))
            case "prefixItems": keywords.append(.prefixItems(try schemaList(key, v)))
            case "items": late.append(.items(try sub(key, v)))
            case "contains": keywords.append(.contains(try sub(key, v), min: minContains, max: maxContains))
            case "minItems": keywords.append(.minItems(try int(key, v)))
            case "maxItems": keywords.append(.maxItems(try int(key, v)))
            case "uniqueItems": if v.boolValue == true { keywords.append(.uniqueItems) }
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf":
                guard v.kind == .integer || v.kind == .real else {
                    throw fail(base, pointer + "/" + key, "must be a number")
                }
                switch key {
                case "minimum": keywords.append(.minimum(v))
                case "maximum": keywords.append(.maximum(v))
                case "exclusiveMinimum": keywords.append(.exclusiveMinimum(v))
                case "exclusiveMaximum": keywords.append(.exclusiveMaximum(v))
                default:
                    guard (v.doubleValue ?? 0) > 0 else {
                        throw fail(base, pointer + "/multipleOf", "must be greater than 0")
                    }
                    keywords.append(.multipleOf(v))
                }
            case "minLength": keywords.append(.minLength(try int(key, v)))
            case "maxLength": keywords.append(.maxLength(try int(key, v)))
            case "pattern":
                guard let p = v.stringValue else { throw fail(base, pointer + "/pattern", "must be a string") }
                if let excluded = excludedScalars(p) {
                    keywords.append(.excludedScalars(p, excluded))
                } else {
                    keywords.append(.pattern(p, try regex(key, p)))
                }
            case "allOf": keywords.append(.allOf(try schemaList(key, v)))
            case "anyOf": keywords.append(.anyOf(try schemaList(key, v)))
            case "oneOf": keywords.append(.oneOf(try schemaList(key, v)))
            case "not": keywords.append(.not(try sub(key, v)))
            case "if": conditionIf = try sub(key, v)
            case "then": conditionThen = try sub(key, v)
            case "else": conditionElse = try sub(key, v)
            case "$ref", "$dynamicRef":
                guard let text = v.stringValue else { throw fail(base, pointer + "/" + key, "must be a string") }
                let resolved = URIReference(base).resolving(URIReference(text)).text
                let target = RefTarget(uri: resolved)
                refs.append((target, base))
                if key == "$ref" {
                    keywords.append(.ref(target))
                } else {
                    let fragment = URIReference(text).fragment
                    let anchor = fragment.flatMap { $0.isEmpty || $0.hasPrefix("/") ? nil : $0 }
                    keywords.append(.dynamicRef(target, anchor: anchor))
                }
            case "$defs":
                _ = try schemaMap(key, v)
            case "unevaluatedProperties":
                usesUnevaluated = true
                late.append(.unevaluatedProperties(try sub(key, v)))
            case "unevaluatedItems":
                usesUnevaluated = true
                late.append(.unevaluatedItems(try sub(key, v)))
            case "format": if let f = v.stringValue { keywords.append(.format(f)) }
            default:
                continue
            }
        }
        if let conditionIf {
            keywords.append(.conditional(if: conditionIf, then: conditionThen, else: conditionElse))
        }
        // additionalProperties and items depend on properties/prefixItems; unevaluated* on everything.
        late.sort { rank($0) < rank($1) }
        node.keywords = keywords + late
        return node
    }

    private func rank(_ k: Keyword) -> Int {
        switch k {
        case .unevaluatedProperties, .unevaluatedItems: 1
        default: 0
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
