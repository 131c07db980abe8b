import ArgumentParser
import Foundation
import TenantServices

/// Imports a CRM export into a store in batches, with progress: the command-line side of
/// `tenant.import` for big imports.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import tenants from a CRM export into a store, in batches, with progress.",
        discussion: """
            FILE is a JSON array of tenant.import entries ({"name", "address", "contact", "externalId", \
            "products"}). A tenant whose externalId is known to the partner is updated, any other is \
            created. Each batch is applied and made durable as a whole; a refused batch stops the import, \
            and the message names its first entry (the batches before it stay imported).
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The store directory, or a postgresql:// URL.") var store = "tenant-services-data"
    @Option(help: "The partner the tenants belong to, such as P1.") var partner: String
    @Option(help: "Entries per batch.") var batch = 500
    @Argument(help: "The JSON file to import.") var file: String

    func run() throws {
        options.bootstrap()
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Refusal("cannot read \(file): there is no such file, or it may not be read")
        }
        let entries: [TenantImport.Entry]
        do {
            entries = try JSONDecoder().decode([TenantImport.Entry].self, from: data)
        } catch {
            throw Refusal("\(file) is not a JSON array of tenant.import entries: \(error)")
        }
        let progress = ProgressLine(forced: options.progress)
        let portal = try Portal(store: try openBackend(store, progress: progress))
        let importer = Actor.platformOperator(id: "cli-import")
        for start in stride(from: 0, to: entries.count, by: batch) {
            let slice = Array(entries[start..<min(start + batch, entries.count)])
            do {
                _ = try portal.perform(TenantImport(partnerId: partner, tenants: slice), as: importer)
            } catch let error as PortalError {
                throw Refusal(
                    "the batch of entries \(start + 1)–\(start + slice.count) was refused: \(error.message); "
                        + "entries 1–\(start) were imported")
            }
            progress.update("importing \(file)", done: start + slice.count, total: entries.count)
        }
        progress.finish("imported \(entries.count.formatted()) entries into \(displayName(ofStore: store))")
        print("\(entries.count) tenants created or updated for partner \(partner)")
    }
}
