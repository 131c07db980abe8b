internal import CJansson
import Foundation

/// What a successful evaluation marked as evaluated, for `unevaluatedProperties`/`unevaluatedItems`.
struct Evaluated {
    var properties: Set<String> = []
    var allItems = false
    var items: Set<Int> = []

    mutating func merge(_ other: Evaluated) {
        properties.formUnion(other.properties)
        allItems = allItems || other.allItems
        items.formUnion(other.items)
    }
}

/// Walks a compiled schema over a jansson instance.
struct Evaluator {
    let options: SchemaOptions
    let dynamicAnchors: [String: SchemaNode]
    /// Resources entered, outermost first (the dynamic scope).
    var scope: [String] = []
    var depth = 0
    /// Whether annotations must be collected (the schema uses unevaluated*).
    let collect: Bool
    /// The instance location and the evaluation path, as JSON pointer tokens; joined only for errors.
    var instanceTokens: [String] = []
    var keywordTokens: [String] = []

    var instancePath: String { instanceTokens.map { "/" + JSONPointer.escape($0) }.joined() }
    func keywordPath(_ last: String...) -> String {
        (keywordTokens + last).map { "/" + JSONPointer.escape($0) }.joined()
    }

    /// Evaluates a child value under a keyword path, restoring the paths afterwards.
    mutating func descend(
        _ node: SchemaNode, _ instance: UnsafeMutablePointer<json_t>, instanceToken: String?, keyword: [String],
        errors: inout [ValidationError]?
    ) -> Evaluated? {
        if let instanceToken { instanceTokens.append(instanceToken) }
        keywordTokens += keyword
        defer {
            if instanceToken != nil { instanceTokens.removeLast() }
            keywordTokens.removeLast(keyword.count)
        }
        return evaluate(node, instance, errors: &errors)
    }

    init(options: SchemaOptions, dynamicAnchors: [String: SchemaNode], collect: Bool) {
        self.options = options
        self.dynamicAnchors = dynamicAnchors
        self.collect = collect
    }

