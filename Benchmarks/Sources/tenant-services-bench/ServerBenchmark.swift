import Foundation
import JSONRPC
import JanssonJSON
import TenantServices
import TenantServicesRPC

#if canImport(Glibc)
    import Glibc
#endif

/// A server process driven over pipes, NDJSON framing.
final class ServerProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    private var start = 0
    /// How many bytes after `start` are known to hold no newline (a long reply is scanned once).
    private var scanned = 0

    init(_ executable: URL, _ arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    var inputDescriptor: Int32 { input.fileHandleForWriting.fileDescriptor }

    func send(_ bytes: [UInt8]) { Self.send(bytes, to: inputDescriptor) }

    static func send(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0, "server closed its input")
                offset += n
            }
        }
    }

    /// Reads one reply line; `onFirstRead` is called once the first bytes read for it arrive.
    func receiveLine(onFirstRead: (() -> Void)? = nil) -> [UInt8] {
        var onFirstRead = onFirstRead
        while true {
            if let newline = buffer[(start + scanned)...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = 0
                if start > 1 << 20 {
                    buffer.removeSubrange(0..<start)
                    start = 0
                }
                return line
            }
            scanned = buffer.count - start
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes {
                read(output.fileHandleForReading.fileDescriptor, $0.baseAddress, $0.count)
            }
            precondition(n > 0, "server closed its output")
            onFirstRead?()
            onFirstRead = nil
            buffer += chunk[0..<n]
        }
    }

    /// Reads one reply in LSP framing (its body).
    func receiveFrame() -> [UInt8] {
        while true {
            let pending = buffer[start...]
            if let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                let header = String(decoding: buffer[start..<end.lowerBound], as: UTF8.self)
                let length = Int(header.split(separator: ":")[1].trimmingCharacters(in: .whitespaces))!
                if buffer.count - end.upperBound >= length {
                    let body = Array(buffer[end.upperBound..<(end.upperBound + length)])
                    start = end.upperBound + length
                    scanned = 0
                    return body
                }
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes {
                read(output.fileHandleForReading.fileDescriptor, $0.baseAddress, $0.count)
            }
            precondition(n > 0, "server closed its output")
            buffer += chunk[0..<n]
        }
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

/// Pipelined throughput and lock-step latency of one request against a server.
struct RoundTrips {
    var perSecond: Double
    var p50: Double
    var p99: Double

    static func measure(_ server: ServerProcess, request: [UInt8], pipelined: Int, lockStep: Int) -> RoundTrips {
        let line = request + [0x0A]
        // Warm up.
        for _ in 0..<200 {
            server.send(line)
            _ = server.receiveLine()
        }
        let fd = server.inputDescriptor
        let writer = Thread {
            var batch: [UInt8] = []
            for _ in 0..<pipelined {
                batch += line
                if batch.count > 1 << 16 {
                    ServerProcess.send(batch, to: fd)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            ServerProcess.send(batch, to: fd)
        }
        let begin = ContinuousClock.now
        writer.start()
        for _ in 0..<pipelined { _ = server.receiveLine() }
        let elapsed = seconds(ContinuousClock.now - begin)
        var latencies: [Double] = []
        for _ in 0..<lockStep {
            let t = ContinuousClock.now
            server.send(line)
            _ = server.receiveLine()
            latencies.append(seconds(ContinuousClock.now - t))
        }
        latencies.sort()
        return RoundTrips(
            perSecond: Double(pipelined) / elapsed, p50: latencies[latencies.count / 2] * 1e6,
            p99: latencies[latencies.count * 99 / 100] * 1e6)
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

extension Benchmark {
    func serverRoundTrips() throws {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let server = try ServerProcess(
            directory.appendingPathComponent("tenant-services"),
            ["serve", "--in-memory", "--clock", "2026-11-18T11:06:40Z", "--log-level", "error"])
        let op = #"{"id":"ops","kind":"operator"}"#
        let anna = #"{"id":"u-anna","kind":"partnerAdmin","partnerId":"P1","roles":["ALL"]}"#
        let setup = [
            #"{"jsonrpc":"2.0","id":1,"method":"partner.create","params":{"actor":\#(op),"name":"Muster IT"}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tenant.create","params":{"actor":\#(anna),"name":"Muster AG","contact":{"email":"it@muster.ch","phone":"+41 44 123 45 67"},"address":{"street":"Bahnhofstrasse 1","postalCode":"8001","city":"Zürich","country":"CH"}}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"domain.add","params":{"actor":\#(anna),"tenantId":"T1","name":"muster.ch","mode":"inline","services":["SC-F-OUTBOUND","SC-SIGENC","SC-CERT"]}}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"domain.add","params":{"actor":\#(anna),"tenantId":"T1","name":"muster.li","mode":"parallel","services":["SC-SIGONLY"]}}"#,
            #"{"jsonrpc":"2.0","id":5,"method":"users.import","params":{"actor":\#(anna),"domainId":"D1","users":[{"address":"anna@muster.ch","protection":"signEncrypt"},{"address":"ben@muster.ch","protection":"signOnly"}]}}"#,
        ]
        for request in setup {
            server.send(Array(request.utf8) + [0x0A])
            _ = server.receiveLine()
        }
        let request = Array(
            #"{"jsonrpc":"2.0","id":7,"method":"tenant.get","params":{"actor":\#(anna),"tenantId":"T1"}}"#.utf8)
        server.send(request + [0x0A])
        let reply = server.receiveLine()
        let replyFile = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-get-reply.json")
        try Data(reply).write(to: replyFile)
        let echo = try ServerProcess(directory.appendingPathComponent("jansson-echo"), [replyFile.path])
        let n = pipelined
        let ceiling = RoundTrips.measure(echo, request: request, pipelined: n, lockStep: lockStep)
        let ours = RoundTrips.measure(server, request: request, pipelined: n, lockStep: lockStep)
        echo.stop()
        server.stop()
        print(
            "\n## tenant.get over stdio (request \(request.count) B, reply \(reply.count) B; \(n) pipelined, \(lockStep) lock-step)"
        )
        print("server                     pipelined req/s   lock-step p50 µs   p99 µs")
        for (name, r) in [("jansson C (fair ceiling)", ceiling), ("tenant-services serve", ours)] {
            print(String(format: "%-26@ %15.0f   %16.1f   %6.1f", name as NSString, r.perSecond, r.p50, r.p99))
        }
        print(
            String(
                format:
                    "pipelined: %.2f× the ceiling (goal ≥ 0.8×); lock-step p50: %.2f× the ceiling (goal ≤ 1.3×)",
                ours.perSecond / ceiling.perSecond, ours.p50 / ceiling.p50))
    }
}

extension Benchmark {
    /// The cost of one tenant.get inside the process, by stage.
    func inProcessTenantGet() throws {
        let only = self.only
        let portal = try Portal(clock: ManualClock(Date(timeIntervalSince1970: 1_795_000_000)))
        let dispatcher = Dispatcher(methods: try TenantServicesMethods.table(portal: portal, clock: nil))
        let anna = #"{"id":"u-anna","kind":"partnerAdmin","partnerId":"P1","roles":["ALL"]}"#
        for request in [
            #"{"jsonrpc":"2.0","id":1,"method":"partner.create","params":{"actor":{"id":"ops","kind":"operator"},"name":"Muster IT"}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tenant.create","params":{"actor":\#(anna),"name":"Muster AG","contact":{"email":"it@muster.ch"},"address":{"street":"B 1","postalCode":"8001","city":"Z","country":"CH"}}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"domain.add","params":{"actor":\#(anna),"tenantId":"T1","name":"muster.ch","mode":"inline","services":["SC-F-OUTBOUND","SC-SIGENC","SC-CERT"]}}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"domain.add","params":{"actor":\#(anna),"tenantId":"T1","name":"muster.li","mode":"parallel","services":["SC-SIGONLY"]}}"#,
        ] {
            _ = dispatcher.reply(to: Array(request.utf8))
        }
        let request = Array(
            #"{"jsonrpc":"2.0","id":7,"method":"tenant.get","params":{"actor":\#(anna),"tenantId":"T1"}}"#.utf8)
        let actor = Principal(id: "u-anna", kind: .partnerAdmin, partnerId: "P1", roles: [.ALL])
        let n = 20_000
        let whole = best(3) { for _ in 0..<n { _ = dispatcher.reply(to: request) } }
        if only == "dispatch" {
            print(String(format: "whole dispatch %.2f µs/call", whole / Double(n) * 1e6))
            return
        }
        var response: TenantGet.Response?
        let perform = try best(3) {
            for _ in 0..<n { response = try portal.perform(TenantGet(tenantId: "T1"), as: actor) }
        }
        var encoded: JSONValue = .null
        let encode = try best(3) { for _ in 0..<n { encoded = try JSONValueEncoder().encode(response!) } }
        let dump = best(3) { for _ in 0..<n { _ = encoded.serialized() } }
        var message: JSONValue = .null
        let parse = try best(3) { for _ in 0..<n { message = try JSONValue.parse(request) } }
        let schema = try SchemaSet.embedded.paramsSchema(for: "tenant.get")
        let params = message["params"]!
        let validate = best(3) { for _ in 0..<n { _ = schema.validate(params) } }
        let decode = try best(3) {
            for _ in 0..<n {
                _ = try JSONValueDecoder().decode(Principal.self, from: params["actor"]!)
                _ = try JSONValueDecoder().decode(TenantGet.self, from: params)
            }
        }
        print("\n## tenant.get in process (\(n) calls, best of 3)")
        for (name, t) in [
            ("whole dispatch", whole), ("parse", parse), ("validate params", validate), ("decode params", decode),
            ("portal.perform", perform), ("encode result", encode), ("serialize", dump),
        ] {
            print(String(format: "%-16@ %7.2f µs/call", name as NSString, t / Double(n) * 1e6))
        }
    }
}
