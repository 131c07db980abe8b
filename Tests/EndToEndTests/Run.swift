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
