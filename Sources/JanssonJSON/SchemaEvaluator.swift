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

/// Where an evaluation puts its errors: the first `limit` in full, the rest only counted (their
/// messages and paths are never built).
struct ErrorSink {
    private(set) var errors: [SchemaViolation] = []
    /// Every error added, kept or not.
    private(set) var total = 0
    let limit: Int

    init(limit: Int = .max) { self.limit = limit }

    /// Whether further errors are only counted.
    var isFull: Bool { errors.count >= limit }
    /// How many more errors are kept.
    var room: Int { max(0, limit - errors.count) }

    mutating func add(_ error: @autoclosure () -> SchemaViolation) {
        total += 1
        if errors.count < limit { errors.append(error()) }
    }

    mutating func add(_ other: ErrorSink) {
        total += other.total
        errors += other.errors.prefix(room)
    }
}

/// One node's keywords over one instance: what they evaluated so far and whether all held.
struct NodePass {
    let instance: UnsafeMutablePointer<json_t>
    let kind: JSONValue.Kind
    var evaluated = Evaluated()
    var valid = true
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

    /// Evaluates a child value under a keyword path, restoring the paths afterwards. Without a
    /// sink no error is built below, so the paths are neither made nor kept.
    mutating func descend(
        _ node: SchemaNode, _ instance: UnsafeMutablePointer<json_t>, instanceToken: @autoclosure () -> String?,
        keyword: @autoclosure () -> [String], errors: inout ErrorSink?
    ) -> Evaluated? {
        guard errors != nil else { return evaluate(node, instance, errors: &errors) }
        let instanceToken = instanceToken()
        let keyword = keyword()
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
        _ node: SchemaNode, _ instance: UnsafeMutablePointer<json_t>, errors: inout ErrorSink?
    )
        -> Evaluated?
    {
        if let always = node.alwaysValid {
            if always { return Evaluated() }
            errors?.add(
                SchemaViolation(
                    instancePath: instancePath, keywordLocation: keywordPath(), keyword: "false",
                    message: "no value is allowed here"))
            return nil
        }
        depth += 1
        defer { depth -= 1 }
        guard depth < 400 else {
            errors?.add(
                SchemaViolation(
                    instancePath: instancePath, keywordLocation: keywordPath(), keyword: "$ref",
                    message: "the schema recurses without end at this value"))
            return nil
        }
        let entered = scope.last != node.resource
        if entered { scope.append(node.resource) }
        defer { if entered { scope.removeLast() } }

        var pass = NodePass(instance: instance, kind: JSONValue.kind(of: instance))
        for keyword in node.keywords {
            switch keyword {
            case .type, .enumeration, .const:
                checkValue(keyword, &pass, errors: &errors)
            case .minimum, .maximum, .exclusiveMinimum, .exclusiveMaximum, .multipleOf:
                checkNumber(keyword, &pass, errors: &errors)
            case .minLength, .maxLength, .pattern, .excludedScalars, .format:
                checkString(keyword, &pass, errors: &errors)
            case .prefixItems, .items, .contains, .minItems, .maxItems, .uniqueItems:
                checkArray(keyword, of: node, &pass, errors: &errors)
            case .properties, .patternProperties, .additionalProperties, .required, .propertyNames, .minProperties,
                .maxProperties, .dependentRequired, .dependentSchemas:
                checkObject(keyword, &pass, errors: &errors)
            case .allOf, .anyOf, .oneOf, .not, .conditional, .ref, .dynamicRef:
                apply(keyword, &pass, errors: &errors)
            case .unevaluatedProperties, .unevaluatedItems:
                checkUnevaluated(keyword, &pass, errors: &errors)
            }
        }
        return pass.valid ? pass.evaluated : nil
    }

    /// Marks the pass invalid and records why; the error is built only while the sink keeps
    /// errors (past its limit it is just counted).
    /// - Parameter member: a member name or index below the instance that the error is about.
    func fail(
        _ pass: inout NodePass, _ keyword: String, _ message: @autoclosure () -> String, at member: String? = nil,
        errors: inout ErrorSink?
    ) {
        pass.valid = false
        guard errors != nil else { return }
        errors!.add(
            SchemaViolation(
                instancePath: instancePath + (member.map { "/" + JSONPointer.escape($0) } ?? ""),
                keywordLocation: keywordPath(keyword), keyword: keyword, message: message()))
    }