    /// Evaluates a node; returns what it evaluated when valid, nil (with errors appended) when not.
    /// - Parameter errors: where to append errors; nil when only the verdict matters (no messages are built).
    mutating func evaluate(
        _ node: SchemaNode, _ instance: UnsafeMutablePointer<json_t>, errors: inout [ValidationError]?
    )
        -> Evaluated?
    {
        if let always = node.alwaysValid {
            if always { return Evaluated() }
            errors?.append(
                ValidationError(
                    instancePath: instancePath, keywordLocation: keywordPath(), keyword: "false",
                    message: "no value is allowed here"))
            return nil
        }
        depth += 1
        defer { depth -= 1 }
        guard depth < 400 else {
            errors?.append(
                ValidationError(
                    instancePath: instancePath, keywordLocation: keywordPath(), keyword: "$ref",
                    message: "the schema recurses without end at this value"))
            return nil
        }
        let entered = scope.last != node.resource
        if entered { scope.append(node.resource) }
        defer { if entered { scope.removeLast() } }

        var evaluated = Evaluated()
        var valid = true
        let kind = JSONValue.kind(of: instance)
        func fail(_ keyword: String, _ message: @autoclosure () -> String, at member: String? = nil) {
            valid = false
            guard errors != nil else { return }
            let message = message()
            let path = instancePath + (member.map { "/" + JSONPointer.escape($0) } ?? "")
            errors?.append(
                ValidationError(
                    instancePath: path, keywordLocation: keywordPath(keyword), keyword: keyword, message: message))
        }

        for keyword in node.keywords {
            let here = keyword.name
            switch keyword {
            case .type(let names):
                if !names.contains(where: { Self.matches(type: $0, instance, kind) }) {
                    fail("type", "must be \(names.map(article).joined(separator: " or ")), not \(describe(kind))")
                }
            case .enumeration(let values):
                if !values.contains(where: { JSONValue.equal($0.raw, instance) }) {
                    let shown = values.prefix(8).map(\.description).joined(separator: ", ")
                    fail("enum", "must be one of \(shown)\(values.count > 8 ? ", …" : "")")
                }
            case .const(let value):
                if !JSONValue.equal(value.raw, instance) { fail("const", "must be \(value.description)") }
            case .properties(let properties):
                guard kind == .object else { continue }
                for (name, sub) in properties {
                    guard let member = JSONValue.member(of: instance, name) else { continue }
                    if descend(sub, member, instanceToken: name, keyword: [here, name], errors: &errors) == nil {
                        valid = false
                    }
                    if collect { evaluated.properties.insert(name) }
                }
            case .patternProperties(let patterns):
                guard kind == .object else { continue }
                JSONValue.forEachMember(of: instance) { name, member in
                    for (pattern, regex, sub) in patterns where Self.search(regex, name) {
                        if descend(sub, member, instanceToken: name, keyword: [here, pattern], errors: &errors) == nil {
                            valid = false
                        }
                        if collect { evaluated.properties.insert(name) }
                    }
                }
            case .additionalProperties(let sub, let known, let patterns):
                guard kind == .object else { continue }
                JSONValue.forEachMember(of: instance) { name, member in
                    guard !known.contains(name), !patterns.contains(where: { Self.search($0, name) }) else { return }
                    let pathToken = name
                    if sub.alwaysValid == false {
                        fail("additionalProperties", "member '\(name)' is not allowed here", at: pathToken)
                    } else if descend(sub, member, instanceToken: pathToken, keyword: [here], errors: &errors) == nil {
                        valid = false
                    }
                    if collect { evaluated.properties.insert(name) }
                }
            case .required(let names):
                guard kind == .object else { continue }
                for name in names where JSONValue.member(of: instance, name) == nil {
                    fail("required", "required member '\(name)' is missing")
                }
            case .propertyNames(let sub):
                guard kind == .object else { continue }
                JSONValue.forEachMember(of: instance) { name, _ in
                    let key = JSONValue(name)
                    var inner: [ValidationError]? = errors == nil ? nil : []
                    if descend(sub, key.raw, instanceToken: nil, keyword: [here], errors: &inner) == nil {
                        fail(
                            "propertyNames",
                            "member name '\(name)' is not allowed: \((inner ?? []).map(\.message).joined(separator: "; "))"
                        )
                    }
                }
            case .minProperties(let n):
                if kind == .object && json_object_size(instance) < n {
                    fail("minProperties", "must have at least \(n) member(s)")
                }
            case .maxProperties(let n):
                if kind == .object && json_object_size(instance) > n {
                    fail("maxProperties", "must have at most \(n) member(s)")
                }
            case .dependentRequired(let map):
                guard kind == .object else { continue }
                for (name, needed) in map where JSONValue.member(of: instance, name) != nil {
                    for other in needed where JSONValue.member(of: instance, other) == nil {
                        fail("dependentRequired", "member '\(other)' is required when '\(name)' is present")
                    }
                }
            case .dependentSchemas(let map):
                guard kind == .object else { continue }
                for (name, sub) in map where JSONValue.member(of: instance, name) != nil {
                    if let e = descend(sub, instance, instanceToken: nil, keyword: [here, name], errors: &errors) {
                        evaluated.merge(e)
                    } else {
                        valid = false
                    }
                }
            case .prefixItems(let subs):
                guard kind == .array else { continue }
                for (i, sub) in subs.enumerated() where i < json_array_size(instance) {
                    if descend(
                        sub, json_array_get(instance, i)!, instanceToken: String(i), keyword: [here, String(i)],
                        errors: &errors) == nil
                    {
                        valid = false
                    }
                    if collect { evaluated.items.insert(i) }
                }
            case .items(let sub):
                guard kind == .array else { continue }
                let start = node.keywords.reduce(0) { n, k in
                    if case .prefixItems(let p) = k { return p.count }
                    return n
                }
                let count = json_array_size(instance)
                if start < count {
                    for i in start..<count {
                        let pathToken = String(i)
                        if sub.alwaysValid == false {
                            fail("items", "no element is allowed at index \(i)", at: pathToken)
                        } else if descend(
                            sub, json_array_get(instance, i)!, instanceToken: pathToken, keyword: [here],
                            errors: &errors) == nil
                        {
                            valid = false
                        }
                    }
                }
                evaluated.allItems = true
            case .contains(let sub, let min, let max):
                guard kind == .array else { continue }
                var matching = 0
                for i in 0..<json_array_size(instance) {
                    var ignored: [ValidationError]? = nil
                    if descend(
                        sub, json_array_get(instance, i)!, instanceToken: String(i), keyword: [here], errors: &ignored)
                        != nil
                    {
                        matching += 1
                        if collect { evaluated.items.insert(i) }
                    }
                }
                if matching < min {
                    fail(
                        "contains",
                        min == 1
                            ? "must contain an element matching the schema"
                            : "must contain at least \(min) matching elements (has \(matching))")
                }
                if let max, matching > max {
                    fail("contains", "must contain at most \(max) matching elements (has \(matching))")
                }
            case .minItems(let n):
                if kind == .array && json_array_size(instance) < n {
                    fail("minItems", "must have at least \(n) element(s)")
                }
            case .maxItems(let n):
                if kind == .array && json_array_size(instance) > n {
                    fail("maxItems", "must have at most \(n) element(s)")
                }
            case .uniqueItems:
                guard kind == .array else { continue }
                let n = json_array_size(instance)
                outer: for i in 0..<n {
                    for j in (i + 1)..<max(n, i + 1)
                    where JSONValue.equal(json_array_get(instance, i)!, json_array_get(instance, j)!) {
                        fail("uniqueItems", "elements \(i) and \(j) are equal; elements must be unique")
                        break outer
                    }
                }
            case .minimum(let limit):
                if let c = Self.compare(instance, kind, limit), c < 0 { fail("minimum", "must be at least \(limit)") }
            case .maximum(let limit):
                if let c = Self.compare(instance, kind, limit), c > 0 { fail("maximum", "must be at most \(limit)") }
            case .exclusiveMinimum(let limit):
                if let c = Self.compare(instance, kind, limit), c <= 0 {
                    fail("exclusiveMinimum", "must be greater than \(limit)")
                }
            case .exclusiveMaximum(let limit):
                if let c = Self.compare(instance, kind, limit), c >= 0 {
                    fail("exclusiveMaximum", "must be less than \(limit)")
                }
            case .multipleOf(let divisor):
                if (kind == .integer || kind == .real) && !Self.isMultiple(instance, kind, of: divisor) {
                    fail("multipleOf", "must be a multiple of \(divisor)")
                }
            case .minLength(let n):
                if kind == .string, let s = JSONValue.string(of: instance), s.unicodeScalars.count < n {
                    fail("minLength", "must be at least \(n) character(s) long")
                }
            case .maxLength(let n):
                if kind == .string, let s = JSONValue.string(of: instance), s.unicodeScalars.count > n {
                    fail("maxLength", "must be at most \(n) character(s) long")
                }
            case .pattern(let text, let regex):
                if kind == .string, let s = JSONValue.string(of: instance), !Self.search(regex, s) {
                    fail("pattern", "must match the pattern \(text)")
                }
            case .excludedScalars(let text, let ranges):
                if kind == .string, let s = JSONValue.string(of: instance),
                    let bad = s.unicodeScalars.first(where: { c in ranges.contains { $0.contains(c.value) } })
                {
                    fail(
                        "pattern",
                        "must match the pattern \(text): U+\(String(bad.value, radix: 16, uppercase: true)) is not allowed"
                    )
                }
            case .allOf(let subs):
                for (i, sub) in subs.enumerated() {
                    if let e = descend(sub, instance, instanceToken: nil, keyword: [here, String(i)], errors: &errors) {
                        evaluated.merge(e)
                    } else {
                        valid = false
                    }
                }
            case .anyOf(let subs):
                var any = false
                var inner: [ValidationError]? = nil
                for (i, sub) in subs.enumerated() {
                    if let e = descend(sub, instance, instanceToken: nil, keyword: [here, String(i)], errors: &inner) {
                        evaluated.merge(e)
                        any = true
                    }
                }
                if !any {
                    fail("anyOf", "must match at least one of \(subs.count) alternatives")
                    if errors != nil { errors! += branchErrors(subs, instance, here) }
                }
            case .oneOf(let subs):
                var matched: [Int] = []
                var inner: [ValidationError]? = nil
                for (i, sub) in subs.enumerated() {
                    if let e = descend(sub, instance, instanceToken: nil, keyword: [here, String(i)], errors: &inner) {
                        matched.append(i)
                        evaluated.merge(e)
                    }
                }
                if matched.isEmpty {
                    fail("oneOf", "must match exactly one of \(subs.count) alternatives, matches none")
                    if errors != nil { errors! += branchErrors(subs, instance, here) }
                } else if matched.count > 1 {
                    fail(
                        "oneOf",
                        "must match exactly one of \(subs.count) alternatives, matches \(matched.map(String.init).joined(separator: " and "))"
                    )
                }
            case .not(let sub):
                var inner: [ValidationError]? = nil
                if descend(sub, instance, instanceToken: nil, keyword: [here], errors: &inner) != nil {
                    fail("not", "must not match the schema under 'not'")
                }
            case .conditional(let condition, let then, let otherwise):
                var inner: [ValidationError]? = nil
                if let e = descend(condition, instance, instanceToken: nil, keyword: [here], errors: &inner) {
                    evaluated.merge(e)
                    if let then {
                        if let e = descend(then, instance, instanceToken: nil, keyword: ["then"], errors: &errors) {
                            evaluated.merge(e)
                        } else {
                            valid = false
                        }
                    }
                } else if let otherwise {
                    if let e = descend(otherwise, instance, instanceToken: nil, keyword: ["else"], errors: &errors) {
                        evaluated.merge(e)
                    } else {
                        valid = false
                    }
                }
            case .ref(let target):
                if let e = descend(target.node!, instance, instanceToken: nil, keyword: [here], errors: &errors) {
                    evaluated.merge(e)
                } else {
                    valid = false
                }
            case .dynamicRef(let target, let anchor):
                var destination = target.node!
                if let anchor, destination.dynamicAnchor == anchor {
                    for resource in scope {
                        if let candidate = dynamicAnchors[resource + "#" + anchor] {
                            destination = candidate
                            break
                        }
                    }
                }
                if let e = descend(destination, instance, instanceToken: nil, keyword: [here], errors: &errors) {
                    evaluated.merge(e)
                } else {
                    valid = false
                }
            case .unevaluatedProperties(let sub):
                guard kind == .object else { continue }
                JSONValue.forEachMember(of: instance) { name, member in
                    guard !evaluated.properties.contains(name) else { return }
                    let pathToken = name
                    if sub.alwaysValid == false {
                        fail("unevaluatedProperties", "member '\(name)' is not allowed here", at: pathToken)
                    } else if descend(sub, member, instanceToken: pathToken, keyword: [here], errors: &errors) == nil {
                        valid = false
                    }
                    if collect { evaluated.properties.insert(name) }
                }
            case .unevaluatedItems(let sub):
                guard kind == .array, !evaluated.allItems else { continue }
                for i in 0..<json_array_size(instance) where !evaluated.items.contains(i) {
                    let pathToken = String(i)
                    if sub.alwaysValid == false {
                        fail("unevaluatedItems", "no element is allowed at index \(i)", at: pathToken)
                    } else if descend(
                        sub, json_array_get(instance, i)!, instanceToken: pathToken, keyword: [here], errors: &errors)
                        == nil
                    {
                        valid = false
                    }
                }
                evaluated.allItems = true
            case .format(let format):
                guard options.assertFormats, kind == .string, let s = JSONValue.string(of: instance) else { continue }
                if let check = Formats.checks[format], !check(s) {
                    fail("format", "'\(s)' is not a valid \(format)")
                }
            }
        }
        return valid ? evaluated : nil
    }

