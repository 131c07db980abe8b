import Foundation
import Testing

@testable import JanssonJSON

/// `validate(_:keepingAtMost:)` first asks for the verdict alone (no paths, no messages) and
/// walks again for the errors only when the instance is invalid: its report is the one pass's
/// report, errors, order and count, on every instance of the JSON Schema test suite.
@Suite struct VerdictFirstTests {
    @Test(arguments: SchemaConformanceTests.requiredFiles + SchemaConformanceTests.formatFiles)
    func reportIsTheOnePassReport(file: String) throws {
        let url = SchemaConformanceTests.suite.appendingPathComponent("tests/draft2020-12").appendingPathComponent(file)
        let groups = try JSONValue.parse(Data(contentsOf: url), options: SchemaConformanceTests.loadOptions)
        for group in groups.elements {
            let options = SchemaOptions(assertFormats: file.hasPrefix("optional/format/"))
            guard
                let schema = try? JSONSchema(
                    group["schema"]!, registry: SchemaConformanceTests.registry, options: options)
            else { continue }
            for test in group["tests"]!.elements {
                let data = test["data"]!
                for limit in [Int.max, 1, 0] {
                    #expect(
                        schema.validate(data, keepingAtMost: limit) == schema.report(data, keepingAtMost: limit),
                        "\(file): \(group["description"]!.stringValue!) / \(test["description"]!.stringValue!)")
                }
            }
        }
    }
}