    /// Evaluates a subschema in place or below the instance; merges what it evaluated, or marks
    /// the pass invalid.
    mutating func merge(
        _ sub: SchemaNode, _ instance: UnsafeMutablePointer<json_t>, instanceToken: String? = nil,
        keyword: @autoclosure () -> [String], into pass: inout NodePass, errors: inout ErrorSink?
    ) {
        if let e = descend(sub, instance, instanceToken: instanceToken, keyword: keyword(), errors: &errors) {
            pass.evaluated.merge(e)
        } else {
            pass.valid = false
        }
    }

    /// Applies the subschema of `additionalProperties`, `items` or `unevaluated*` to one member or
    /// element that the other keywords left; a `false` subschema fails with one error, `refusal`,
    /// at that member.
    mutating func applyToRest(
        _ sub: SchemaNode, _ value: UnsafeMutablePointer<json_t>, at token: String, keyword: String,
        refusal: @autoclosure () -> String, _ pass: inout NodePass, errors: inout ErrorSink?
    ) {
        if sub.alwaysValid == false {
            fail(&pass, keyword, refusal(), at: token, errors: &errors)
        } else if descend(sub, value, instanceToken: token, keyword: [keyword], errors: &errors) == nil {
            pass.valid = false
        }
    }

    /// `type`, `enum`, `const`: the instance as a whole.
    func checkValue(_ keyword: Keyword, _ pass: inout NodePass, errors: inout ErrorSink?) {
        let (instance, kind) = (pass.instance, pass.kind)
        switch keyword {
        case .type(let names):
            if !names.contains(where: { Self.matches(type: $0, instance, kind) }) {
                fail(
                    &pass, "type", "must be \(names.map(article).joined(separator: " or ")), not \(describe(kind))",
                    errors: &errors)
            }
        case .enumeration(let values):
            if !values.contains(where: { JSONValue.equal($0.raw, instance) }) {
                let shown = values.prefix(8).map(\.description).joined(separator: ", ")
                fail(&pass, "enum", "must be one of \(shown)\(values.count > 8 ? ", …" : "")", errors: &errors)
            }
        case .const(let value):
            if !JSONValue.equal(value.raw, instance) {
                fail(&pass, "const", "must be \(value.description)", errors: &errors)
            }
        default:
            break
        }
    }

    /// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`: numbers only.
    func checkNumber(_ keyword: Keyword, _ pass: inout NodePass, errors: inout ErrorSink?) {
        let (instance, kind) = (pass.instance, pass.kind)
        guard kind == .integer || kind == .real else { return }
        switch keyword {
        case .minimum(let limit):
            if let c = Self.compare(instance, kind, limit), c < 0 {
                fail(&pass, "minimum", "must be at least \(limit)", errors: &errors)
            }
        case .maximum(let limit):
            if let c = Self.compare(instance, kind, limit), c > 0 {
                fail(&pass, "maximum", "must be at most \(limit)", errors: &errors)
            }
        case .exclusiveMinimum(let limit):
            if let c = Self.compare(instance, kind, limit), c <= 0 {
                fail(&pass, "exclusiveMinimum", "must be greater than \(limit)", errors: &errors)
            }
        case .exclusiveMaximum(let limit):
            if let c = Self.compare(instance, kind, limit), c >= 0 {
                fail(&pass, "exclusiveMaximum", "must be less than \(limit)", errors: &errors)
            }
        case .multipleOf(let divisor):
            if !Self.isMultiple(instance, kind, of: divisor) {
                fail(&pass, "multipleOf", "must be a multiple of \(divisor)", errors: &errors)
            }
        default:
            break
        }
    }

    /// `minLength`, `maxLength`, `pattern`, `format`: strings only (lengths in Unicode scalars).
    /// Read from jansson's UTF-8 bytes; a Swift string is made only for `format` and messages.
    func checkString(_ keyword: Keyword, _ pass: inout NodePass, errors: inout ErrorSink?) {
        guard pass.kind == .string, let chars = json_string_value(pass.instance) else { return }
        let count = json_string_length(pass.instance)
        chars.withMemoryRebound(to: UInt8.self, capacity: count) { bytes in
            checkString(keyword, UnsafeBufferPointer(start: bytes, count: count), &pass, errors: &errors)
        }
    }

