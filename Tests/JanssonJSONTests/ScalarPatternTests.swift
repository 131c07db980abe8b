import Foundation
import PropertyBased
import Testing

@testable import JanssonJSON

/// `ScalarPattern`, the matcher of the pattern subset, gives the verdict of the path it
/// replaces (`NSRegularExpression` over `ecmaToICU`), for the patterns of our schemas and for
/// generated patterns of the subset, over generated strings.
@Suite struct ScalarPatternTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Schemas")

    /// Every `pattern` and `patternProperties` name in Schemas/.
    static let schemaPatterns: [String] = {
        var found: Set<String> = []
        func walk(_ value: JSONValue) {
            switch value.kind {
            case .object:
                for (key, member) in value.members {
                    if key == "pattern", let p = member.stringValue { found.insert(p) }
                    if key == "patternProperties", member.kind == .object { found.formUnion(member.keys) }
                    walk(member)
                }
            case .array: value.elements.forEach(walk)
            default: break
            }
        }
        let files = FileManager.default.enumerator(atPath: schemas.path)!
        while let path = files.nextObject() as? String {
            guard path.hasSuffix(".json") else { continue }
            let data = try! Data(contentsOf: schemas.appendingPathComponent(path))
            walk(try! JSONValue.parse(data))
        }
        return found.sorted()
    }()

    /// The old path's regular expression.
    static func reference(_ pattern: String) -> NSRegularExpression? {
        try? NSRegularExpression(pattern: ecmaToICU(pattern))
    }

    /// Characters where engines tend to differ: controls, line and space separators, U+FEFF,
    /// astral characters, combining marks, and the pattern syntax itself.
    static let tokens: [String] = [
        "a", "b", "c", "x", "z", "A", "C", "Z", "0", "1", "2", "9", "-", ".", "_", "#", "$", "^", " ", "\t", "\n", "\r",
        "\r\n", "\u{0}", "\u{8}", "\u{B}", "\u{C}", "\u{1F}", "\u{7F}", "\u{85}", "\u{9F}", "\u{A0}", "\u{1680}",
        "\u{2000}", "\u{200A}", "\u{200B}", "\u{2028}", "\u{2029}", "\u{202F}", "\u{3000}", "\u{FEFF}", "\u{FFFD}",
        "\u{1F600}", "\u{1F601}", "\u{10000}", "\u{10FFFF}", "é", "e\u{301}", "\u{301}", "ß", "Ä", "ｍ", "/", "[", "]",
    ]

    /// Strings for a pattern: samples of what it matches, each also mutated, and random text.
    static func texts(for tree: PatternTree, _ random: inout Xoshiro) -> [String] {
        var result: [String] = []
        for _ in 0..<12 {
            let sample = Self.sample(tree, &random)
            result.append(sample)
            var scalars = Array(sample.unicodeScalars)
            let token = Array(random.pick(tokens).unicodeScalars)
            let at = random.int(0...scalars.count)
            switch random.int(0...2) {
            case 0: scalars.insert(contentsOf: token, at: at)
            case 1: if at < scalars.count { scalars.remove(at: at) }
            default: if at < scalars.count { scalars.replaceSubrange(at...at, with: token) }
            }
            result.append(String(String.UnicodeScalarView(scalars)))
        }
        for _ in 0..<8 { result.append((0..<random.int(0...6)).map { _ in random.pick(tokens) }.joined()) }
        return result
    }

    /// A text the tree matches (ignoring anchors in the middle).
    static func sample(_ tree: PatternTree, _ random: inout Xoshiro) -> String {
        switch tree {
        case .set(let set):
            // Mostly one of the tokens that the set holds, else any of its scalars.
            let held = tokens.filter { $0.unicodeScalars.count == 1 && set.contains($0.unicodeScalars.first!.value) }
            if !held.isEmpty, random.chance(70) { return random.pick(held) }
            let ranges = set.allRanges
            for _ in 0..<(ranges.isEmpty ? 0 : 8) {
                let r = random.pick(ranges)
                let v = r.lowerBound + UInt32(random.next() % UInt64(r.upperBound - r.lowerBound + 1))
                if let scalar = Unicode.Scalar(v) { return String(scalar) }
            }
            return ""
        case .atStart, .atEnd: return ""
        case .sequence(let terms): return terms.map { sample($0, &random) }.joined()
        case .alternation(let branches): return sample(random.pick(branches), &random)
        case .repeated(let atom, let min, let max):
            return (0..<random.int(min...(max ?? min + 3))).map { _ in sample(atom, &random) }.joined()
        }
    }

    static func tree(_ pattern: String) -> PatternTree? {
        var parser = PatternParser(Array(pattern.unicodeScalars))
        return parser.parse()
    }

    func expectSameVerdicts(_ pattern: String, _ texts: [String]) {
        let ours = ScalarPattern(pattern)!
        guard let regex = Self.reference(pattern) else {
            Issue.record("ICU refuses \(pattern)")
            return
        }
        for text in texts {
            let expected = SchemaPattern.search(regex, text)
            #expect(ours.matches(text) == expected, "\(pattern) on \(text.debugDescription): ICU says \(expected)")
        }
    }

    @Test func everySchemaPatternIsOfTheSubset() {
        #expect(Self.schemaPatterns.count >= 10)
        for pattern in Self.schemaPatterns {
            #expect(ScalarPattern(pattern) != nil, "\(pattern)")
        }
    }

    @Test func schemaPatternsGiveTheRegexVerdictOnGeneratedStrings() {
        var random = Xoshiro(seed: 0x5043_5245)
        for pattern in Self.schemaPatterns {
            var texts: [String] = []
            for _ in 0..<25 { texts += Self.texts(for: Self.tree(pattern)!, &random) }
            expectSameVerdicts(pattern, texts)
        }
    }

    /// The classes of the text patterns and `\s`, for every Unicode scalar alone and between
    /// other characters.
    @Test func classesGiveTheRegexVerdictForEveryScalar() throws {
        let patterns = [
            "^\\s$", "^[^\\s\\u0000-\\u001F\\u007F-\\u009F]$",
            "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
        ]
        for pattern in patterns {
            let ours = ScalarPattern(pattern)!
            let regex = try NSRegularExpression(pattern: ecmaToICU(pattern))
            var mismatches: [String] = []
            for value in UInt32(0)...0x10FFFF {
                guard let scalar = Unicode.Scalar(value) else { continue }
                let text = pattern.hasSuffix("*$") ? " " + String(scalar) + "a" : String(scalar)
                if ours.matches(text) != SchemaPattern.search(regex, text) {
                    mismatches.append(String(value, radix: 16))
                }
            }
            #expect(mismatches.isEmpty, "\(pattern) differs at U+\(mismatches.prefix(20).joined(separator: ", U+"))")
        }
    }

    /// Random patterns of the subset: literals (astral too), escapes, classes, groups with
    /// alternation, every quantifier (lazy too), anchors at the ends and inside alternatives.
    static func generatedPattern(_ random: inout Xoshiro, depth: Int = 0) -> String {
        func atom() -> String {
            switch random.int(0...9) {
            case 0...2: return random.pick(["a", "b", "-", "é", "\u{1F600}", " ", "#", "/", "Z", "0", "\u{A0}", "ß"])
            case 3...4:
                return random.pick([
                    "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\u00A0", "\\u2028", "\\u0085", "\\uFEFF", "\\-", "\\.",
                    "\\$", "\\^", "\\t", "\\n", "\\/", "\\u0000",
                ])
            case 5...7:
                let items = [
                    "a-c", "x", "\\s", "\\d", "\\S", "\\w", "\\u0000-\\u001F", "\\u007F-\\u009F", "\u{1F600}-\u{1F602}",
                    "é", "\\u00A0", " ", "$", ".", "A-Z", "0-9", "#", "\\]", "\\-", "\\u2028-\\u2029", "\u{10000}",
                ]
                let body = (0..<random.int(1...3)).map { _ in random.pick(items) }.joined()
                return "[" + (random.chance(40) ? "^" : "") + (random.chance(15) ? "-" : "") + body
                    + (random.chance(10) ? "^" : "") + "]"
            default:
                guard depth < 2 else { return "a" }
                return "(" + (random.chance(30) ? "?:" : "") + generatedPattern(&random, depth: depth + 1) + ")"
            }
        }
        func quantifier() -> String {
            guard random.chance(50) else { return "" }
            return random.pick(["*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?", "??", "{1,3}?", "{0}", "{3,3}"])
        }
        func sequence() -> String {
            var text = (0..<random.int(0...4)).map { _ in atom() + quantifier() }.joined()
            if depth > 0, random.chance(10) { text = "^" + text }
            if depth > 0, random.chance(10) { text += "$" }
            return text
        }
        let body = (0..<random.int(1...3)).map { _ in sequence() }.joined(separator: "|")
        guard depth == 0 else { return body }
        return (random.chance(70) ? "^" : "") + body + (random.chance(70) ? "$" : "")
    }

    @Test func generatedPatternsGiveTheRegexVerdictOnGeneratedStrings() {
        var random = Xoshiro(seed: 0x5355_4253)
        var tried = 0
        for _ in 0..<1000 {
            let pattern = Self.generatedPattern(&random)
            // Left out: the patterns the subset leaves to ICU (a repeated group that can match empty).
            guard let tree = Self.tree(pattern), ScalarPattern(pattern) != nil else { continue }
            tried += 1
            expectSameVerdicts(pattern, Self.texts(for: tree, &random))
        }
        #expect(tried >= 400)
    }

    /// What the subset leaves to the regular expression.
    @Test(arguments: [
        ".", "a.b", "\\b", "\\B", "\\p{L}", "\\P{L}", "(?=a)", "(?!a)", "(?<=a)b", "a*+", "a**", "[[a]]", "[a&&b]",
        "[a--b]", "[:alpha:]", "[[:alpha:]]", "a{2", "a{,2}", "a{3,2}", "\\v", "(a)\\1", "\\x41", "\\cA", "\\0", "[]",
        "[^]", "a{1001}", "\\uD83D\\uDE00", "[\\d-z]", "[a-\\d]", "[z-a]", "^*", "a\u{301}", "\r\n", "{", "}", "]",
        "(a", "a)", "\\", "[a", "(?i)a", "\\Q.\\E", "[{]", "\\k<x>", "a\u{85}", "", "(|a)*",
        "(a*)+", "(^)*", "(a?){2}", "(a|)+?", "(?:a||/)+?",
    ])
    func patternsOutsideTheSubsetAreLeftToTheRegex(_ pattern: String) {
        #expect(ScalarPattern(pattern) == nil)
    }

    /// Through a schema: a pattern of the subset and one left to the regex give the same
    /// verdicts and the same message.
    @Test func schemasUseTheMatcherWithTheSameMessage() throws {
        let schema = try JSONSchema(["pattern": JSONValue("^[A-Za-z]{2}$")])
        #expect(schema.isValid(JSONValue("ch")))
        #expect(!schema.isValid(JSONValue("che")))
        #expect(schema.validate(JSONValue("c\u{1F600}")).map(\.message) == ["must match the pattern ^[A-Za-z]{2}$"])
    }
}

/// The draws the generators make, from swift-property-based's seeded `Xoshiro`.
extension Xoshiro {
    init(seed: UInt64) { self.init(seed: (seed, ~seed, seed &* 0x9E37_79B9_7F4A_7C15, 1)) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}
