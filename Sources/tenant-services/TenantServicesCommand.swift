public import ArgumentParser
import Foundation
public import Logging
import TenantServices

@main
struct TenantServicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant-services",
        abstract: "Tenants, domains and booked services of a cloud e-mail security reseller portal.",
        subcommands: [
            Serve.self, Demo.self, ViewCommand.self, ImportCommand.self, CatalogCommand.self, SchemasCommand.self,
        ],
        defaultSubcommand: Demo.self)
}

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .notice
    @Flag(help: "Show progress of long work on stderr even when it is not a terminal.") var progress = false

    func bootstrap() {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "catalog", abstract: "Print the service catalog.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "A catalog JSON file to load instead of the default.") var catalog: String?

    func run() throws {
        options.bootstrap()
        let catalog = try loadCatalog(catalog)
        let rows = catalog.services.map { s in
            [
                s.code, s.name(locale: "en"), s.kind.rawValue,
                (s.requires + s.requiresAny.map { "any:\($0)" } + s.excludes.map { "not:\($0)" }).joined(
                    separator: " "),
                s.counts.rawValue,
                s.prices.sorted { $0.key < $1.key }.map { "\($0.key) \(money($0.value))" }.joined(separator: ", "),
            ]
        }
        print(table(["Code", "Name", "Kind", "Rules", "Counts", "Price"], rows))
    }
}

func loadCatalog(_ path: String?) throws -> Catalog {
    guard let path else { return .standard }
    do {
        return try Catalog(json: try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        throw ValidationError("cannot load catalog \(path): \(error)")
    }
}