    private func checkString(
        _ keyword: Keyword, _ utf8: UnsafeBufferPointer<UInt8>, _ pass: inout NodePass, errors: inout ErrorSink?
    ) {
        switch keyword {
        case .minLength(let n):
            if Self.scalarCount(utf8) < n {
                fail(&pass, "minLength", "must be at least \(n) character(s) long", errors: &errors)
            }
        case .maxLength(let n):
            if Self.scalarCount(utf8) > n {
                fail(&pass, "maxLength", "must be at most \(n) character(s) long", errors: &errors)
            }
        case .pattern(let text, let regex):
            if !regex.matches(utf8: utf8) {
                fail(&pass, "pattern", "must match the pattern \(text)", errors: &errors)
            }
        case .excludedScalars(let text, let ranges):
            var reader = ScalarReader(utf8)
            while let c = reader.next() {
                guard ranges.contains(where: { $0.contains(c.value) }) else { continue }
                fail(
                    &pass, "pattern",
                    "must match the pattern \(text): U+\(String(c.value, radix: 16, uppercase: true)) is not allowed",
                    errors: &errors)
                break
            }
        case .format(let format):
            guard options.assertFormats else { return }
            let s = String(decoding: utf8, as: UTF8.self)
            if let check = Formats.checks[format], !check(s) {
                fail(&pass, "format", "'\(s)' is not a valid \(format)", errors: &errors)
            }
        default:
            break
        }
    }

    /// The number of Unicode scalars in UTF-8 text (as the string `String(decoding:as:)` makes has).
    static func scalarCount(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        if !utf8.contains(where: { $0 >= 0x80 }) { return utf8.count }
        var reader = ScalarReader(utf8)
        var n = 0
        while reader.next() != nil { n += 1 }
        return n
    }

    /// `prefixItems`, `items`, `contains`, `minItems`, `maxItems`, `uniqueItems`: arrays only.
    /// - Parameter node: the schema the keyword belongs to (`items` starts after its `prefixItems`).
    mutating func checkArray(_ keyword: Keyword, of node: SchemaNode, _ pass: inout NodePass, errors: inout ErrorSink?)
    {
        let instance = pass.instance
        guard pass.kind == .array else { return }
        let here = keyword.name
        switch keyword {
        case .prefixItems(let subs):
            for (i, sub) in subs.enumerated() where i < json_array_size(instance) {
                if descend(
                    sub, json_array_get(instance, i)!, instanceToken: String(i), keyword: [here, String(i)],
                    errors: &errors) == nil
                {
                    pass.valid = false
                }
                if collect { pass.evaluated.items.insert(i) }
            }
        case .items(let sub):
            let start = node.keywords.reduce(0) { n, k in
                if case .prefixItems(let p) = k { return p.count }
                return n
            }
            let count = json_array_size(instance)
            if start < count {
                for i in start..<count {
                    let pathToken = String(i)
                    applyToRest(
                        sub, json_array_get(instance, i)!, at: pathToken, keyword: here,
                        refusal: "no element is allowed at index \(i)", &pass, errors: &errors)
                }
            }
            pass.evaluated.allItems = true
        case .contains(let sub, let min, let max):
            var matching = 0
            for i in 0..<json_array_size(instance) {
                var ignored: ErrorSink? = nil
                if descend(
                    sub, json_array_get(instance, i)!, instanceToken: String(i), keyword: [here], errors: &ignored)
                    != nil
                {
                    matching += 1
                    if collect { pass.evaluated.items.insert(i) }
                }
            }
            if matching < min {
                fail(
                    &pass, "contains",
                    min == 1
                        ? "must contain an element matching the schema"
                        : "must contain at least \(min) matching elements (has \(matching))", errors: &errors)
            }
            if let max, matching > max {
                fail(
                    &pass, "contains", "must contain at most \(max) matching elements (has \(matching))",
                    errors: &errors)
            }
        case .minItems(let n):
            if json_array_size(instance) < n {
                fail(&pass, "minItems", "must have at least \(n) element(s)", errors: &errors)
            }
        case .maxItems(let n):
            if json_array_size(instance) > n {
                fail(&pass, "maxItems", "must have at most \(n) element(s)", errors: &errors)
            }
        case .uniqueItems:
            let n = json_array_size(instance)
            outer: for i in 0..<n {
                for j in (i + 1)..<max(n, i + 1)
                where JSONValue.equal(json_array_get(instance, i)!, json_array_get(instance, j)!) {
                    fail(
                        &pass, "uniqueItems", "elements \(i) and \(j) are equal; elements must be unique",
                        errors: &errors)
                    break outer
                }
            }
        default:
            break
        }
    }

