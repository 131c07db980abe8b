import Foundation
import PropertyBased
import Testing

@testable import TenantServices

@Suite struct CatalogTests {
    @Test func defaultCatalogHasTheServicesOfTheSpecification() {
        let codes = Catalog.standard.services.map(\.code)
        #expect(
            codes == [
                "SC-SERVICE", "SC-F-INBOUND", "SC-MS365", "SC-F-OUTBOUND", "SC-SIGONLY", "SC-SIGENC", "SC-CERT",
                "SC-HIN",
            ])
        #expect(Catalog.standard["SC-SIGENC"]?.prices["CHF"] == 300)
        #expect(Catalog.standard["SC-HIN"]?.regions == [.CH])
    }

    /// The quick yes/no answers of `actions` and `service.add` agree with the full lists of
    /// problems for every set of standard services, in both regions.
    @Test func quickConsistencyAnswersAgreeWithTheProblems() {
        let catalog = Catalog.standard
        let codes = catalog.services.map(\.code)
        var checked = 0
        func visit(_ chosen: [String], from start: Int) {
            for region in Region.allCases {
                let quick = catalog.breaksPermanentRule(chosen, region: region)
                let full = !catalog.permanentProblems(of: chosen, region: region).isEmpty
                if quick != full { Issue.record("\(chosen) in \(region): quick \(quick), permanent problems \(full)") }
                let consistent = catalog.isConsistent(chosen, region: region)
                let none = catalog.problems(of: chosen, region: region).isEmpty
                if consistent != none {
                    Issue.record("\(chosen) in \(region): consistent \(consistent), no problems \(none)")
                }
                checked += 1
            }
            for i in start..<codes.count { visit(chosen + [codes[i]], from: i + 1) }
        }
        visit([], from: 0)
        #expect(checked == 2 << codes.count)
    }

    /// The quick answers agree with the problem lists for generated catalogs too (asymmetric and
    /// repeated exclusions, requirements and alternatives, mode and region limits on any kind of
    /// service), over generated lists of live codes with repeats and codes the catalog lacks.
    @Test func quickConsistencyAnswersAgreeWithTheProblemsForGeneratedCatalogs() throws {
        var rng = Xoshiro(seed: (0x5EED_C0DE, 1, 2, 3))
        var catalogs = 0
        var checked = 0
        while catalogs < 300 {
            let root = CatalogGenerator.json(&rng)
            let catalog = try Catalog(json: JSONSerialization.data(withJSONObject: root))
            let codes = catalog.services.map(\.code)
            let count = codes.count
            catalogs += 1
            for _ in 0..<60 {
                let chosen = (0..<Int.random(in: 0...(count + 2), using: &rng)).map { _ in
                    Int.random(in: 0..<10, using: &rng) == 0 ? "UNKNOWN" : codes.randomElement(using: &rng)!
                }
                for region in Region.allCases {
                    let quick = catalog.breaksPermanentRule(chosen, region: region)
                    let full = !catalog.permanentProblems(of: chosen, region: region).isEmpty
                    if quick != full {
                        Issue.record("\(root) \(chosen) in \(region): quick \(quick), problems \(full)")
                    }
                    let consistent = catalog.isConsistent(chosen, region: region)
                    let none = catalog.problems(of: chosen, region: region).isEmpty
                    if consistent != none {
                        Issue.record("\(root) \(chosen) in \(region): consistent \(consistent), no problems \(none)")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked == 300 * 60 * 2)
    }

    @Test func topologicalOrderPutsRequirementsFirst() {
        let catalog = Catalog.standard
        let position = Dictionary(uniqueKeysWithValues: catalog.topologicalOrder.enumerated().map { ($1, $0) })
        for service in catalog.services {
            for dep in service.requires + service.requiresAny {
                #expect(position[dep]! < position[service.code]!, "\(dep) must come before \(service.code)")
            }
        }
    }

    private func catalogJSON(editing edit: (inout [[String: Any]]) -> Void) throws -> Data {
        let url =
            Bundle.module.url(forResource: "catalog", withExtension: "json")
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../Sources/TenantServices/Resources/catalog.json")
        var root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var services = root["services"] as! [[String: Any]]
        edit(&services)
        root["services"] = services
        return try JSONSerialization.data(withJSONObject: root)
    }

    @Test func unknownCodeIsNamed() throws {
        let data = try catalogJSON { $0[3]["requires"] = ["SC-NOPE"] }
        #expect(throws: Catalog.LoadError(entry: "SC-F-OUTBOUND", message: "refers to unknown service code 'SC-NOPE'"))
        {
            try Catalog(json: data)
        }
    }

    @Test func cycleIsNamed() throws {
        let data = try catalogJSON { $0[1]["requires"] = ["SC-SERVICE", "SC-F-OUTBOUND"] }
        do {
            _ = try Catalog(json: data)
            Issue.record("a cycle must be refused")
        } catch {
            #expect(error.message.contains("dependency cycle"))
            #expect(error.message.contains("SC-F-INBOUND"))
            #expect(error.message.contains("SC-F-OUTBOUND"))
        }
    }

    @Test func duplicateCodeMissingPriceAndBrokenJSONAreRefused() throws {
        let duplicate = try catalogJSON { $0.append($0[7]) }
        #expect(throws: Catalog.LoadError(entry: "SC-HIN", message: "the code is defined twice")) {
            try Catalog(json: duplicate)
        }
        let noPrice = try catalogJSON { $0[2]["prices"] = ["CHF": 120] }
        #expect(throws: Catalog.LoadError(entry: "SC-MS365", message: "has no price in EUR")) {
            try Catalog(json: noPrice)
        }
        #expect(throws: Catalog.LoadError.self) { try Catalog(json: Data("{".utf8)) }
        let noBase = try catalogJSON { $0.removeFirst() }
        #expect(throws: Catalog.LoadError.self) { try Catalog(json: noBase) }
    }

    @Test func freeMailPatterns() {
        let catalog = Catalog.standard
        #expect(catalog.isFreeMail("gmail.com"))
        #expect(catalog.isFreeMail("gmx.ch"))
        #expect(catalog.isFreeMail("gmx.net"))
        #expect(!catalog.isFreeMail("gmx.example.ch"))
        #expect(!catalog.isFreeMail("mygmail.com"))
        #expect(catalog.isFreeMail("bluewin.ch"))
    }

    @Test(arguments: [
        (["SC-SERVICE", "SC-F-INBOUND"], [Rule]()),
        (["SC-F-INBOUND"], [.missingBase, .requires]),  // INBOUND requires the missing SC-SERVICE too
        (["SC-SERVICE"], [.missingMode]),
        (["SC-SERVICE", "SC-F-INBOUND", "SC-HIN"], [.requires]),
        (["SC-SERVICE", "SC-MS365", "SC-CERT"], [.requiresAny]),
        (["SC-SERVICE", "SC-MS365", "SC-F-INBOUND"], [.excludes]),
        (["SC-SERVICE", "SC-MS365", "SC-F-OUTBOUND"], [.requires, .mode]),
        (["SC-SERVICE", "SC-MS365", "SC-SIGONLY", "SC-SIGENC"], [.excludes]),
    ])
    func consistencyRules(codes: [String], expected: [Rule]) {
        let violations = Catalog.standard.violations(of: codes, region: .CH)
        #expect(violations.map(\.rule) == expected)
        for v in violations { #expect(!v.message.isEmpty && !v.services.isEmpty) }
    }

    @Test func regionRule() {
        let violations = Catalog.standard.violations(
            of: ["SC-SERVICE", "SC-F-INBOUND", "SC-F-OUTBOUND", "SC-HIN"], region: .DE)
        #expect(violations.map(\.rule) == [.region])
        #expect(violations[0].message.contains("region CH"))
    }
}
