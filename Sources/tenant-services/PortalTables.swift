import Foundation
import TenantServices

/// The portal's views as aligned text tables, shared by the demo and the store views.
enum PortalTables {
    /// Tenants: Name, ID, Managed domains, Total services.
    static func tenants(_ tenants: [TenantView]) -> String {
        table(
            ["Name", "ID", "Managed domains", "Total services"],
            tenants.map { [$0.name, $0.id, String($0.managedDomains), String($0.totalServices)] })
    }

    /// One domain: a title line, then Number, Service, Status, Billing start, Discount.
    static func domain(_ domain: DomainView) -> String {
        let title =
            "\(domain.name) (\(domain.id), mode \(domain.mode?.rawValue ?? "–"), users \(domain.users.total)"
            + (domain.confidential ? ", confidential" : "") + ")"
        return printable(title) + "\n"
            + table(
                ["Number", "Service", "Status", "Billing start", "Discount"],
                domain.services.map {
                    [
                        String($0.number), $0.code, $0.status.rawValue, $0.billingStart?.description ?? "–",
                        $0.discount?.label ?? "–",
                    ]
                })
    }

    /// Tasks: ID, Domain, Service, Kind, Record, Status.
    static func tasks(_ tasks: [TaskView]) -> String {
        table(
            ["ID", "Domain", "Service", "Kind", "Record", "Status"],
            tasks.map {
                [
                    $0.id, $0.domainId, $0.service, $0.kind.rawValue,
                    "\($0.record.type) \($0.record.name) → \($0.record.value)", $0.status.rawValue,
                ]
            })
    }

    /// A statement's lines and its totals per currency.
    static func statement(_ statement: BillingStatement.Response) -> String {
        table(
            ["Tenant", "Domain", "Service", "Quantity", "Unit price", "Discount", "Total"],
            statement.lines.map {
                [
                    $0.tenantName, $0.domain, $0.service, String($0.quantity), money($0.unitPrice),
                    $0.discount?.label ?? "–", "\($0.currency) \(money($0.total))",
                ]
            }) + "\n"
            + (statement.totals ?? []).map { "Total \(printable($0.currency)) \(money($0.total))" }.joined(
                separator: "\n")
    }
}

func money(_ minor: Int) -> String { String(format: "%d.%02d", minor / 100, minor % 100) }

/// Left-aligned columns separated by two spaces, with a rule under the header; control
/// characters in cells are escaped (``printable(_:keepingLineBreaks:)``).
func table(_ header: [String], _ rows: [[String]]) -> String {
    let header = header.map { printable($0) }
    let rows = rows.map { $0.map { printable($0) } }
    let all = [header] + rows
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    func line(_ row: [String]) -> String {
        row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
        .joined(separator: "\n")
}