    /// The errors of every alternative, for a report after anyOf/oneOf matched none.
    mutating func branchErrors(_ subs: [SchemaNode], _ instance: UnsafeMutablePointer<json_t>, _ keyword: String)
        -> [ValidationError]
    {
        var all: [ValidationError]? = []
        for (i, sub) in subs.enumerated() {
            _ = descend(sub, instance, instanceToken: nil, keyword: [keyword, String(i)], errors: &all)
        }
        return all ?? []
    }

    static func matches(type: String, _ instance: UnsafeMutablePointer<json_t>, _ kind: JSONValue.Kind) -> Bool {
        switch type {
        case "null": kind == .null
        case "boolean": kind == .bool
        case "object": kind == .object
        case "array": kind == .array
        case "string": kind == .string
        case "number": kind == .integer || kind == .real
        case "integer":
            kind == .integer || (kind == .real && json_real_value(instance).rounded() == json_real_value(instance))
        default: false
        }
    }

    static func search(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Compares a number instance with a schema number exactly where both are integers; nil for non-numbers.
    static func compare(_ instance: UnsafeMutablePointer<json_t>, _ kind: JSONValue.Kind, _ limit: JSONValue) -> Int? {
        guard kind == .integer || kind == .real else { return nil }
        if kind == .integer, limit.kind == .integer {
            let a = json_integer_value(instance)
            let b = limit.intValue!
            return a < b ? -1 : (a > b ? 1 : 0)
        }
        let a = json_number_value(instance)
        let b = limit.doubleValue!
        return a < b ? -1 : (a > b ? 1 : 0)
    }

    static func isMultiple(_ instance: UnsafeMutablePointer<json_t>, _ kind: JSONValue.Kind, of divisor: JSONValue)
        -> Bool
    {
        if kind == .integer, divisor.kind == .integer, let d = divisor.intValue, d != 0 {
            return json_integer_value(instance) % d == 0
        }
        let x = json_number_value(instance)
        let d = divisor.doubleValue!
        let q = x / d
        if !q.isFinite { return x.rounded() == x && (1 / d).rounded() == 1 / d }
        return abs(q - q.rounded()) <= 1e-9 * max(1, abs(q))
    }
}

private func article(_ type: String) -> String {
    switch type {
    case "object", "array", "integer": "an \(type)"
    case "null": "null"
    default: "a \(type)"
    }
}