    /// `properties`, `patternProperties`, `additionalProperties`, `required`, `propertyNames`,
    /// `minProperties`, `maxProperties`, `dependentRequired`, `dependentSchemas`: objects only.
    mutating func checkObject(_ keyword: Keyword, _ pass: inout NodePass, errors: inout ErrorSink?) {
        let instance = pass.instance
        guard pass.kind == .object else { return }
        let here = keyword.name
        switch keyword {
        case .properties(let properties):
            for (name, sub) in properties {
                guard let member = JSONValue.member(of: instance, name) else { continue }
                if descend(sub, member, instanceToken: name, keyword: [here, name], errors: &errors) == nil {
                    pass.valid = false
                }
                if collect { pass.evaluated.properties.insert(name) }
            }
        case .patternProperties(let patterns):
            JSONValue.forEachMember(of: instance) { name, member in
                for (pattern, regex, sub) in patterns where regex.matches(name) {
                    if descend(sub, member, instanceToken: name, keyword: [here, pattern], errors: &errors) == nil {
                        pass.valid = false
                    }
                    if collect { pass.evaluated.properties.insert(name) }
                }
            }
        case .additionalProperties(let sub, let known, let patterns):
            JSONValue.forEachMember(of: instance) { name, member in
                guard !known.contains(name), !patterns.contains(where: { $0.matches(name) }) else { return }
                let pathToken = name
                applyToRest(
                    sub, member, at: pathToken, keyword: here, refusal: "member '\(name)' is not allowed here", &pass,
                    errors: &errors)
                if collect { pass.evaluated.properties.insert(name) }
            }
        case .required(let names):
            for name in names where JSONValue.member(of: instance, name) == nil {
                fail(&pass, "required", "required member '\(name)' is missing", errors: &errors)
            }
        case .propertyNames(let sub):
            JSONValue.forEachMember(of: instance) { name, _ in
                let key = JSONValue(name)
                // Only for the message; nothing to keep once the sink is full.
                var inner: ErrorSink? = errors.map { ErrorSink(limit: $0.isFull ? 0 : .max) }
                if descend(sub, key.raw, instanceToken: nil, keyword: [here], errors: &inner) == nil {
                    fail(
                        &pass, "propertyNames",
                        "member name '\(name)' is not allowed: \((inner?.errors ?? []).map(\.message).joined(separator: "; "))",
                        errors: &errors)
                }
            }
        case .minProperties(let n):
            if json_object_size(instance) < n {
                fail(&pass, "minProperties", "must have at least \(n) member(s)", errors: &errors)
            }
        case .maxProperties(let n):
            if json_object_size(instance) > n {
                fail(&pass, "maxProperties", "must have at most \(n) member(s)", errors: &errors)
            }
        case .dependentRequired(let map):
            for (name, needed) in map where JSONValue.member(of: instance, name) != nil {
                for other in needed where JSONValue.member(of: instance, other) == nil {
                    fail(
                        &pass, "dependentRequired", "member '\(other)' is required when '\(name)' is present",
                        errors: &errors)
                }
            }
        case .dependentSchemas(let map):
            for (name, sub) in map where JSONValue.member(of: instance, name) != nil {
                merge(sub, instance, keyword: [here, name], into: &pass, errors: &errors)
            }
        default:
            break
        }
    }

