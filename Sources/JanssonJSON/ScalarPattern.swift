import Foundation

/// A `pattern` of the small regular-expression subset that schemas use, matched without
/// Foundation: sequences of literals and character classes with quantifiers, groups with
/// alternation, and the anchors `^` and `$`.
///
/// It gives exactly the verdict of the path it replaces, `NSRegularExpression` (ICU) over
/// ``ecmaToICU(_:)``: characters are Unicode scalars (an astral character is one), `^` is the start
/// of the text, `$` its very end, `\d` and `\w` are ASCII-only and `\s` is ICU's (the Unicode
/// `White_Space` property, which lacks U+FEFF). A pattern with anything else (`.`, `\b`, `\p{…}`,
/// look-around, back-references, ICU's set operators, combining characters…) is not of the
/// subset: ``init(_:)`` returns nil, and the schema keeps the regular expression.
///
/// Matching simulates the pattern's automaton over the text once (no backtracking), so a match
/// costs at most the text's length times the program's.
struct ScalarPattern: Sendable {
    /// One instruction of the automaton.
    enum Op: Sendable {
        /// Consumes one scalar of `sets[index]` (whose ASCII part is `low` and `high`, bit by
        /// code point), then goes on at the next instruction.
        case consume(low: UInt64, high: UInt64, set: Int)
        /// Goes on at both.
        case split(Int, Int)
        case jump(Int)
        /// Holds only at the start of the text.
        case atStart
        /// Holds only at the end of the text.
        case atEnd
        case match
    }

    let ops: [Op]
    let sets: [ScalarSet]
    /// Whether every match starts at the start of the text (the pattern begins with `^`), so
    /// no other starts are tried.
    let anchoredAtStart: Bool

    /// The most instructions a pattern may expand to (counted repetition copies its atom).
    static let maxOps = 4096

    /// Compiles a pattern of the subset; nil for any other pattern (or an invalid one).
    init?(_ pattern: String) {
        // ICU refuses the empty pattern.
        guard !pattern.isEmpty else { return nil }
        // A character of several scalars (a combining mark after `\`, `[`, `]`, CR LF) is read
        // differently by ecmaToICU, which walks characters.
        guard pattern.count == pattern.unicodeScalars.count else { return nil }
        var parser = PatternParser(Array(pattern.unicodeScalars))
        guard let tree = parser.parse() else { return nil }
        var builder = ProgramBuilder()
        guard builder.emit(tree), builder.ops.count < Self.maxOps else { return nil }
        builder.ops.append(.match)
        ops = builder.ops
        sets = builder.sets
        if case .atStart = ops.first { anchoredAtStart = true } else { anchoredAtStart = false }
    }

