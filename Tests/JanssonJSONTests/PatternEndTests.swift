import JanssonJSON
import Testing

/// ECMA-262 semantics of `$` (no `m` flag): the very end of the string, never before a final
/// line terminator (as ICU's `$` would match).
@Suite struct PatternEndTests {
    @Test(arguments: [
        ("^[a-z]+$", "abc", true), ("^[a-z]+$", "abc\n", false), ("^[a-z]+$", "abc\r\n", false),
        ("^[a-z]+$", "abc\u{85}", false), ("^[$a]+$", "a$", true), ("^\\$$", "$", true),
        ("^[^\\u0000-\\u001F]*$", "abc", true), ("^[^\\u0000-\\u001F]*$", "abc\n", false),
        ("^[^\\u0000-\\u001F]*$", "a\u{0}b", false), ("^[^\\u0000-\\u001F\\u007F]*$", "a\u{7F}", false),
    ])
    func dollarMatchesOnlyAtTheEnd(pattern: String, text: String, valid: Bool) throws {
        let schema = try JSONSchema(["pattern": JSONValue(pattern)])
        #expect(schema.isValid(JSONValue(text)) == valid, "\(pattern) on \(text.debugDescription)")
    }
}
