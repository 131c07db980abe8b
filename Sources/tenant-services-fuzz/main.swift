// A mutational fuzzer for the frame reader, the JSON-RPC envelope and dispatch of every method.
//
//   tenant-services-fuzz --seconds 1800 --seed 1 Tests/Fuzz/corpus      fuzz for 30 minutes
//   tenant-services-fuzz FILE...                                        replay inputs (regressions)
//
// Each run picks a corpus entry, mutates it (bit flips, byte edits, splices, JSON-RPC tokens) and
// feeds it through the fuzz target. Before every execution the input is written to
// `fuzz-last-input`; if the process dies, that file reproduces the finding. Build it with
// `--sanitize=address` so memory errors are findings too (see CONTRIBUTING.md).
import Foundation

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func run(_ bytes: [UInt8]) {
    _ = bytes.withUnsafeBufferPointer { fuzz($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count) }
}

let tokens: [[UInt8]] = [
    "{", "}", "[", "]", "\"", ":", ",", "\n", "\r\n\r\n", "Content-Length: ", "Content-Length: -1\r\n\r\n",
    "Content-Length: 99999999999999999999\r\n\r\n", "\\u0000", "\\ud800", "null", "true", "1e400",
    "18446744073709551616",
    "-9223372036854775809", "\"jsonrpc\":\"2.0\"", "\"id\":", "\"method\":\"tenant.get\"", "\"params\":",
    "\"actor\":{\"id\":\"x\",\"kind\":\"operator\"}",
    "\u{FEFF}", "\u{0}", "\u{FF}\u{FE}", "[[[[[[[[[[", "]]]]]]]]]]", "\"domainId\":\"D1\"",
    "\"service\":\"SC-F-INBOUND\"",
].map { Array($0.utf8) }

func mutate(_ input: [UInt8], corpus: [[UInt8]], rng: inout SplitMix) -> [UInt8] {
    var data = input
    for _ in 0..<Int.random(in: 1...6, using: &rng) {
        switch Int.random(in: 0..<7, using: &rng) {
        case 0 where !data.isEmpty:
            let i = Int.random(in: 0..<data.count, using: &rng)
            data[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
        case 1 where !data.isEmpty:
            data[Int.random(in: 0..<data.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
        case 2:
            data.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...data.count, using: &rng))
        case 3 where !data.isEmpty:
            let i = Int.random(in: 0..<data.count, using: &rng)
            data.removeSubrange(i..<min(data.count, i + Int.random(in: 1...16, using: &rng)))
        case 4:
            data.insert(contentsOf: tokens.randomElement(using: &rng)!, at: Int.random(in: 0...data.count, using: &rng))
        case 5:
            let other = corpus.randomElement(using: &rng)!
            let cut = Int.random(in: 0...data.count, using: &rng)
            let from = Int.random(in: 0...other.count, using: &rng)
            data = Array(data[..<cut]) + Array(other[from...])
        default:
            if data.count < 1 << 16 { data += data }
        }
    }
    return data
}

var arguments = Array(CommandLine.arguments.dropFirst())
var seconds: Double?
var seed: UInt64 = 1
while let flag = arguments.first, flag.hasPrefix("--") {
    arguments.removeFirst()
    guard let value = arguments.first else { break }
    arguments.removeFirst()
    if flag == "--seconds" { seconds = Double(value) }
    if flag == "--seed" { seed = UInt64(value) ?? 1 }
}

let files = arguments.flatMap { path -> [URL] in
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    guard isDirectory.boolValue else { return [url] }
    return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map {
        url.appendingPathComponent($0)
    }
}
let corpus = try files.map { Array(try Data(contentsOf: $0)) }

guard let seconds else {
    for (file, bytes) in zip(files, corpus) {
        run(bytes)
        print("ok \(file.lastPathComponent)")
    }
    exit(0)
}

guard !corpus.isEmpty else {
    FileHandle.standardError.write(Data("give a corpus directory\n".utf8))
    exit(2)
}
var rng = SplitMix(state: seed)
let last = URL(fileURLWithPath: "fuzz-last-input")
let deadline = Date().addingTimeInterval(seconds)
var executions = 0
let started = Date()
while Date() < deadline {
    for _ in 0..<200 {
        let input = mutate(corpus.randomElement(using: &rng)!, corpus: corpus, rng: &rng)
        try? Data(input).write(to: last)
        run(input)
        executions += 1
    }
}
let elapsed = Date().timeIntervalSince(started)
print(
    "fuzzed \(executions) inputs in \(Int(elapsed)) s (\(Int(Double(executions) / elapsed))/s), seed \(seed), no crash")