    /// Whether the pattern matches somewhere in the text.
    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches(utf8: $0) }
    }

    /// Whether the pattern matches somewhere in the UTF-8 text (invalid bytes read as U+FFFD,
    /// as `String(decoding:as:)` repairs them).
    func matches(utf8 text: UnsafeBufferPointer<UInt8>) -> Bool {
        if !text.contains(where: { $0 >= 0x80 }) {
            var bytes = ASCIIReader(bytes: text.makeIterator())
            return run(&bytes)
        }
        var scalars = ScalarReader(text)
        return run(&scalars)
    }

    /// Runs the automaton over the scalars: one list of waiting `consume` instructions a
    /// position, each instruction at most once in it.
    private func run<Scalars: IteratorProtocol<Unicode.Scalar>>(_ scalars: inout Scalars) -> Bool {
        let n = ops.count
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 5 * n + 2) { buffer in
            let base = buffer.baseAddress!
            var current = base
            var next = base + n
            let marks = base + 2 * n
            // Each instruction taken pushes at most two: never deeper than n + 1.
            let stack = base + 3 * n
            marks.initialize(repeating: -1, count: n)
            var generation: Int32 = 0
            var currentCount = 0
            var nextCount = 0

            /// Adds `pc` and every instruction reachable from it without consuming to `list`;
            /// true when that reaches `match`.
            @inline(__always)
            func close(_ pc: Int, into list: UnsafeMutablePointer<Int32>, count: inout Int, atStart: Bool, atEnd: Bool)
                -> Bool
            {
                var depth = 0
                stack[0] = Int32(pc)
                depth = 1
                while depth > 0 {
                    depth -= 1
                    let pc = Int(stack[depth])
                    if marks[pc] == generation { continue }
                    marks[pc] = generation
                    switch ops[pc] {
                    case .consume:
                        list[count] = Int32(pc)
                        count += 1
                    case .split(let a, let b):
                        // b first, so a is taken first (the order does not change the verdict).
                        stack[depth] = Int32(b)
                        stack[depth + 1] = Int32(a)
                        depth += 2
                    case .jump(let a):
                        stack[depth] = Int32(a)
                        depth += 1
                    case .atStart:
                        if atStart {
                            stack[depth] = Int32(pc + 1)
                            depth += 1
                        }
                    case .atEnd:
                        if atEnd {
                            stack[depth] = Int32(pc + 1)
                            depth += 1
                        }
                    case .match:
                        return true
                    }
                }
                return false
            }

            var scalar = scalars.next()
            if close(0, into: current, count: &currentCount, atStart: true, atEnd: scalar == nil) { return true }
            while let c = scalar {
                let following = scalars.next()
                let atEnd = following == nil
                generation += 1
                nextCount = 0
                let v = c.value
                for i in 0..<currentCount {
                    let pc = Int(current[i])
                    guard case .consume(let low, let high, let set) = ops[pc] else { continue }
                    let held =
                        v < 64
                        ? low & (1 << UInt64(v)) != 0
                        : v < 128 ? high & (1 << UInt64(v - 64)) != 0 : sets[set].contains(v)
                    guard held else { continue }
                    if close(pc + 1, into: next, count: &nextCount, atStart: false, atEnd: atEnd) { return true }
                }
                if !anchoredAtStart, close(0, into: next, count: &nextCount, atStart: false, atEnd: atEnd) {
                    return true
                }
                swap(&current, &next)
                currentCount = nextCount
                if currentCount == 0 && anchoredAtStart { return false }
                scalar = following
            }
            return false
        }
    }
}

/// The scalars of ASCII bytes.
struct ASCIIReader: IteratorProtocol {
    var bytes: UnsafeBufferPointer<UInt8>.Iterator

    mutating func next() -> Unicode.Scalar? { bytes.next().map { Unicode.Scalar($0) } }
}

/// The scalars of UTF-8 bytes, invalid sequences read as U+FFFD.
struct ScalarReader: IteratorProtocol {
    var bytes: UnsafeBufferPointer<UInt8>.Iterator
    var codec = UTF8()

    init(_ text: UnsafeBufferPointer<UInt8>) { bytes = text.makeIterator() }

    mutating func next() -> Unicode.Scalar? {
        switch codec.decode(&bytes) {
        case .scalarValue(let s): s
        case .emptyInput: nil
        case .error: "\u{FFFD}"
        }
    }
}

/// A set of Unicode scalars: a bitmap for ASCII, sorted disjoint ranges above.
struct ScalarSet: Sendable, Equatable {
    var low: UInt64 = 0
    var high: UInt64 = 0
    /// Disjoint, sorted, all above U+007F.
    var ranges: [ClosedRange<UInt32>] = []

