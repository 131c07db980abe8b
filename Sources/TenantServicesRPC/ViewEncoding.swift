import JanssonJSON
import TenantServices

/// A result written straight into jansson (``JSONObjectWriter``) instead of through `Codable`:
/// the views of the hottest reads and writes. Each writes exactly what its synthesized
/// `Encodable` conformance writes through ``JSONValueEncoder`` (members in declaration order,
/// absent optionals as `null`); a property test holds the two to the same bytes.
protocol DirectlyEncoded {
    func write(to object: JSONObjectWriter)
}

extension DirectlyEncoded {
    /// The result as a JSON object.
    var json: JSONValue { JSONValue.object(writing: write(to:)) }
}

extension TenantGet.Response: DirectlyEncoded {
    func write(to object: JSONObjectWriter) {
        object.setObject("tenant", tenant.write(to:))
        object.setArray("domains", of: domains) { $0.write(to: $1) }
    }
}

/// Also `tenant.update`'s result.
extension TenantCreate.Response: DirectlyEncoded {
    func write(to object: JSONObjectWriter) { object.setObject("tenant", tenant.write(to:)) }
}

extension TenantList.Response: DirectlyEncoded {
    func write(to object: JSONObjectWriter) {
        object.setArray("tenants", of: tenants) { $0.write(to: $1) }
        object.set("nextCursor", nextCursor)
    }
}

extension TenantView: DirectlyEncoded {
    func write(to object: JSONObjectWriter) {
        object.set("id", id)
        object.set("partnerId", partnerId)
        object.set("name", name)
        if let contact {
            object.setObject("contact") { c in
                c.set("email", contact.email)
                c.set("phone", contact.phone)
            }
        } else {
            object.setNull("contact")
        }
        object.setObject("address") { a in
            a.set("street", address.street)
            a.set("postalCode", address.postalCode)
            a.set("city", address.city)
            a.set("country", address.country)
        }
        object.set("invoiceReference", invoiceReference)
        object.set("source", source.rawValue)
        object.set("externalId", externalId)
        object.set("products", products)
        object.set("region", region.rawValue)
        object.set("currency", currency)
        object.set("managedDomains", managedDomains)
        object.set("totalServices", totalServices)
        object.set("version", version)
        object.set("createdAt", createdAt)
        object.set("actions", actions)
    }
}

extension DomainView: DirectlyEncoded {
    func write(to object: JSONObjectWriter) {
        object.set("id", id)
        object.set("tenantId", tenantId)
        object.set("name", name)
        object.set("mode", mode?.rawValue)
        object.set("region", region.rawValue)
        object.set("confidential", confidential)
        object.set("access", access)
        object.set("version", version)
        object.setArray("services", of: services) { $0.write(to: $1) }
        object.setObject("users") { u in
            u.set("total", users.total)
            u.set("signOnly", users.signOnly)
            u.set("signEncrypt", users.signEncrypt)
        }
        object.set("actions", actions)
    }
}

extension ServiceView: DirectlyEncoded {
    func write(to object: JSONObjectWriter) {
        object.set("number", number)
        object.set("code", code)
        object.set("name", name)
        object.set("status", status.rawValue)
        object.set("orderedAt", orderedAt)
        object.set("confirmedAt", confirmedAt)
        object.set("provisionedAt", provisionedAt)
        object.set("billingStart", billingStart?.description)
        object.set("endDate", endDate?.description)
        if let discount {
            object.setObject("discount") { d in
                d.set("percent", discount.percent)
                d.set("reason", discount.reason?.rawValue)
                d.set("label", discount.label)
            }
        } else {
            object.setNull("discount")
        }
    }
}
