/// A value that JSON holds as its text (`2026-11-27`, `2026-11`): encoded as its `description`,
/// decoded with `init?(_:)`, and refused with a message naming the form it must have.
protocol TextCoded {
    init?(_ text: String)
    var description: String { get }
}

extension TextCoded {
    /// Decodes the value from its text; `form` names what is expected, such as "a month YYYY-MM".
    init(text decoder: any Decoder, form: String) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not \(form)"))
        }
        self = value
    }

    /// Encodes the value as its text.
    func encodeText(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension CivilDate: TextCoded {}
extension Month: TextCoded {}
