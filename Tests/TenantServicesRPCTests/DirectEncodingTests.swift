import Foundation
import JanssonJSON
import PropertyBased
import TenantServicesTesting
import Testing

@testable import TenantServices
@testable import TenantServicesRPC

/// The views written straight into jansson (`DirectlyEncoded`) give the bytes their `Codable`
/// conformance gives through `JSONValueEncoder`.
@Suite struct DirectEncodingTests {
    /// Both encodings of one result, serialized.
    static func bothEncodings<R: Encodable & DirectlyEncoded>(_ result: R) throws -> (direct: String, codable: String) {
        (result.json.text(), try JSONValueEncoder().encode(result).text())
    }

    /// Tenants the workflows do not make: CRM imports without a contact, with external IDs and
    /// products, a contact with a phone and an invoice reference, a German address.
    static func addUnusualTenants(to world: WorldBuilder, partner: String) throws {
        let address = Address(street: "Hauptstrasse 5", postalCode: "10115", city: "Berlin", country: "DE")
        _ = try world.portal.perform(
            TenantImport(
                partnerId: partner,
                tenants: [
                    .init(name: "CRM Eins", address: address, externalId: "crm-1", products: ["MAIL", "ARCHIVE"]),
                    .init(
                        name: "CRM \"Zwei\" \u{1}", address: address, contact: Contact(email: "a@b.de", phone: "+49 1"),
                        externalId: nil, products: []),
                ]), as: .platformOperator())
        _ = try world.portal.perform(
            TenantCreate(
                partnerId: partner, name: "Zürich Ä/ö\\", contact: Contact(email: "it@z.ch", phone: "+41 44 1"),
                address: Address(street: "S 1", postalCode: "8001", city: "Zürich", country: "LI"),
                invoiceReference: "PO-7"), as: .platformOperator())
    }

    /// Over generated workflows (with discounts without a reason on top), every tenant.get,
    /// tenant.list, tenant.create and tenant.update result that each actor sees encodes the same
    /// both ways.
    @Test func directViewsEncodeAsCodableOverGeneratedWorkflows() async throws {
        await propertyCheck(count: 12, input: Generators.operations(count: 1...40)) { steps in
            do {
                let world = try WorldBuilder(clock: TestClock("2026-11-18"))
                let partner = try world.partner("Muster IT")
                let tenant = try world.tenant("Muster AG", of: partner)
                try world.domain(
                    "muster.ch", of: tenant, options: ["SC-F-OUTBOUND"], status: .provisioned,
                    users: [.signEncrypt: 2, .signOnly: 1])
                try Self.addUnusualTenants(to: world, partner: partner)
                let actors = [
                    world.actor(.sales, of: partner), world.actor(.tech, of: partner), .platformOperator(),
                    world.actor(.all, of: partner), world.actor(.tenantAll, of: partner, tenant: tenant),
                ]
                for (i, step) in steps.enumerated() {
                    step.run(in: world, actors: actors)
                    if i % 5 == 0, let domain = world.domains.last {
                        // A discount without a reason, on whatever service the domain has.
                        let view = try world.portal.perform(DomainGet(domainId: domain), as: .platformOperator())
                        if let code = view.domain.services.last?.code {
                            _ = try? world.portal.perform(
                                ServiceSetDiscount(domainId: domain, service: code, percent: 12.34, reason: nil),
                                as: .platformOperator())
                        }
                    }
                }
                var compared = 0
                let ids = try world.portal.perform(TenantList(), as: .platformOperator()).tenants.map(\.id)
                for actor in actors {
                    if let list = try? world.portal.perform(TenantList(limit: 2), as: actor) {
                        let (direct, codable) = try Self.bothEncodings(list)
                        #expect(direct == codable)
                    }
                    for id in ids {
                        guard let result = try? world.portal.perform(TenantGet(tenantId: id), as: actor) else {
                            continue
                        }
                        let (direct, codable) = try Self.bothEncodings(result)
                        #expect(direct == codable, "tenant.get \(id) as \(actor.id)")
                        compared += 1
                    }
                }
                #expect(compared > 0)
                let created = try world.portal.perform(
                    TenantCreate(
                        partnerId: partner, name: "Neu", contact: Contact(email: "n@n.ch"),
                        address: Address(street: "S", postalCode: "1", city: "C", country: "CH")),
                    as: .platformOperator())
                let (direct, codable) = try Self.bothEncodings(created)
                #expect(direct == codable)
                let updated = try world.portal.perform(
                    TenantUpdate(tenantId: created.tenant.id, name: "Neu 2"), as: .platformOperator())
                let (directUpdate, codableUpdate) = try Self.bothEncodings(updated)
                #expect(directUpdate == codableUpdate)
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    /// Non-finite and fractional numbers and empty strings and arrays, where jansson's and
    /// the encoder's choices could differ.
    @Test func edgeValuesEncodeAsCodable() throws {
        let view = ServiceView(
            number: 3, code: "", name: "", status: .cancelled, orderedAt: "", confirmedAt: nil, provisionedAt: "x",
            billingStart: CivilDate("2026-12-01"), endDate: nil,
            discount: DiscountView(percent: .nan, reason: .nfr, label: ""))
        for percent in [Double.nan, .infinity, 0.1, 1e300, -0.0, 12.5] {
            var service = view
            service.discount?.percent = percent
            #expect(
                service.json.text() == (try JSONValueEncoder().encode(service).text()), "percent \(percent)")
        }
    }
}
