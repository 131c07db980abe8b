import Foundation
import Testing

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

    /// `--clock` and `clock.set` read an instant alike, and `clock.get` writes it back as given, in
    /// every year: RFC 3339 counts proleptic Gregorian dates, also before 1582 (where Foundation's
    /// ISO 8601 parser and formatter count Julian ones, ten days apart in 1500).
    @Test func theClockReadsAndWritesInstantsBefore1582AsGiven() throws {
        let run = try Run.server(
            ["serve", "--in-memory", "--log-level", "error", "--clock", "1500-03-01T12:00:00Z"],
            input: ndjson([
                #"{"jsonrpc":"2.0","id":1,"method":"clock.get","params":{"actor":\#(op)}}"#,
                #"{"jsonrpc":"2.0","id":2,"method":"clock.set","params":{"actor":\#(op),"now":"1500-03-01T12:00:00Z"}}"#,
            ]))
        let lines = run.lines
        #expect((lines[0]["result"] as? [String: Any])?["now"] as? String == "1500-03-01T12:00:00Z")
        #expect((lines[1]["result"] as? [String: Any])?["now"] as? String == "1500-03-01T12:00:00Z")
    }
}