    /// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `$ref`, `$dynamicRef`: subschemas
    /// applied to the instance itself.
    mutating func apply(_ keyword: Keyword, _ pass: inout NodePass, errors: inout ErrorSink?) {
        let instance = pass.instance
        let here = keyword.name
        switch keyword {
        case .allOf(let subs):
            for (i, sub) in subs.enumerated() {
                merge(sub, instance, keyword: [here, String(i)], into: &pass, errors: &errors)
            }
        case .anyOf(let subs):
            var any = false
            var inner: ErrorSink? = nil
            for (i, sub) in subs.enumerated() {
                if let e = descend(sub, instance, instanceToken: nil, keyword: [here, String(i)], errors: &inner) {
                    pass.evaluated.merge(e)
                    any = true
                }
            }
            if !any {
                fail(&pass, "anyOf", "must match at least one of \(subs.count) alternatives", errors: &errors)
                if errors != nil { errors!.add(branchErrors(subs, instance, here, limit: errors!.room)) }
            }
        case .oneOf(let subs):
            var matched: [Int] = []
            var inner: ErrorSink? = nil
            for (i, sub) in subs.enumerated() {
                if let e = descend(sub, instance, instanceToken: nil, keyword: [here, String(i)], errors: &inner) {
                    matched.append(i)
                    pass.evaluated.merge(e)
                }
            }
            if matched.isEmpty {
                fail(
                    &pass, "oneOf", "must match exactly one of \(subs.count) alternatives, matches none",
                    errors: &errors)
                if errors != nil { errors!.add(branchErrors(subs, instance, here, limit: errors!.room)) }
            } else if matched.count > 1 {
                fail(
                    &pass, "oneOf",
                    "must match exactly one of \(subs.count) alternatives, matches \(matched.map(String.init).joined(separator: " and "))",
                    errors: &errors)
            }
        case .not(let sub):
            var inner: ErrorSink? = nil
            if descend(sub, instance, instanceToken: nil, keyword: [here], errors: &inner) != nil {
                fail(&pass, "not", "must not match the schema under 'not'", errors: &errors)
            }
        case .conditional(let condition, let then, let otherwise):
            var inner: ErrorSink? = nil
            if let e = descend(condition, instance, instanceToken: nil, keyword: [here], errors: &inner) {
                pass.evaluated.merge(e)
                if let then { merge(then, instance, keyword: ["then"], into: &pass, errors: &errors) }
            } else if let otherwise {
                merge(otherwise, instance, keyword: ["else"], into: &pass, errors: &errors)
            }
        case .ref(let target):
            merge(target.node!, instance, keyword: [here], into: &pass, errors: &errors)
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
            merge(destination, instance, keyword: [here], into: &pass, errors: &errors)
        default:
            break
        }
    }

    /// `unevaluatedProperties`, `unevaluatedItems`: what the keywords before them left unevaluated
    /// (they come last in a node).
    mutating func checkUnevaluated(_ keyword: Keyword, _ pass: inout NodePass, errors: inout ErrorSink?) {
        let instance = pass.instance
        let here = keyword.name
        switch keyword {
        case .unevaluatedProperties(let sub):
            guard pass.kind == .object else { return }
            JSONValue.forEachMember(of: instance) { name, member in
                guard !pass.evaluated.properties.contains(name) else { return }
                let pathToken = name
                applyToRest(
                    sub, member, at: pathToken, keyword: here, refusal: "member '\(name)' is not allowed here", &pass,
                    errors: &errors)
                if collect { pass.evaluated.properties.insert(name) }
            }
        case .unevaluatedItems(let sub):
            guard pass.kind == .array, !pass.evaluated.allItems else { return }
            for i in 0..<json_array_size(instance) where !pass.evaluated.items.contains(i) {
                let pathToken = String(i)
                applyToRest(
                    sub, json_array_get(instance, i)!, at: pathToken, keyword: here,
                    refusal: "no element is allowed at index \(i)", &pass, errors: &errors)
            }
            pass.evaluated.allItems = true
        default:
            break
        }
    }

    /// The errors of every alternative, for a report after anyOf/oneOf matched none.
    mutating func branchErrors(
        _ subs: [SchemaNode], _ instance: UnsafeMutablePointer<json_t>, _ keyword: String, limit: Int
    ) -> ErrorSink {
        var all: ErrorSink? = ErrorSink(limit: limit)
        for (i, sub) in subs.enumerated() {
            _ = descend(sub, instance, instanceToken: nil, keyword: [keyword, String(i)], errors: &all)
        }
        return all!
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
