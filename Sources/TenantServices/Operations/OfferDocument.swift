import Foundation

/// Renders offers.
enum OfferDocument {
    static func money(_ minor: Int, _ currency: String) -> String {
        "\(currency) \(minor / 100).\(String(format: "%02d", minor % 100))"
    }

    static func markdown(_ o: OfferView, partner: String, customer: String, address: Address?) -> String {
        var s = "# Offer \(o.id)\n\n"
        s += "**From:** \(partner)  \n**For:** \(customer)"
        if let a = address { s += "  \n\(a.street), \(a.postalCode) \(a.city), \(a.country)" }
        s += "  \n**Valid until:** \(o.validUntil)  \n**Status:** \(o.status.rawValue)\n\n"
        if let note = o.note { s += "\(note)\n\n" }
        for line in o.lines {
            s += "## \(line.domain) (\(line.mode.rawValue) mode, \(line.users) users)\n\n"
            s += "| Service | Name | Quantity | Unit price | Discount | Monthly |\n|---|---|---:|---:|---|---:|\n"
            for sv in line.services {
                s +=
                    "| \(sv.code) | \(sv.name) | \(sv.quantity) | \(money(sv.unitPrice, o.currency)) | \(sv.discount?.label ?? "–") | \(money(sv.monthly, o.currency)) |\n"
            }
            s += "\n"
        }
        s +=
            "**Monthly total:** \(money(o.monthlyTotal, o.currency))  \n**Yearly total:** \(money(o.yearlyTotal, o.currency))\n\n"
        s += "Prices per user and month. The services are billed from the day they are live and have users.\n"
        return s
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func html(_ o: OfferView, partner: String, customer: String, address: Address?) -> String {
        let e = escape
        var s = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Offer \(e(o.id))</title>
            <style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:0 0 1.5rem}\
            th,td{border:1px solid #ccc;padding:.3rem .6rem}td.n{text-align:right}h1{margin-bottom:.2rem}</style></head><body>
            <h1>Offer \(e(o.id))</h1>
            <p><strong>From:</strong> \(e(partner))<br><strong>For:</strong> \(e(customer))
            """
        if let a = address { s += "<br>\(e(a.street)), \(e(a.postalCode)) \(e(a.city)), \(e(a.country))" }
        s += "<br><strong>Valid until:</strong> \(o.validUntil)<br><strong>Status:</strong> \(o.status.rawValue)</p>\n"
        if let note = o.note { s += "<p>\(e(note))</p>\n" }
        for line in o.lines {
            s += "<h2>\(e(line.domain)) (\(line.mode.rawValue) mode, \(line.users) users)</h2>\n"
            s +=
                "<table><tr><th>Service</th><th>Name</th><th>Quantity</th><th>Unit price</th><th>Discount</th><th>Monthly</th></tr>\n"
            for sv in line.services {
                s +=
                    "<tr><td>\(e(sv.code))</td><td>\(e(sv.name))</td><td class=\"n\">\(sv.quantity)</td><td class=\"n\">\(money(sv.unitPrice, o.currency))</td><td>\(e(sv.discount?.label ?? "–"))</td><td class=\"n\">\(money(sv.monthly, o.currency))</td></tr>\n"
            }
            s += "</table>\n"
        }
        s +=
            "<p><strong>Monthly total:</strong> \(money(o.monthlyTotal, o.currency))<br><strong>Yearly total:</strong> \(money(o.yearlyTotal, o.currency))</p>\n"
        s +=
            "<p>Prices per user and month. The services are billed from the day they are live and have users.</p>\n</body></html>\n"
        return s
    }
}
