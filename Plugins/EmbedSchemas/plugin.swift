import Foundation
import PackagePlugin

/// Embeds every JSON file under `Schemas/` into the target, so the server needs no files at run time.
@main
struct EmbedSchemas: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let schemas = context.package.directoryURL.appending(path: "Schemas")
        let files = try FileManager.default.subpathsOfDirectory(atPath: schemas.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchemas.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) schema files",
                executable: try context.tool(named: "schema-embedder").url,
                arguments: [schemas.path, output.path],
                inputFiles: files.map { schemas.appending(path: $0) },
                outputFiles: [output])
        ]
    }
}
