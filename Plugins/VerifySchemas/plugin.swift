import Foundation
import PackagePlugin

/// Verifies `Schemas/`: every file is a valid 2020-12 schema, every method has a params and a
/// result schema, and `openrpc.json` matches the schemas. (`swift run tenant-services schemas
/// write-openrpc` regenerates `openrpc.json`.)
@main
struct VerifySchemas: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let tool = try context.tool(named: "tenant-services")
        let schemas = context.package.directoryURL.appending(path: "Schemas")
        let process = Process()
        process.executableURL = tool.url
        process.arguments = [
            "schemas", arguments.contains("--write") ? "write-openrpc" : "verify", "--schemas", schemas.path,
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            Diagnostics.error("schema verification failed (exit \(process.terminationStatus))")
            throw VerificationFailed()
        }
    }
}

struct VerificationFailed: Error, CustomStringConvertible {
    var description: String { "schema verification failed" }
}
