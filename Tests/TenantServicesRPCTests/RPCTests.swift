import Foundation
import JSONRPC
import JanssonJSON
import TenantServices
import TenantServicesFileStore
import TenantServicesRPC
import Testing

@Suite struct RPCTests {
    /// A whole ordering scenario over JSON-RPC, touching every method; every result is checked
    /// against its result schema.
    @Test func everyMethodsResultMatchesItsSchema() throws {
        let rpc = try RPCHarness()
        let op = RPCHarness.op
        let anna = RPCHarness.sales(roles: ["ALL"], expert: true)
        _ = try rpc.call("catalog.get", ["actor": anna, "locale": "de"])
        _ = try rpc.call("catalog.get", ["actor": RPCHarness.sales(roles: ["Tech"])])
        _ = try rpc.call("partner.create", ["actor": op, "name": "Muster IT"])
        _ = try rpc.call("partner.list", ["actor": op, "limit": 10])
        let tenant = try rpc.call(
            "tenant.create",
            ["actor": anna, "name": "Muster AG", "contact": ["email": "it@muster.ch"], "address": RPCHarness.address])
        let tenantId = tenant["tenant"]!["id"]!
        _ = try rpc.call(
            "tenant.update", ["actor": anna, "tenantId": tenantId, "expectedVersion": 1, "invoiceReference": "PO-1"])
        _ = try rpc.call(
            "tenant.import",
            [
                "actor": op, "partnerId": "P1",
                "tenants": [["name": "CRM AG", "address": RPCHarness.address, "externalId": "crm-1"]],
            ])
        let domain = try rpc.call(
            "domain.add",
            [
                "actor": anna, "tenantId": tenantId, "name": "muster.ch", "mode": "inline",
                "services": ["SC-F-OUTBOUND", "SC-SIGENC"],
            ])
        let domainId = domain["domain"]!["id"]!
        let manual = try rpc.call("domain.addManually", ["actor": anna, "tenantId": tenantId, "name": "müller.ch"])
        #expect(manual["domain"]?["name"]?.stringValue == "xn--mller-kva.ch")
        let check = try rpc.call("domain.check", ["actor": anna, "domainId": manual["domain"]!["id"]!])
        #expect(check["consistent"]?.boolValue == false)
        #expect(check["violations"]?[0]?["rule"]?.stringValue == "missing-mode")
        _ = try rpc.call(
            "service.add", ["actor": anna, "domainId": manual["domain"]!["id"]!, "services": ["SC-MS365"]])
        _ = try rpc.call("service.available", ["actor": anna, "domainId": domainId])
        _ = try rpc.call("domain.confirm", ["actor": anna, "domainId": domainId])
        let deployed = try rpc.call("domain.deploy", ["actor": anna, "domainId": domainId])
        #expect(deployed["tasks"]?.count == 2)
        _ = try rpc.call("task.list", ["actor": anna, "status": "open"])
        _ = try rpc.call("task.complete", ["actor": anna, "taskId": deployed["tasks"]![0]!["id"]!])
        _ = try rpc.call(
            "users.import",
            [
                "actor": anna, "domainId": domainId,
                "users": [["address": "anna@muster.ch", "protection": "signEncrypt"]],
            ])
        _ = try rpc.call("users.list", ["actor": anna, "domainId": domainId])
        _ = try rpc.call("users.remove", ["actor": anna, "domainId": domainId, "addresses": ["nobody@muster.ch"]])
        _ = try rpc.call("domain.setConfidential", ["actor": anna, "domainId": domainId, "confidential": true])
        _ = try rpc.call("domain.grantAccess", ["actor": anna, "domainId": domainId, "principalId": "u-ben"])
        _ = try rpc.call("domain.revokeAccess", ["actor": anna, "domainId": domainId, "principalId": "u-ben"])
        _ = try rpc.call("domain.get", ["actor": anna, "domainId": domainId])
        _ = try rpc.call("domain.confirm", ["actor": anna, "domainId": manual["domain"]!["id"]!])
        _ = try rpc.call("workflow.tick", ["actor": op])
        _ = try rpc.call("tenant.get", ["actor": anna, "tenantId": tenantId])
        _ = try rpc.call("tenant.list", ["actor": anna])
        _ = try rpc.call("audit.list", ["actor": anna])
        _ = try rpc.call(
            "service.setDiscount",
            ["actor": anna, "domainId": domainId, "service": "SC-SIGENC", "percent": 12.5, "reason": "nfr"])
        let dry = try rpc.call(
            "service.cancel", ["actor": anna, "domainId": domainId, "service": "SC-F-OUTBOUND", "dryRun": true])
        #expect(dry["dryRun"]?.boolValue == true)
        #expect(dry["cancelled"]?.count == 2)
        _ = try rpc.call(
            "service.cancel", ["actor": anna, "domainId": domainId, "service": "SC-SIGENC", "endDate": "2026-11-30"])
        _ = try rpc.call("service.uncancel", ["actor": anna, "domainId": domainId, "service": "SC-SIGENC"])
        let statement = try rpc.call("billing.statement", ["actor": anna, "month": "2026-11", "format": "csv"])
        #expect(statement["csv"]?.stringValue?.hasPrefix("month,tenantId,") == true)
        _ = try rpc.call("billing.statement", ["actor": anna, "month": "2026-11"])
        let early = try rpc.fail("billing.statement", ["actor": anna, "month": "2027-01"])
        #expect(early["data"]?["latest"]?.stringValue == "2026-11")
        let line: JSONValue = [
            "domain": "neu.ch", "mode": "inline", "services": ["SC-F-OUTBOUND"], "users": 10,
            "discount": ["percent": 10, "reason": "promotion"],
        ]
        let offer = try rpc.call(
            "offer.create",
            [
                "actor": anna,
                "prospect": ["name": "Neu AG", "contact": ["email": "a@neu.ch"], "address": RPCHarness.address],
                "lines": [line],
            ])
        let offerId = offer["offer"]!["id"]!
        _ = try rpc.call("offer.get", ["actor": anna, "offerId": offerId])
        _ = try rpc.call("offer.list", ["actor": anna])
        _ = try rpc.call("offer.render", ["actor": anna, "offerId": offerId, "format": "html"])
        _ = try rpc.call("offer.send", ["actor": anna, "offerId": offerId])
        _ = try rpc.call("offer.accept", ["actor": anna, "offerId": offerId])
        let second = try rpc.call(
            "offer.create", ["actor": anna, "tenantId": tenantId, "lines": [line.setting("domain", to: "zwei.ch")]])
        _ = try rpc.call("offer.decline", ["actor": anna, "offerId": second["offer"]!["id"]!])
        _ = try rpc.call("clock.set", ["actor": op, "now": "2026-12-31T22:59:00Z"])
        let now = try rpc.call("clock.get", ["actor": op])
        #expect(now["now"]?.stringValue == "2026-12-31T22:59:00Z")
        _ = try rpc.call("rpc.discover", [:])

        let seen = Set(rpc.results.map(\.0))
        #expect(
            seen == Set(SchemaSet.embedded.methodNames),
            "missing: \(Set(SchemaSet.embedded.methodNames).subtracting(seen))")
        for (method, result) in rpc.results {
            let errors = rpc.resultSchemas[method]!.validate(result)
            #expect(errors.isEmpty, "\(method): \(errors)")
        }
    }

    /// SPEC §7: every method that changes one tenant or one domain (`tenant.update`, `domain.*`,
    /// `service.*`, `users.*`) accepts `expectedVersion`; `domain.add` and `domain.addManually`
    /// compare it with the tenant's version (they refused it as an unknown param).
    @Test func everyMethodThatChangesATenantOrADomainTakesExpectedVersion() throws {
        let reads: Set = ["domain.get", "domain.check", "service.available", "users.list"]
        let changing = SchemaVerification.allMethods.filter { name in
            !reads.contains(name)
                && (name == "tenant.update" || ["domain.", "service.", "users."].contains(where: name.hasPrefix))
        }
        #expect(changing.contains("domain.add") && changing.contains("domain.addManually"))
        for method in changing {
            let schema = try #require(SchemaSet.embedded.files["methods/\(method).params.json"])
            #expect(schema["properties"]?["expectedVersion"] != nil, "\(method) takes no expectedVersion")
        }
        let rpc = try RPCHarness()
        let op = RPCHarness.op
        let partner = try rpc.call("partner.create", ["actor": op, "name": "P"])["partner"]!["id"]!
        let tenant = try rpc.call(
            "tenant.create",
            [
                "actor": op, "partnerId": partner, "name": "T", "contact": ["email": "a@b.ch"],
                "address": RPCHarness.address,
            ]
        )["tenant"]!
        let id = tenant["id"]!
        let version = tenant["version"]!.intValue!
        let expert: JSONValue = [
            "id": "u-anna", "kind": "partnerAdmin", "partnerId": partner, "roles": ["ALL"], "expertMode": true,
        ]
        let calls: [(String, JSONValue)] = [
            ("domain.add", ["actor": expert, "tenantId": id, "name": "a.ch", "mode": "inline"]),
            ("domain.addManually", ["actor": expert, "tenantId": id, "name": "b.ch"]),
        ]
        for (method, params) in calls {
            let stale = try rpc.fail(method, params.setting("expectedVersion", to: JSONValue(version + 1)))
            #expect(stale["code"]?.intValue == 1002, "\(method): \(stale)")
            #expect(stale["data"]?["reason"]?.stringValue == "conflict")
            #expect(stale["data"]?["currentVersion"]?.intValue == version)
            let added = try rpc.call(method, params.setting("expectedVersion", to: JSONValue(version)))
            #expect(added["domain"]?["tenantId"] == id)
        }
    }

    @Test func openRPCDocumentIsCurrentAndListsEveryMethod() throws {
        let committed = try #require(SchemaSet.embedded.files["openrpc.json"])
        #expect(
            committed == (try JSONValue.parse(SchemaVerification.openRPCText(for: .embedded))),
            "run `swift run tenant-services schemas write-openrpc`")
        let rpc = try RPCHarness()
        let discovered = try rpc.call("rpc.discover", [:])
        let names = discovered["methods"]!.elements.compactMap { $0["name"]?.stringValue }
        #expect(Set(names) == Set(SchemaVerification.allMethods))
        for method in discovered["methods"]!.elements {
            #expect(method["examples"]?.count == 1, "\(method["name"]!) has an example")
            #expect(method["result"]?["schema"] != nil)
        }
        let noClock = try RPCHarness(withClock: false)
        let fewer = try noClock.call("rpc.discover", [:])["methods"]!.elements.compactMap { $0["name"]?.stringValue }
        #expect(!fewer.contains("clock.get"))
    }

    @Test func schemaDirectoryVerifies() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Schemas")
        #expect(try SchemaVerification.problems(in: directory) == [])
    }

    @Test func theShippedCatalogMatchesItsSchema() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/TenantServices/Resources/catalog.json")
        let catalog = try JSONValue.parse(Data(contentsOf: url))
        #expect(try SchemaSet.embedded.catalogSchema().validate(catalog) == [])
        let broken = catalog.setting("formatVersion", to: 2)
        #expect(try SchemaSet.embedded.catalogSchema().validate(broken).map(\.instancePath) == ["/formatVersion"])
    }

    /// A catalog price is at most 1,000,000,000 minor units, so that no statement or offer total
    /// can leave the 64-bit range (a larger one would have made `billing.statement` trap).
    @Test func aCatalogPriceAboveTheCapIsRefused() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/TenantServices/Resources/catalog.json")
        let catalog = try JSONValue.parse(Data(contentsOf: url))
        let first = catalog["services"]![0]!
        func withPrice(_ price: Int64) -> JSONValue {
            let prices = first["prices"]!.setting("CHF", to: JSONValue(price))
            var services = catalog["services"]!.elements
            services[0] = first.setting("prices", to: prices)
            return catalog.setting("services", to: .array(services))
        }
        #expect(try SchemaSet.embedded.catalogSchema().validate(withPrice(1_000_000_000)) == [])
        let refused = try SchemaSet.embedded.catalogSchema().validate(withPrice(1_000_000_001))
        #expect(refused.map(\.instancePath) == ["/services/0/prices/CHF"])
        #expect(refused.map(\.keyword) == ["maximum"])
    }

    @Test func everyParamsExampleIsValid() throws {
        for method in SchemaSet.embedded.methodNames {
            let example = try #require(
                SchemaSet.embedded.files["methods/\(method).params.json"]?["examples"]?[0], "\(method)")
            #expect(try SchemaSet.embedded.paramsSchema(for: method).validate(example).isEmpty, "\(method)")
        }
    }

    @Test func clockMethodsExistOnlyWithAFixedClock() throws {
        let rpc = try RPCHarness(withClock: false)
        #expect(try rpc.fail("clock.get", ["actor": RPCHarness.op])["code"]?.intValue == -32601)
        let withClock = try RPCHarness()
        #expect(
            try withClock.fail("clock.set", ["actor": RPCHarness.sales(), "now": "2026-01-01T00:00:00Z"])["code"]?
                .intValue == 1001)
        #expect(
            try withClock.fail("clock.set", ["actor": RPCHarness.op, "now": "2026-02-30T00:00:00Z"])["code"]?.intValue
                == -32602)
    }

    @Test func paramsAreCheckedBeforeAnythingRuns() throws {
        let rpc = try RPCHarness()
        _ = try rpc.call("partner.create", ["actor": RPCHarness.op, "name": "P"])
        let unknown = try rpc.fail("tenant.list", ["actor": RPCHarness.sales(), "limt": 5])
        #expect(unknown["code"]?.intValue == -32602)
        #expect(unknown["data"]?["errors"]?[0]?["path"]?.stringValue == "/limt")
        #expect(unknown["data"]?["errors"]?[0]?["keyword"]?.stringValue == "additionalProperties")
        let badDate = try rpc.fail("clock.set", ["actor": RPCHarness.op, "now": "yesterday"])
        #expect(badDate["data"]?["reason"]?.stringValue == "invalid-params")
        let noActor = try rpc.fail("tenant.list", [:])
        #expect(noActor["data"]?["errors"]?[0]?["message"]?.stringValue == "required member 'actor' is missing")
        let partnerWithoutId = try rpc.fail("tenant.list", ["actor": ["id": "x", "kind": "partnerAdmin"]])
        #expect(partnerWithoutId["code"]?.intValue == -32602)
        let positional = try rpc.fail("tenant.list", [RPCHarness.op])
        #expect(positional["code"]?.intValue == -32602)
        #expect(
            try rpc.call("tenant.list", ["actor": RPCHarness.sales()])["tenants"]?.count == 0, "nothing was created")
    }

    @Test func domainErrorsMapToTheirCodesWithReasonAndDetails() throws {
        let rpc = try RPCHarness()
        let op = RPCHarness.op
        _ = try rpc.call("partner.create", ["actor": op, "name": "P"])
        _ = try rpc.call("partner.create", ["actor": op, "name": "Q"])
        let t = try rpc.call(
            "tenant.create",
            [
                "actor": op, "partnerId": "P1", "name": "T", "contact": ["email": "a@b.ch"],
                "address": RPCHarness.address,
            ])["tenant"]!["id"]!
        let d = try rpc.call("domain.add", ["actor": op, "tenantId": t, "name": "t.ch", "mode": "inline"])["domain"]![
            "id"]!
        func expectError(_ method: String, _ params: JSONValue, _ code: Int, _ reason: String) throws -> JSONValue {
            let error = try rpc.fail(method, params)
            #expect(error["code"]?.intValue == Int64(code), "\(method) → \(error)")
            #expect(error["data"]?["reason"]?.stringValue == reason)
            let message = error["message"]?.stringValue ?? ""
            #expect(message.count > 10)
            return error
        }
        _ = try expectError("tenant.get", ["actor": RPCHarness.sales("P2"), "tenantId": t], 1000, "not-found")
        let denied = try expectError(
            "domain.deploy", ["actor": RPCHarness.sales(), "domainId": d], 1001, "permission-denied")
        #expect(denied["data"]?["required"] == ["Tech", "ALL"])
        let stale = try expectError(
            "domain.confirm", ["actor": op, "domainId": d, "expectedVersion": 99], 1002, "conflict")
        #expect(stale["data"]?["currentVersion"]?.intValue == 1)
        let dependency = try expectError(
            "service.add", ["actor": op, "domainId": d, "services": ["SC-MS365"]], 1003, "dependency-violation")
        #expect(dependency["data"]?["violations"]?[0]?["rule"]?.stringValue == "excludes")
        _ = try expectError("domain.deploy", ["actor": op, "domainId": d], 1004, "invalid-transition")
        _ = try rpc.call(
            "tenant.create",
            [
                "actor": RPCHarness.sales(), "name": "K", "contact": ["email": "a@b.ch"], "address": RPCHarness.address,
                "requestKey": "k1",
            ])
        _ = try expectError(
            "tenant.create",
            [
                "actor": RPCHarness.sales(), "name": "L", "contact": ["email": "a@b.ch"], "address": RPCHarness.address,
                "requestKey": "k1",
            ], 1006, "request-key-reused")
        _ = try expectError(
            "domain.add", ["actor": op, "tenantId": t, "name": "gmx.ch", "mode": "inline"], 1007, "invalid-domain")
        _ = try expectError("service.add", ["actor": op, "domainId": d, "services": ["SC-NOPE"]], 1000, "not-found")
    }

    /// A retry after a restart gets the very bytes of the first reply, for calls that change
    /// something and for one that changes nothing.
    @Test func aReplayedResultIsByteIdenticalAfterARestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-keys-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let op = RPCHarness.op
        let calls: [(String, JSONValue)] = [
            ("partner.create", ["actor": op, "name": "Acme", "requestKey": "p"]),
            (
                "tenant.create",
                [
                    "actor": op, "partnerId": "P1", "name": "Muster AG", "contact": ["email": "it@muster.ch"],
                    "address": RPCHarness.address, "requestKey": "t",
                ]
            ),
            ("domain.add", ["actor": op, "tenantId": "T1", "name": "muster.ch", "mode": "inline", "requestKey": "d"]),
            (
                "tenant.import",
                [
                    "actor": op, "partnerId": "P1", "requestKey": "i",
                    "tenants": [["name": "CRM AG", "address": RPCHarness.address, "externalId": "crm-1"]],
                ]
            ),
            // Unchanged: no event, only the key is kept.
            (
                "tenant.import",
                [
                    "actor": op, "partnerId": "P1", "requestKey": "i2",
                    "tenants": [["name": "CRM AG", "address": RPCHarness.address, "externalId": "crm-1"]],
                ]
            ),
        ]
        var store = try FileStore(directory: directory)
        var rpc = try RPCHarness(store: store)
        let first = calls.enumerated().map { rpc.sendRaw($1.0, $1.1, id: $0) }
        #expect(first.allSatisfy { String(decoding: $0, as: UTF8.self).contains("\"result\"") })
        store.close()

        store = try FileStore(directory: directory)
        rpc = try RPCHarness(store: store)
        rpc.clock.set(Date(timeIntervalSince1970: 1_795_003_600))  // an hour later
        for (i, call) in calls.enumerated() {
            let again = rpc.sendRaw(call.0, call.1, id: i)
            #expect(again == first[i], "\(call.0): \(String(decoding: again, as: UTF8.self))")
        }
        #expect(try rpc.call("tenant.list", ["actor": op])["tenants"]?.count == 2)
        store.close()
    }

    @Test func requestKeyReplaysTheFirstResponse() throws {
        let rpc = try RPCHarness()
        _ = try rpc.call("partner.create", ["actor": RPCHarness.op, "name": "P", "requestKey": "once"])
        let again = try rpc.call("partner.create", ["actor": RPCHarness.op, "name": "P", "requestKey": "once"])
        #expect(again["partner"]?["id"]?.stringValue == "P1")
        #expect(try rpc.call("partner.list", ["actor": RPCHarness.op])["partners"]?.count == 1)
    }
}
