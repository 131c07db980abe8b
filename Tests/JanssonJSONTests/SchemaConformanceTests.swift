import Foundation
import JanssonJSON
import Testing

/// The official JSON-Schema-Test-Suite, draft 2020-12, file by file.
@Suite struct SchemaConformanceTests {
    static let suite = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/JSON-Schema-Test-Suite")

    /// Files left out, with the reason.
    static let skipped: [String: String] = [:]

    static let requiredFiles: [String] = {
        let dir = suite.appendingPathComponent("tests/draft2020-12")
        return (try! FileManager.default.contentsOfDirectory(atPath: dir.path)).filter { $0.hasSuffix(".json") }
            .sorted()
    }()

    static let formatFiles = ["date", "date-time", "time", "email", "hostname", "ipv4", "ipv6", "uuid"].map {
        "optional/format/\($0).json"
    }

    static let loadOptions = JSONParseOptions(rejectDuplicateKeys: true, allowNUL: true)

    /// Remotes as `http://localhost:1234/…` plus the 2020-12 meta-schemas.
    static let registry: SchemaRegistry = {
        var registry = SchemaRegistry()
        let remotes = suite.appendingPathComponent("remotes")
        let enumerator = FileManager.default.enumerator(atPath: remotes.path)!
        while let path = enumerator.nextObject() as? String {
            guard path.hasSuffix(".json") else { continue }
            let data = try! Data(contentsOf: remotes.appendingPathComponent(path))
            registry.add(try! JSONValue.parse(data, options: loadOptions), uri: "http://localhost:1234/" + path)
        }
        let meta = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Schemas/meta")
        for name in [
            "schema", "core", "applicator", "unevaluated", "validation", "meta-data", "format-annotation",
            "format-assertion", "content",
        ] {
            let value = try! JSONValue.parse(
                Data(contentsOf: meta.appendingPathComponent(name + ".json")), options: loadOptions)
            registry.add(value, uri: value["$id"]!.stringValue!)
        }
        return registry
    }()

    struct Tally: CustomStringConvertible {
        var passed = 0, failed = 0
        var failures: [String] = []
        var description: String { "\(passed) passed, \(failed) failed" }
    }

    static func run(_ file: String, assertFormats: Bool) throws -> Tally {
        let data = try Data(contentsOf: suite.appendingPathComponent("tests/draft2020-12/" + file))
        let groups = try JSONValue.parse(data, options: loadOptions)
        var tally = Tally()
        for group in groups.elements {
            let description = group["description"]!.stringValue!
            let schema: JSONSchema
            do {
                schema = try JSONSchema(
                    group["schema"]!, registry: registry, options: SchemaOptions(assertFormats: assertFormats))
            } catch {
                tally.failed += group["tests"]!.count
                tally.failures.append("\(description): schema did not compile: \(error)")
                continue
            }
            for test in group["tests"]!.elements {
                let expected = test["valid"]!.boolValue!
                let errors = schema.validate(test["data"]!)
                if errors.isEmpty == expected {
                    tally.passed += 1
                } else {
                    tally.failed += 1
                    tally.failures.append(
                        "\(description) / \(test["description"]!.stringValue!): expected \(expected ? "valid" : "invalid")\(errors.isEmpty ? "" : ", got \(errors)")"
                    )
                }
            }
        }
        return tally
    }

    @Test(arguments: requiredFiles)
    func required(file: String) throws {
        if let reason = Self.skipped[file] {
            print("conformance \(file): skipped (\(reason))")
            return
        }
        let tally = try Self.run(file, assertFormats: false)
        print("conformance \(file): \(tally)")
        #expect(tally.failed == 0, "\(file): \(tally.failures.joined(separator: "\n"))")
    }

    @Test(arguments: formatFiles)
    func formats(file: String) throws {
        let tally = try Self.run(file, assertFormats: true)
        print("conformance \(file): \(tally)")
        #expect(tally.failed == 0, "\(file): \(tally.failures.joined(separator: "\n"))")
    }
}
