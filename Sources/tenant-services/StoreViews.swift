public import ArgumentParser
import Foundation
import TenantServices
import TenantServicesFileStore
import TenantServicesPostgres

/// Read-only views of a store for people: they neither lock nor change it, so they work while a
/// server is running on the same directory.
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Read-only views of a store: tenants, one tenant, open tasks, a statement, an offer.",
        discussion: "Views read the store without locking or changing it, also while a server runs on it.",
        subcommands: [Tenants.self, Tenant.self, Tasks.self, Statement.self, Offer.self])
}

/// A refusal of the command line itself, printed as "Error: …" without the usage text.
struct Refusal: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Which store to read and as whom.
struct StoreViewOptions: ParsableArguments {
    @OptionGroup var options: GlobalOptions
    @OptionGroup var location: StoreOptions
    @Option(help: "See the store as this partner's administrator (default: the platform operator).")
    var partner: String?

    var actor: Principal {
        partner.map { Principal(id: "cli-\($0)", kind: .partnerAdmin, partnerId: $0, roles: [.ALL]) }
            ?? .platformOperator(id: "cli")
    }

    /// The portal over the store, read-only.
    func portal() throws -> Portal {
        options.bootstrap()
        var isDirectory: ObjCBool = false
        let store = location.store
        guard
            PostgresLocation.isURL(store)
                || (FileManager.default.fileExists(atPath: store, isDirectory: &isDirectory) && isDirectory.boolValue)
        else {
            throw Refusal("there is no store at \(store); name one with --store DIR or --store postgresql://…")
        }
        let progress = ProgressLine(forced: options.progress)
        let portal = try Portal(
            calendar: try location.calendar(), store: try openBackend(store, progress: progress, mode: .readOnly))
        progress.finish("loaded \(portal.journal.count.formatted()) events from \(location.storeName)")
        return portal
    }

    /// Every page of a paginated view.
    func all<Item>(_ page: (String?) throws -> (items: [Item], next: String?)) rethrows -> [Item] {
        var items: [Item] = []
        var cursor: String?
        repeat {
            let result = try page(cursor)
            items += result.items
            cursor = result.next
        } while cursor != nil
        return items
    }
}

extension ViewCommand {
    struct Tenants: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tenants: name, ID, managed domains, services.")
        @OptionGroup var view: StoreViewOptions
        @Option(help: "Only tenants whose name, ID, external ID or domain matches.") var query: String?

        func run() throws {
            let portal = try view.portal()
            let tenants = try view.all { cursor in
                let page = try portal.perform(TenantList(query: query, limit: 1000, cursor: cursor), as: view.actor)
                return (page.tenants, page.nextCursor)
            }
            print(PortalTables.tenants(tenants))
        }
    }

    struct Tenant: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One tenant's domains and their services.")
        @OptionGroup var view: StoreViewOptions
        @Argument(help: "The tenant's ID, such as T1.") var tenantId: String

        func run() throws {
            let result = try view.portal().perform(TenantGet(tenantId: tenantId), as: view.actor)
            let t = result.tenant
            print(printable("\(t.name) (\(t.id)), \(t.address.city) \(t.address.country), billed in \(t.currency)"))
            for domain in result.domains { print("\n" + PortalTables.domain(domain)) }
            if result.domains.isEmpty { print("\nNo domains.") }
        }
    }

    struct Tasks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open tasks: the DNS records to set.")
        @OptionGroup var view: StoreViewOptions
        @Option(help: "Only this tenant's tasks.") var tenant: String?

        func run() throws {
            let portal = try view.portal()
            let tasks = try view.all { cursor in
                let page = try portal.perform(
                    TaskList(tenantId: tenant, status: .open, limit: 1000, cursor: cursor), as: view.actor)
                return (page.tasks, page.nextCursor)
            }
            print(tasks.isEmpty ? "No open tasks." : PortalTables.tasks(tasks))
        }
    }

    struct Statement: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A month's usage statement, as a table or CSV.")
        @OptionGroup var view: StoreViewOptions
        @Argument(help: "The month, such as 2026-11.") var month: String
        @Flag(help: "Print CSV instead of a table.") var csv = false

        func validate() throws { _ = try statementMonth() }

        /// The month argument, checked.
        func statementMonth() throws -> Month {
            guard let month = Month(month) else { throw ValidationError("'\(month)' is not a month such as 2026-11") }
            return month
        }

        func run() throws {
            let month = try statementMonth()
            let portal = try view.portal()
            let progress = ProgressLine(forced: view.options.progress)
            let statement = try portal.perform(
                BillingStatement(month: month, format: csv ? .csv : nil), as: view.actor)
            progress.finish("computed the statement for \(month): \(statement.lines.count.formatted()) lines")
            if csv {
                print(printable(statement.csv ?? "", keepingLineBreaks: true), terminator: "")
            } else {
                print(PortalTables.statement(statement))
            }
        }
    }

    struct Offer: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Render an offer to a file.")
        @OptionGroup var view: StoreViewOptions
        @Argument(help: "The offer's ID, such as O1.") var offerId: String
        @Option(help: "markdown or html.") var format: OfferRender.Format = .markdown
        @Option(help: "The file to write.") var output: String

        func run() throws {
            let document = try view.portal().perform(OfferRender(offerId: offerId, format: format), as: view.actor)
                .document
            try Data(document.utf8).write(to: URL(fileURLWithPath: output))
            print("wrote \(output)")
        }
    }
}

extension OfferRender.Format: ExpressibleByArgument {}