    /// The set of the given ranges (in any order, overlapping or not).
    init(_ given: [ClosedRange<UInt32>]) {
        let sorted = given.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        for r in sorted {
            if let last = merged.last, r.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        for r in merged {
            if r.lowerBound < 128 {
                for v in r.lowerBound...min(r.upperBound, 127) {
                    if v < 64 { low |= 1 << UInt64(v) } else { high |= 1 << UInt64(v - 64) }
                }
            }
            if r.upperBound >= 128 { ranges.append(max(r.lowerBound, 128)...r.upperBound) }
        }
    }

    /// Every range of the set, ASCII included.
    var allRanges: [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var start: UInt32? = nil
        for v in UInt32(0)..<128 {
            if contains(v) {
                if start == nil { start = v }
            } else if let s = start {
                result.append(s...(v - 1))
                start = nil
            }
        }
        if let s = start { result.append(s...127) }
        for r in ranges {
            if let last = result.last, last.upperBound == 127, r.lowerBound == 128 {
                result[result.count - 1] = last.lowerBound...r.upperBound
            } else {
                result.append(r)
            }
        }
        return result
    }

    /// The scalars (code points up to U+10FFFF) not in the set.
    var complement: ScalarSet {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in allRanges {
            if r.lowerBound > next { result.append(next...(r.lowerBound - 1)) }
            next = r.upperBound + 1
        }
        if next <= 0x10FFFF { result.append(next...0x10FFFF) }
        return ScalarSet(result)
    }

    func union(_ other: ScalarSet) -> ScalarSet { ScalarSet(allRanges + other.allRanges) }

    @inline(__always)
    func contains(_ v: UInt32) -> Bool {
        if v < 64 { return low & (1 << UInt64(v)) != 0 }
        if v < 128 { return high & (1 << UInt64(v - 64)) != 0 }
        for r in ranges {
            if v < r.lowerBound { return false }
            if v <= r.upperBound { return true }
        }
        return false
    }

    static let digits = ScalarSet([48...57])
    static let word = ScalarSet([48...57, 65...90, 95...95, 97...122])
    /// ICU's `\s`: the Unicode `White_Space` property.
    static let space = ScalarSet([
        0x09...0x0D, 0x20...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ])
}

/// A parsed pattern of the subset.
indirect enum PatternTree {
    case set(ScalarSet)
    case atStart, atEnd
    case sequence([PatternTree])
    case alternation([PatternTree])
    /// `max` nil: unbounded.
    case repeated(PatternTree, min: Int, max: Int?)

    /// Whether the tree matches the empty text (anchors do, where they hold).
    var isNullable: Bool {
        switch self {
        case .set: false
        case .atStart, .atEnd: true
        case .sequence(let terms): terms.allSatisfy(\.isNullable)
        case .alternation(let branches): branches.contains(where: \.isNullable)
        case .repeated(let atom, let min, _): min == 0 || atom.isNullable
        }
    }
}

/// Reads a pattern of the subset (ECMA-262 syntax); nil at anything outside it.
struct PatternParser {
    let text: [Unicode.Scalar]
    var i = 0

    init(_ text: [Unicode.Scalar]) { self.text = text }

    var peek: Unicode.Scalar? { i < text.count ? text[i] : nil }

    mutating func parse() -> PatternTree? {
        guard let tree = alternation(), i == text.count else { return nil }
        return tree
    }

