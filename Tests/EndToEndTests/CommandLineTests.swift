import Foundation
import Testing

/// The command line's options: `--store` and `--time-zone` are one option group shared by `serve`,
/// `view` and `import`, and bad values are refused before a command touches any store.
@Suite struct CommandLineTests {
    /// The help text with its line wrapping undone, so assertions do not depend on the width.
    func help(_ arguments: [String]) throws -> String {
        let run = try Run.server(arguments + ["--help"], input: [])
        #expect(run.status == 0, "\(run.stderr)")
        return String(decoding: run.stdout, as: UTF8.self).split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    static let storeHelp =
        "--store <store> The store: a directory (created on first use), or a postgresql:// URL several servers can share. (default: tenant-services-data)"
    static let zoneHelp =
        "--time-zone <time-zone> Time zone for every calendar date, an IANA name. (default: Europe/Zurich)"

    @Test func serveViewAndImportShareTheStoreOptions() throws {
        for command in [["serve"], ["import"], ["view", "tenants"], ["view", "statement"]] {
            let text = try help(command)
            #expect(text.contains(Self.storeHelp), "\(command): \(text)")
            #expect(text.contains(Self.zoneHelp), "\(command): \(text)")
        }
    }

    @Test func theUsageLinesNameEveryOptionOnce() throws {
        #expect(
            try help(["import"]).contains(
                "USAGE: tenant-services import [--log-level <log-level>] [--progress] [--store <store>] [--time-zone <time-zone>] --partner <partner> [--batch <batch>] <file>"
            ))
        #expect(
            try help(["view", "tenants"]).contains(
                "USAGE: tenant-services view tenants [--log-level <log-level>] [--progress] [--store <store>] [--time-zone <time-zone>] [--partner <partner>] [--query <query>]"
            ))
        let serve = try help(["serve"])
        #expect(serve.contains("USAGE: tenant-services serve <options>"), "\(serve)")
        for option in ["--store <store>", "--time-zone <time-zone>"] {
            #expect(serve.components(separatedBy: option).count == 2, "\(option) once in \(serve)")
        }
        #expect(serve.contains("--in-memory Keep state in memory only (tests, experiments); --store is ignored."))
        #expect(!serve.contains("crash-at-snapshot-call"), "hidden options stay hidden")
    }

    /// Every command checks its values before it opens a store: nothing is created.
    @Test func badValuesAreRefusedBeforeAnyStoreIsOpened() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = ["--store", directory.path]
        let cases: [([String], String)] = [
            (
                ["import", "--partner", "P1", "--time-zone", "Mars/Olympus", "x.json"],
                "unknown time zone 'Mars/Olympus'"
            ),
            (["import", "--partner", "P1", "--batch", "0", "x.json"], "--batch must be at least 1"),
            (["view", "tenants", "--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
            (["view", "statement", "2026-13"], "'2026-13' is not a month such as 2026-11"),
            (["serve", "--time-zone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
            (["serve", "--clock", "yesterday"], "--clock 'yesterday' is not an RFC 3339 instant"),
            (["serve", "--request-key-hours", "23"], "--request-key-hours 23 is out of range"),
            // Instants are written in UTC: a year 10000 there is refused even where the zone's date is 9999.
            (
                ["serve", "--clock", "9999-12-31T23:00:00-08:00", "--time-zone", "America/Los_Angeles"],
                "now is 10000-01-01 in UTC, as instants are written, past 9999-12-31"
            ),
        ]
        for (arguments, message) in cases {
            let run = try Run.server(arguments + store, input: [])
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(run.stdout.isEmpty, "\(arguments)")
            #expect(!FileManager.default.fileExists(atPath: directory.path), "\(arguments) created the store")
        }
    }
}
