import Foundation
import PackagePlugin

/// Embeds every JSON file under `Schemas/` into the target, so the server needs no files at run time.
///
/// The work is done by `embed.sh` (POSIX sh and coreutils' base64), so instrumented builds of the
/// package (fuzzing, sanitizers) have no build tool of their own to instrument.
@main
struct EmbedSchemas: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let schemas = context.package.directoryURL.appending(path: "Schemas")
        let files = try FileManager.default.subpathsOfDirectory(atPath: schemas.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchemas.swift")
        let script = context.package.directoryURL.appending(path: "Plugins/EmbedSchemas/embed.sh")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) schema files",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, schemas.path, output.path],
                inputFiles: files.map { schemas.appending(path: $0) } + [script],
                outputFiles: [output])
        ]
    }
}