    mutating func alternation() -> PatternTree? {
        var branches: [PatternTree] = []
        while true {
            guard let branch = sequence() else { return nil }
            branches.append(branch)
            guard peek == "|" else { break }
            i += 1
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func sequence() -> PatternTree? {
        var terms: [PatternTree] = []
        while let c = peek, c != "|", c != ")" {
            guard let term = term() else { return nil }
            terms.append(term)
        }
        return .sequence(terms)
    }

    mutating func term() -> PatternTree? {
        guard let c = peek else { return nil }
        let atom: PatternTree
        switch c {
        case "^":
            i += 1
            return isQuantifier ? nil : .atStart
        case "$":
            i += 1
            return isQuantifier ? nil : .atEnd
        case "(":
            i += 1
            if peek == "?" {
                guard i + 1 < text.count, text[i + 1] == ":" else { return nil }
                i += 2
            }
            guard let inner = alternation(), peek == ")" else { return nil }
            i += 1
            atom = inner
        case "[":
            guard let set = characterClass() else { return nil }
            atom = .set(set)
        case "\\":
            i += 1
            guard let set = escape(inClass: false) else { return nil }
            atom = .set(set)
        case ".", "*", "+", "?", "{", "}", "]", ")", "|":
            return nil
        default:
            guard Self.isPlainLiteral(c) else { return nil }
            i += 1
            atom = .set(ScalarSet([c.value...c.value]))
        }
        return quantified(atom)
    }

    var isQuantifier: Bool {
        guard let c = peek else { return false }
        return c == "*" || c == "+" || c == "?" || c == "{"
    }

    mutating func quantified(_ atom: PatternTree) -> PatternTree? {
        guard isQuantifier else { return atom }
        // ICU gives its own verdicts where a repeated group can match the empty text
        // (`^(?:a||/)+?$` does not match "/"): such patterns are left to it.
        guard !atom.isNullable, let c = peek else { return nil }
        var result: PatternTree
        switch c {
        case "*":
            i += 1
            result = .repeated(atom, min: 0, max: nil)
        case "+":
            i += 1
            result = .repeated(atom, min: 1, max: nil)
        case "?":
            i += 1
            result = .repeated(atom, min: 0, max: 1)
        case "{":
            i += 1
            guard let low = number() else { return nil }
            var high: Int? = low
            if peek == "," {
                i += 1
                high = peek == "}" ? nil : number()
                if high == nil && peek != "}" { return nil }
            }
            guard peek == "}" else { return nil }
            i += 1
            if let high, high < low { return nil }
            result = .repeated(atom, min: low, max: high)
        default:
            return atom
        }
        // Lazy (`*?`) gives the same verdict; possessive (ICU's `*+`) or a second quantifier does not.
        if peek == "?" { i += 1 }
        if isQuantifier || peek == "+" { return nil }
        return result
    }

    mutating func number() -> Int? {
        var value = 0
        var digits = 0
        while let c = peek, ("0"..."9").contains(c) {
            value = value * 10 + Int(c.value - 48)
            digits += 1
            i += 1
            guard value <= 1000 else { return nil }
        }
        return digits > 0 ? value : nil
    }

    /// After a backslash: a class escape or an escaped character.
    mutating func escape(inClass: Bool) -> ScalarSet? {
        guard let c = peek else { return nil }
        i += 1
        switch c {
        case "d": return .digits
        case "D": return ScalarSet.digits.complement
        case "w": return .word
        case "W": return ScalarSet.word.complement
        case "s": return .space
        case "S": return ScalarSet.space.complement
        case "t": return ScalarSet([9...9])
        case "n": return ScalarSet([10...10])
        case "r": return ScalarSet([13...13])
        case "f": return ScalarSet([12...12])
        case "u":
            guard i + 4 <= text.count else { return nil }
            let hex = String(String.UnicodeScalarView(text[i..<(i + 4)]))
            guard hex.unicodeScalars.allSatisfy(\.properties.isASCIIHexDigit), let value = UInt32(hex, radix: 16),
                !(0xD800...0xDFFF).contains(value)
            else { return nil }
            i += 4
            return ScalarSet([value...value])
        case "^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "/", "-":
            return ScalarSet([c.value...c.value])
        default:
            return nil
        }
    }

    /// One scalar of a class (for ranges), or a class escape as a set.
    enum ClassAtom {
        case scalar(UInt32)
        case set(ScalarSet)
    }

    mutating func classAtom() -> ClassAtom? {
        guard let c = peek else { return nil }
        switch c {
        case "\\":
            i += 1
            let start = i
            guard let set = escape(inClass: true) else { return nil }
            // A single escaped character can bound a range; a class escape cannot.
            if let only = set.allRanges.first, set.allRanges.count == 1, only.lowerBound == only.upperBound,
                !(text[start] == "d" || text[start] == "w" || text[start] == "s")
            {
                return .scalar(only.lowerBound)
            }
            return .set(set)
        case "[", "]", "{", "}":
            return nil
        case "&", "-":
            // ICU's set operators `&&` and `--`.
            if i + 1 < text.count, text[i + 1] == c { return nil }
            i += 1
            return .scalar(c.value)
        default:
            guard Self.isPlainLiteral(c) else { return nil }
            i += 1
            return .scalar(c.value)
        }
    }

    /// Whether a scalar written as itself is surely read as itself by both engines: not a
    /// control character, nor white space that a pattern syntax may skip (the space excepted).
    static func isPlainLiteral(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        return c.value >= 0x20 && !(0x7F...0x9F).contains(c.value) && !c.properties.isPatternWhitespace
    }

    /// `[…]` or `[^…]`.
    mutating func characterClass() -> ScalarSet? {
        i += 1
        var negated = false
        if peek == "^" {
            negated = true
            i += 1
        }
        // ICU's POSIX-like `[:name:]`, and empty classes (`[]`, `[^]`), are left to ICU.
        guard let first = peek, first != "]", first != ":" else { return nil }
        var ranges: [ClosedRange<UInt32>] = []
        var set = ScalarSet([])
        while let c = peek, c != "]" {
            guard let low = classAtom() else { return nil }
            switch low {
            case .set(let s):
                set = set.union(s)
                if peek == "-", i + 1 < text.count, text[i + 1] != "]" { return nil }
            case .scalar(let a):
                if peek == "-", i + 1 < text.count, text[i + 1] != "]" {
                    i += 1
                    guard case .scalar(let b)? = classAtom(), a <= b else { return nil }
                    ranges.append(a...b)
                    // A hyphen right after a range is left to the engines.
                    if peek == "-", i + 1 < text.count, text[i + 1] != "]" { return nil }
                } else {
                    ranges.append(a...a)
                }
            }
        }
        guard peek == "]" else { return nil }
        i += 1
        let all = set.union(ScalarSet(ranges))
        return negated ? all.complement : all
    }
}

/// Turns a parsed pattern into automaton instructions.
struct ProgramBuilder {
    var ops: [ScalarPattern.Op] = []
    var sets: [ScalarSet] = []

    /// Emits `tree`; false once the program grows past ``ScalarPattern/maxOps``.
    mutating func emit(_ tree: PatternTree) -> Bool {
        guard ops.count < ScalarPattern.maxOps else { return false }
        switch tree {
        case .set(let set):
            if sets.firstIndex(of: set) == nil { sets.append(set) }
            ops.append(.consume(low: set.low, high: set.high, set: sets.firstIndex(of: set)!))
        case .atStart: ops.append(.atStart)
        case .atEnd: ops.append(.atEnd)
        case .sequence(let terms):
            for term in terms where !emit(term) { return false }
        case .alternation(let branches):
            // split L1, next; L1: branch; jump end; next: split L2, … ; last branch.
            var jumps: [Int] = []
            for (k, branch) in branches.enumerated() {
                if k < branches.count - 1 {
                    let split = ops.count
                    ops.append(.split(split + 1, -1))
                    guard emit(branch) else { return false }
                    jumps.append(ops.count)
                    ops.append(.jump(-1))
                    ops[split] = .split(split + 1, ops.count)
                } else {
                    guard emit(branch) else { return false }
                }
            }
            for j in jumps { ops[j] = .jump(ops.count) }
        case .repeated(let atom, let min, let max):
            for _ in 0..<min where !emit(atom) { return false }
            if let max {
                // Optional copies: split in, skip-all.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(ops.count)
                    ops.append(.split(ops.count + 1, -1))
                    guard emit(atom) else { return false }
                }
                for s in splits { ops[s] = .split(s + 1, ops.count) }
            } else {
                // L: split body, end; body; jump L.
                let loop = ops.count
                ops.append(.split(loop + 1, -1))
                guard emit(atom) else { return false }
                ops.append(.jump(loop))
                ops[loop] = .split(loop + 1, ops.count)
            }
        }
        return true
    }
}

/// A compiled `pattern` (or a `patternProperties` name): matched by ``ScalarPattern`` where the
/// pattern is of its subset, else by the regular expression.
struct SchemaPattern {
    /// Always compiled, so a pattern is refused exactly when the regular expression is.
    let regex: NSRegularExpression
    let scalar: ScalarPattern?

    init(_ pattern: String) throws {
        regex = try NSRegularExpression(pattern: ecmaToICU(pattern))
        scalar = ScalarPattern(pattern)
    }

    /// Whether the pattern matches somewhere in the text.
    func matches(_ text: String) -> Bool {
        if let scalar { return scalar.matches(text) }
        return Self.search(regex, text)
    }

    /// Whether the pattern matches somewhere in the UTF-8 text.
    func matches(utf8 text: UnsafeBufferPointer<UInt8>) -> Bool {
        if let scalar { return scalar.matches(utf8: text) }
        return Self.search(regex, String(decoding: text, as: UTF8.self))
    }

    /// The regular expression's verdict.
    static func search(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
