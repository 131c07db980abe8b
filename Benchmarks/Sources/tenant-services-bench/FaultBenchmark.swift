import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a server process has used so far, from `/proc`.
struct ProcessUsage {
    let pid: Int32

    /// Peak resident set (VmHWM), in MiB.
    var peakMiB: Double { Double(status("VmHWM")) / 1024 }
    /// Current resident set (VmRSS), in MiB.
    var residentMiB: Double { Double(status("VmRSS")) / 1024 }

    /// User plus system CPU time, in seconds.
    var cpuSeconds: Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
        }
        return 0
    }
}

extension Benchmark {
    /// Peak memory and CPU of the server under unusual clients (issue 14).
    func faults() throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("tenant-services")
        func server(_ framing: String) throws -> (ServerProcess, ProcessUsage) {
            let server = try ServerProcess(
                executable, ["serve", "--in-memory", "--framing", framing, "--log-level", "error"])
            // One round trip, so the server has started before anything is measured.
            let probe = Array(#"{"jsonrpc":"2.0","id":0,"method":"no.such.method"}"#.utf8)
            if framing == "lsp" {
                server.send(Array("Content-Length: \(probe.count)\r\n\r\n".utf8) + probe)
                _ = server.receiveFrame()
            } else {
                server.send(probe + [0x0A])
                _ = server.receiveLine()
            }
            return (server, ProcessUsage(pid: server.process.processIdentifier))
        }
        print("\n## Unusual clients (server peak RSS from /proc/PID/status VmHWM)")
        print("case                                                        result")

        // A batch over the limit, refused before it is parsed.
        do {
            let (s, usage) = try server("ndjson")
            let before = usage.peakMiB
            let count = ((16 << 20) - 2) / 3
            var batch = [UInt8](repeating: UInt8(ascii: ","), count: count * 3 - 1 + 2)
            batch[0] = UInt8(ascii: "[")
            for i in 0..<count {
                batch[1 + 3 * i] = UInt8(ascii: "{")
                batch[2 + 3 * i] = UInt8(ascii: "}")
            }
            batch[batch.count - 1] = UInt8(ascii: "]")
            s.send(batch + [0x0A])
            let reply = String(decoding: s.receiveLine(), as: UTF8.self)
            precondition(reply.contains("-32001"), reply)
            row(
                "16 MiB batch of {} over the limit (\(count.formatted()) elements)",
                String(format: "peak %.0f MiB (%.0f MiB before)", usage.peakMiB, before))
            s.stop()
        }

        // 10,000 empty tenant.import entries: 20,000 schema errors, 100 in the reply.
        do {
            let (s, usage) = try server("ndjson")
            let entries = Array(repeating: "{}", count: 10_000).joined(separator: ",")
            let request =
                #"{"jsonrpc":"2.0","id":1,"method":"tenant.import","params":{"actor":{"id":"ops","kind":"operator"},"partnerId":"P1","tenants":[\#(entries)]}}"#
            let clock = ContinuousClock()
            var reply: [UInt8] = []
            let one = clock.measure {
                s.send(Array(request.utf8) + [0x0A])
                reply = s.receiveLine()
            }
            row(
                "tenant.import, 10,000 empty entries (20,000 errors)",
                String(
                    format: "reply %.1f KB, %.0f ms, peak %.0f MiB", Double(reply.count) / 1000, seconds(one) * 1000,
                    usage.peakMiB))
            let batch = "[" + Array(repeating: request, count: 100).joined(separator: ",") + "]"
            let hundred = clock.measure {
                s.send(Array(batch.utf8) + [0x0A])
                reply = s.receiveLine()
            }
            row(
                "a batch of 100 such requests",
                String(
                    format: "reply %.1f MB, %.1f s, peak %.0f MiB", Double(reply.count) / 1e6, seconds(hundred),
                    usage.peakMiB))
            s.stop()
        }

        // A client that sends batches and never reads its replies.
        do {
            let (s, usage) = try server("ndjson")
            let before = usage.peakMiB
            let request = #"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#
            let batch = Array(("[" + Array(repeating: request, count: 4).joined(separator: ",") + "]\n").utf8)
            let fd = s.inputDescriptor
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var sent = 0
            var peakSeen = 0.0
            let end = ContinuousClock.now + .seconds(faultSeconds)
            while ContinuousClock.now < end {
                let offset = sent % batch.count
                let n = batch.withUnsafeBytes { write(fd, $0.baseAddress! + offset, batch.count - offset) }
                if n > 0 { sent += n } else { usleep(10_000) }
                peakSeen = max(peakSeen, usage.residentMiB)
                // Stop an unbounded server before it takes the machine down.
                if usage.residentMiB > 4096 { break }
            }
            row(
                "never reads, batches of 4 rpc.discover, \(faultSeconds) s",
                String(
                    format: "peak %.0f MiB (%.0f before); %.1f MB of requests taken, then reading stopped",
                    usage.peakMiB, before, Double(sent) / 1e6))
            s.process.terminate()
            s.process.waitUntilExit()
        }

        // CPU for one 8 MiB message: NDJSON line against the same bytes in LSP framing.
        let body = Array(
            (#"{"jsonrpc":"2.0","id":1,"method":"no.such.method","params":{"x":""#
                + String(repeating: "a", count: 8 << 20) + #""}}"#).utf8)
        var cpu: [String: Double] = [:]
        for framing in ["ndjson", "lsp"] {
            let (s, usage) = try server(framing)
            let framed =
                framing == "ndjson" ? body + [0x0A] : Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
            let before = usage.cpuSeconds
            // In 64 KiB pieces, as a pipe delivers them.
            var offset = 0
            while offset < framed.count {
                let end = min(framed.count, offset + 65536)
                s.send(Array(framed[offset..<end]))
                offset = end
            }
            let reply = framing == "ndjson" ? s.receiveLine() : s.receiveFrame()
            precondition(String(decoding: reply, as: UTF8.self).contains("-32601"))
            cpu[framing] = usage.cpuSeconds - before
            s.stop()
        }
        row(
            "CPU for an 8 MiB message: NDJSON line / LSP frame",
            String(
                format: "%.2f / %.2f s (ratio %.2f×, goal ≤ 1.5×)", cpu["ndjson"]!, cpu["lsp"]!,
                cpu["ndjson"]! / max(cpu["lsp"]!, 0.01)))
    }

    private func row(_ name: String, _ result: String) {
        print("\(name.padding(toLength: 60, withPad: " ", startingAt: 0))\(result)")
    }
}
