import Foundation
import Testing

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
