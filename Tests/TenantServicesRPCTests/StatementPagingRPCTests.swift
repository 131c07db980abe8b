import Foundation
import JSONRPC
import JanssonJSON
import TenantServices
import TenantServicesRPC
import Testing

/// `billing.statement` pages over JSON-RPC (issue 17): checked against the result schema.
@Suite struct StatementPagingRPCTests {
    /// A partner with two tenants whose domains are deployed and have users, so the statement has lines.
    static func deployedWorld() throws -> (RPCHarness, JSONValue) {
        let rpc = try RPCHarness()
        let anna = RPCHarness.sales(roles: ["ALL"])
        _ = try rpc.call("partner.create", ["actor": RPCHarness.op, "name": "Muster IT"])
        for (t, name) in ["Muster AG", "Zweite, \"AG\""].enumerated() {
            let tenant = try rpc.call(
                "tenant.create",
                [
                    "actor": anna, "name": JSONValue(name), "contact": ["email": "it@muster.ch"],
                    "address": RPCHarness.address,
                ])
            let domain = try rpc.call(
                "domain.add",
                [
                    "actor": anna, "tenantId": tenant["tenant"]!["id"]!, "name": JSONValue("muster\(t).ch"),
                    "mode": "inline", "services": ["SC-F-OUTBOUND", "SC-SIGENC"],
                ])
            let domainId = domain["domain"]!["id"]!
            _ = try rpc.call("domain.confirm", ["actor": anna, "domainId": domainId])
            for task in try rpc.call("domain.deploy", ["actor": anna, "domainId": domainId])["tasks"]!.elements {
                _ = try rpc.call("task.complete", ["actor": anna, "taskId": task["id"]!])
            }
            _ = try rpc.call(
                "users.import",
                [
                    "actor": anna, "domainId": domainId,
                    "users": [
                        ["address": JSONValue("a@muster\(t).ch"), "protection": "signEncrypt"],
                        ["address": JSONValue("b@muster\(t).ch"), "protection": "signOnly"],
                    ],
                ])
        }
        return (rpc, anna)
    }

    /// The rule: every page matches the result schema (nextCursor a string and no totals before the
    /// last, null and totals on the last), and the pages join into the unpaged reply's lines and csv.
    @Test func pagesMatchTheResultSchemaAndJoinIntoTheStatement() throws {
        let (rpc, anna) = try Self.deployedWorld()
        let schema = rpc.resultSchemas["billing.statement"]!
        for format in ["json", "csv"] {
            let params: JSONValue = ["actor": anna, "month": "2026-11", "format": JSONValue(format)]
            let whole = try rpc.call("billing.statement", params)
            #expect(whole["nextCursor"] == nil, "an unpaged reply has no nextCursor")
            #expect(schema.validate(whole).isEmpty)
            var pages: [JSONValue] = []
            var cursor: JSONValue?
            repeat {
                var page = params.setting("limit", to: 3)
                if let cursor { page = page.setting("cursor", to: cursor) }
                let result = try rpc.call("billing.statement", page)
                #expect(schema.validate(result).isEmpty, "\(schema.validate(result))")
                pages.append(result)
                cursor = result["nextCursor"]?.stringValue.map { JSONValue($0) }
            } while cursor != nil && pages.count < 50
            let lines = pages.flatMap { $0["lines"]!.elements }
            #expect(pages.count == (whole["lines"]!.count + 2) / 3)
            #expect(pages.count > 1)
            #expect(lines == whole["lines"]!.elements)
            #expect(pages.dropLast().allSatisfy { $0["totals"] == nil && $0["nextCursor"]?.stringValue != nil })
            #expect(pages.last?["totals"] == whole["totals"])
            #expect(pages.last?["nextCursor"] == .null)
            if format == "csv" {
                #expect(pages.compactMap { $0["csv"]?.stringValue }.joined() == whole["csv"]?.stringValue)
            }
        }
    }

    /// The result schema itself refuses a page before the last with totals, and a last page or an
    /// unpaged reply without them.
    @Test func theResultSchemaPutsTotalsOnTheLastPageOnly() throws {
        let schema = try SchemaSet.embedded.resultSchema(for: "billing.statement")
        let totals: JSONValue = [["currency": "CHF", "total": 100]]
        let middle: JSONValue = ["month": "2026-11", "lines": [], "nextCursor": "s1.x"]
        #expect(schema.validate(middle).isEmpty)
        #expect(!schema.validate(middle.setting("totals", to: totals)).isEmpty)
        let last: JSONValue = ["month": "2026-11", "lines": [], "nextCursor": .null]
        #expect(!schema.validate(last).isEmpty)
        #expect(schema.validate(last.setting("totals", to: totals)).isEmpty)
        #expect(!schema.validate(["month": "2026-11", "lines": []]).isEmpty)
    }

    /// The rule: an altered cursor, a cursor over the limit or another actor's cursor is -32602
    /// (`invalid-params`); a write to the statement between pages is 1002 (`conflict`).
    @Test func badCursorsAreInvalidParamsAndAWriteBetweenPagesIsAConflict() throws {
        let (rpc, anna) = try Self.deployedWorld()
        let params: JSONValue = ["actor": anna, "month": "2026-11", "limit": 2]
        let first = try rpc.call("billing.statement", params)
        let cursor = try #require(first["nextCursor"]?.stringValue)
        let altered = try rpc.fail("billing.statement", params.setting("cursor", to: JSONValue(cursor + "x")))
        #expect(altered["code"]?.intValue == -32602)
        #expect(altered["data"]?["reason"]?.stringValue == "invalid-params")
        #expect(altered["message"]?.stringValue?.contains("altered") == true)
        let tooMany = try rpc.fail("billing.statement", params.setting("limit", to: 10_001))
        #expect(tooMany["code"]?.intValue == -32602)
        let other = RPCHarness.sales("P2", roles: ["ALL"])
        let foreign = try rpc.fail(
            "billing.statement", ["actor": other, "month": "2026-11", "cursor": JSONValue(cursor)])
        #expect(foreign["code"]?.intValue == -32602)
        #expect(foreign["message"]?.stringValue?.contains("another statement") == true)
        let tenants = try rpc.call("tenant.list", ["actor": anna])["tenants"]!
        _ = try rpc.call(
            "tenant.update", ["actor": anna, "tenantId": tenants[0]!["id"]!, "invoiceReference": "PO-2"])
        let conflict = try rpc.fail("billing.statement", params.setting("cursor", to: JSONValue(cursor)))
        #expect(conflict["code"]?.intValue == 1002)
        #expect(conflict["data"]?["reason"]?.stringValue == "conflict")
    }
}
