import ArgumentParser
import Foundation
import JanssonJSON
import TenantServices
import TenantServicesRPC

/// Imports a CRM export into a store in batches, with progress: the command-line side of
/// `tenant.import` for big imports.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import tenants from a CRM export into a store, in batches, with progress.",
        discussion: """
            FILE is a JSON array of tenant.import entries ({"name", "address", "contact", "externalId", \
            "products"}), each checked against tenant.import's params schema before anything is \
            imported. A tenant whose externalId is known to the partner is updated, any other is \
            created. Each batch is applied and made durable as a whole; a refused batch stops the import, \
            and the message names its first entry (the batches before it stay imported).
            """)

    @OptionGroup var options: GlobalOptions
    @OptionGroup var location: StoreOptions
    @Option(help: "The partner the tenants belong to, such as P1.") var partner: String
    @Option(help: "Entries per batch.") var batch = 500
    @Argument(help: "The JSON file to import.") var file: String

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        options.bootstrap()
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Refusal("cannot read \(file): there is no such file, or it may not be read")
        }
        let entries = try Self.entries(in: data, file: file, partner: partner)
        let progress = ProgressLine(forced: options.progress)
        let portal = try Portal(
            calendar: try location.calendar(), store: try openBackend(location.store, progress: progress))
        let importer = Principal.platformOperator(id: "cli-import")
        for start in stride(from: 0, to: entries.count, by: batch) {
            let slice = Array(entries[start..<min(start + batch, entries.count)])
            do throws(PortalError) {
                _ = try portal.perform(TenantImport(partnerId: partner, tenants: slice), as: importer)
            } catch {
                throw Refusal(
                    "the batch of entries \(start + 1)–\(start + slice.count) was refused: \(error.message); "
                        + "entries 1–\(start) were imported")
            }
            progress.update("importing \(file)", done: start + slice.count, total: entries.count)
        }
        progress.finish("imported \(entries.count.formatted()) entries into \(location.storeName)")
        print("\(entries.count) tenants created or updated for partner \(partner)")
    }

    /// The entries of a CRM export, each checked against `tenant.import`'s params schema exactly as
    /// a server checks a request, so the command accepts what the server accepts; else a refusal
    /// naming the entry (from 1) and the JSON pointer inside it.
    static func entries(in data: Data, file: String, partner: String) throws -> [TenantImport.Entry] {
        let document: JSONValue
        do {
            document = try JSONValue.parse(data, options: JSONParseOptions(rejectDuplicateKeys: true, allowNUL: true))
        } catch {
            throw Refusal("\(file) is not JSON: \(error)")
        }
        guard document.kind == .array else {
            throw Refusal("\(file) is not a JSON array of tenant.import entries")
        }
        let schema = try SchemaSet.embedded.paramsSchema(for: TenantImport.method)
        let actor: JSONValue = ["id": "cli-import", "kind": "operator"]
        var entries: [TenantImport.Entry] = []
        entries.reserveCapacity(document.count)
        let decoder = JSONValueDecoder()
        for (i, entry) in document.elements.enumerated() {
            let params: JSONValue = ["actor": actor, "partnerId": JSONValue(partner), "tenants": [entry]]
            let errors = schema.validate(params)
            if let first = errors.first {
                let inEntry = first.instancePath.hasPrefix("/tenants/0") ? String(first.instancePath.dropFirst(10)) : ""
                let place = first.instancePath.hasPrefix("/tenants/0") ? "entry \(i + 1)" : "--partner"
                throw Refusal(
                    "\(file): \(place)\(inEntry.isEmpty ? "" : " at \(inEntry)"): \(first.message)"
                        + (errors.count > 1 ? " (and \(errors.count - 1) more problem(s) in it)" : "")
                        + "; nothing was imported")
            }
            do {
                entries.append(try decoder.decode(TenantImport.Entry.self, from: entry))
            } catch {
                throw Refusal("\(file): entry \(i + 1): \(error); nothing was imported")
            }
        }
        return entries
    }
}
