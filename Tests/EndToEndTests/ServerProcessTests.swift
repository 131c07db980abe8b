import Foundation
import Testing

/// Runs the built `tenant-services` executable with some stdin and collects what it wrote.
struct Run {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String

    /// The directory the test bundle was built into, which holds the executables built with it: so
    /// a sanitizer or release run (`--sanitize`, `-c release`, `--scratch-path`) tests what it built.
    static let productsDirectory: URL = {
        #if os(macOS)
            if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
                return bundle.bundleURL.deletingLastPathComponent()
            }
        #endif
        return Bundle.main.bundleURL
    }()

    static let binary = productsDirectory.appendingPathComponent("tenant-services")

    static func server(_ arguments: [String], input: [UInt8], timeout: TimeInterval = 60) throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw Failure("\(binary.path) is missing: run `swift build` before `swift test`")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        // Read both pipes concurrently so a full pipe never blocks the server.
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        let readers = DispatchGroup()
        DispatchQueue.global().async(group: readers) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: readers) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        guard finished.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            throw Failure("the server did not exit within \(timeout) s after end of input")
        }
        readers.wait()
        return Run(status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }

    var lines: [[String: Any]] {
        String(decoding: stdout, as: UTF8.self).split(separator: "\n").map {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["unparsable": String($0)]
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

let op = #"{"id":"ops","kind":"operator"}"#

func ndjson(_ requests: [String]) -> [UInt8] { Array(requests.joined(separator: "\n").utf8) + [0x0A] }

@Suite(.serialized) struct ServerProcessTests {
    @Test func stdoutCarriesOnlyProtocolMessagesAndLogsGoToStderr() throws {
        let run = try Run.server(
            ["serve", "--in-memory", "--log-level", "debug"],
            input: ndjson([
                #"{"jsonrpc":"2.0","id":1,"method":"partner.create","params":{"actor":\#(op),"name":"P"}}"#,
                #"{"jsonrpc":"2.0","method":"partner.create","params":{"actor":\#(op),"name":"Q"}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"partner.list","params":{"actor":\#(op)}}"#,
                "not json",
            ]))
        #expect(run.status == 0)
        let lines = run.lines
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0["jsonrpc"] as? String == "2.0" })
        #expect((lines[2]["error"] as? [String: Any])?["code"] as? Int == -32700)
        #expect(run.stderr.contains("serving JSON-RPC on stdio"))
        #expect(run.stderr.contains("end of input"))
    }

    @Test func contentLengthFramingIsAnsweredInKind() throws {
        let body = #"{"jsonrpc":"2.0","id":"a","method":"catalog.get","params":{"actor":\#(op)}}"#
        let run = try Run.server(
            ["serve", "--in-memory", "--log-level", "error"],
            input: Array("Content-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
        #expect(run.status == 0)
        let text = String(decoding: run.stdout, as: UTF8.self)
        #expect(text.hasPrefix("Content-Length: "))
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(Int(parts[0].dropFirst("Content-Length: ".count)) == parts[1].utf8.count)
    }

    @Test func limitsAreAnsweredAndTheReaderStaysInSync() throws {
        let long =
            #"{"jsonrpc":"2.0","id":1,"method":"partner.create","params":{"actor":\#(op),"name":"\#(String(repeating: "x", count: 500))"}}"#
        let run = try Run.server(
            ["serve", "--in-memory", "--log-level", "error", "--max-message-bytes", "300"],
            input: ndjson([long, #"{"jsonrpc":"2.0","id":2,"method":"partner.list","params":{"actor":\#(op)}}"#]))
        let lines = run.lines
        #expect(lines.count == 2)
        #expect((lines[0]["error"] as? [String: Any])?["code"] as? Int == -32001)
        #expect(lines[1]["id"] as? Int == 2)
        #expect(
            ((lines[1]["result"] as? [String: Any])?["partners"] as? [Any])?.isEmpty == true,
            "the oversized write changed nothing")
    }

    @Test func badOptionsExitNonZeroWithAMessage() throws {
        let run = try Run.server(["serve", "--in-memory", "--time-zone", "Mars/Olympus"], input: [])
        #expect(run.status != 0)
        #expect(run.stderr.contains("unknown time zone"))
        #expect(run.stdout.isEmpty)
    }

    @Test func fixedClockEnablesTheClockMethods() throws {
        let run = try Run.server(
            ["serve", "--in-memory", "--log-level", "error", "--clock", "2026-03-29T00:30:00Z"],
            input: ndjson([
                #"{"jsonrpc":"2.0","id":1,"method":"clock.get","params":{"actor":\#(op)}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"clock.set","params":{"actor":\#(op),"now":"2026-10-25T01:30:00+01:00"}}"#,
            ]))
        let lines = run.lines
        #expect((lines[0]["result"] as? [String: Any])?["now"] as? String == "2026-03-29T00:30:00Z")
        #expect((lines[1]["result"] as? [String: Any])?["now"] as? String == "2026-10-25T00:30:00Z")
    }
}

@Suite struct FuzzCorpusTests {
    /// Every corpus entry and fuzzing regression runs through the fuzz target without a crash.
    @Test func corpusReplays() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
            .standardized
        let binary = Run.productsDirectory.appendingPathComponent("tenant-services-fuzz")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw Failure("\(binary.path) is missing: run `swift build` before `swift test`")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = [root.appendingPathComponent("Tests/Fuzz/corpus").path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let entries = try FileManager.default.contentsOfDirectory(
            atPath: root.appendingPathComponent("Tests/Fuzz/corpus").path)
        #expect(text.split(separator: "\n").count == entries.count)
    }
}
