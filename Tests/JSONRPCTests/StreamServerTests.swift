import Foundation
import JSONRPC
import JanssonJSON
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The stream server's three stages keep the order of requests and replies, and stop cleanly
/// when the output goes away: in memory (``InMemoryStream``) for the order, on pipes for what
/// descriptors do (EPIPE, non-blocking descriptors, a client that never reads).
@Suite struct StreamServerTests {
    /// A method whose phases log what they did: preparation may run ahead, starts must be in order.
    final class PhaseLog: Sendable {
        let started = Mutex<[Int]>([])
        let finished = Mutex<[Int]>([])
    }

    static func dispatcher(_ log: PhaseLog) -> Dispatcher {
        Dispatcher(methods: [
            Method(
                "step",
                prepare: { params in
                    let n = Int(params?["n"]?.intValue ?? -1)
                    return PreparedCall {
                        log.started.withLock { $0.append(n) }
                        return PendingResult {
                            log.finished.withLock { $0.append(n) }
                            return JSONValue(n)
                        }
                    }
                })
        ])
    }

    /// Runs the server on an in-memory stream with `input` (then the end of the input); returns
    /// what it wrote.
    static func serve(_ dispatcher: Dispatcher, input: [UInt8], readSize: Int = 1 << 16) throws -> [UInt8] {
        let stream = InMemoryStream(input: input, readSize: readSize)
        try StreamServer.run(source: stream, sink: stream, dispatcher: dispatcher)
        return stream.output
    }

    @Test func pipelinedRequestsAreStartedAndAnsweredInOrder() throws {
        let log = PhaseLog()
        let count = 5_000
        var input: [UInt8] = []
        for i in 0..<count {
            input += Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"step","params":{"n":\#(i)}}"#.utf8) + [0x0A]
        }
        let output = try Self.serve(Self.dispatcher(log), input: input)
        let ids = String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            (try? JSONValue.parse(Array($0.utf8))["id"]?.intValue).flatMap { $0.map(Int.init) }
        }
        #expect(ids == (0..<count).map { $0 })
        #expect(log.started.withLock { $0 } == Array(0..<count))
        #expect(log.finished.withLock { $0 } == Array(0..<count))
    }

    @Test func aReaderThatGoesAwayEndsTheServer() throws {
        let log = PhaseLog()
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        close(fromServer[0])  // nobody will read the replies
        let request = Array(#"{"jsonrpc":"2.0","id":1,"method":"step","params":{"n":1}}"#.utf8) + [0x0A]
        _ = request.withUnsafeBytes { write(toServer[1], $0.baseAddress, $0.count) }
        signal(SIGPIPE, SIG_IGN)
        // The server must return (not hang) although input stays open.
        try StreamServer.run(input: toServer[0], output: fromServer[1], dispatcher: Self.dispatcher(log))
        close(toServer[1])
        close(toServer[0])
        close(fromServer[1])
    }

    /// Sets O_NONBLOCK on a descriptor.
    static func makeNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    @Test func aClientThatNeverReadsStopsTheServerReadingAtTheBound() throws {
        // Each request is answered with about 10 KB; the client sends batches of 10 and never reads.
        let startedCount = Mutex(0)
        let big = JSONValue(String(repeating: "x", count: 10_000))
        let dispatcher = Dispatcher(
            methods: [
                Method("big") { _ in
                    startedCount.withLock { $0 += 1 }
                    return big
                }
            ], limits: Limits(maxBytesInFlight: 256 << 10, maxRequestsInFlight: 64))
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        let (serverIn, serverOut) = (toServer[0], fromServer[1])
        let server = Thread {
            try? StreamServer.run(input: serverIn, output: serverOut, dispatcher: dispatcher)
            close(serverOut)
        }
        server.start()
        let request = #"{"jsonrpc":"2.0","id":1,"method":"big"}"#
        let batch = Array(("[" + Array(repeating: request, count: 10).joined(separator: ",") + "]\n").utf8)
        Self.makeNonBlocking(toServer[1])
        var sent = 0
        let deadline = ContinuousClock.now + .seconds(2)
        // Send for two seconds, or until 5000 batches (50,000 requests, 500 MB of replies) are in.
        while ContinuousClock.now < deadline && sent < 5000 * batch.count {
            let n = batch.withUnsafeBytes {
                write(toServer[1], $0.baseAddress! + sent % batch.count, batch.count - sent % batch.count)
            }
            if n > 0 { sent += n } else { usleep(1000) }
        }
        // Bytes in flight: 256 KiB of replies and requests, 64 KiB in the output pipe, at most
        // twice 64 requests between start and finish, and a batch of slack: a few hundred requests.
        let ran = startedCount.withLock { $0 }
        #expect(ran < 600, "ran \(ran) requests although nothing was read")
        #expect(sent < 5000 * batch.count, "the server kept reading")
        // Reading now drains everything that was sent, in order.
        close(toServer[1])
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fromServer[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        close(fromServer[0])
        close(toServer[0])
        let lines = output.split(separator: 0x0A)
        #expect(lines.count == sent / batch.count)
        #expect(startedCount.withLock { $0 } == sent / batch.count * 10)
    }

    @Test func aNonBlockingOutputThatFillsUpIsWaitedFor() throws {
        let log = PhaseLog()
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        Self.makeNonBlocking(fromServer[1])
        Self.makeNonBlocking(toServer[0])
        let count = 2_000
        let input: [UInt8] = (0..<count).flatMap { (i: Int) -> [UInt8] in
            Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"step","params":{"n":\#(i)}}"#.utf8) + [0x0A]
        }
        let failure = Mutex<String?>(nil)
        let (serverIn, serverOut, clientOut) = (toServer[0], fromServer[1], toServer[1])
        let server = Thread {
            do {
                try StreamServer.run(input: serverIn, output: serverOut, dispatcher: Self.dispatcher(log))
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            close(serverOut)
        }
        server.start()
        let writer = Thread {
            // Slowly, so that the server's reads find nothing now and then.
            var offset = 0
            while offset < input.count {
                let end = min(input.count, offset + 4096)
                let n = input[offset..<end].withUnsafeBytes { write(clientOut, $0.baseAddress, $0.count) }
                if n > 0 { offset += n }
                usleep(200)
            }
            close(clientOut)
        }
        writer.start()
        // The replies fill the non-blocking pipe before anyone reads.
        usleep(300_000)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fromServer[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        close(fromServer[0])
        close(toServer[0])
        #expect(failure.withLock { $0 } == nil)
        #expect(output.split(separator: 0x0A).count == count)
    }

    @Test func aLastLineWithoutNewlineIsAnswered() throws {
        let log = PhaseLog()
        let input = Array(
            (#"{"jsonrpc":"2.0","id":1,"method":"step","params":{"n":1}}"# + "\n"
                + #"{"jsonrpc":"2.0","id":2,"method":"step","params":{"n":2}}"#).utf8)
        let output = try Self.serve(Self.dispatcher(log), input: input)
        let ids = String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            (try? JSONValue.parse(Array($0.utf8))["id"]?.intValue).flatMap { $0.map(Int.init) }
        }
        #expect(ids == [1, 2])
    }

    @Test func requestsSplitAcrossReadsAreAnsweredInOrder() throws {
        let log = PhaseLog()
        let input = (1...20).flatMap { (i: Int) -> [UInt8] in
            Array(#"{"jsonrpc":"2.0","id":\#(i),"method":"step","params":{"n":\#(i)}}"#.utf8) + [0x0A]
        }
        // Seven bytes a read: every message arrives in pieces.
        let output = try Self.serve(Self.dispatcher(log), input: input, readSize: 7)
        let ids = String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            (try? JSONValue.parse(Array($0.utf8))["id"]?.intValue).flatMap { $0.map(Int.init) }
        }
        #expect(ids == Array(1...20))
        #expect(log.started.withLock { $0 } == Array(1...20))
    }

    @Test func aSinkWhoseReaderIsGoneEndsTheServerThoughTheInputStaysOpen() throws {
        let log = PhaseLog()
        let stream = InMemoryStream(
            input: Array(#"{"jsonrpc":"2.0","id":1,"method":"step","params":{"n":1}}"#.utf8) + [0x0A],
            endOfInput: false)
        stream.closeOutput()
        // Returns (does not wait for more input) once the reply cannot be written.
        try StreamServer.run(source: stream, sink: stream, dispatcher: Self.dispatcher(log))
        #expect(stream.output.isEmpty)
        #expect(log.started.withLock { $0 } == [1])
    }

    @Test func aNonBlockingInputThatHasNothingAfterPollIsPolledAgain() throws {
        // A second reader of the same non-blocking pipe takes bytes between the server's poll
        // and its read, which then fails with EAGAIN: that must not end the server.
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        let (serverIn, serverOut, clientIn, clientOut) = (toServer[0], fromServer[1], toServer[1], fromServer[0])
        Self.makeNonBlocking(serverIn)
        let failure = Mutex<String?>(nil)
        let done = Mutex(false)
        let server = Thread {
            do {
                try StreamServer.run(
                    input: serverIn, output: serverOut, framing: .ndjson, dispatcher: Self.dispatcher(PhaseLog()))
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            close(serverOut)
        }
        server.start()
        let thief = Thread {
            var byte: UInt8 = 0
            while !done.withLock({ $0 }) { _ = read(serverIn, &byte, 1) }
        }
        thief.start()
        let drain = Thread {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while chunk.withUnsafeMutableBytes({ read(clientOut, $0.baseAddress, $0.count) }) > 0 {}
        }
        drain.start()
        var byte = UInt8(ascii: " ")
        for _ in 0..<20_000 where failure.withLock({ $0 }) == nil {
            _ = write(clientIn, &byte, 1)
        }
        done.withLock { $0 = true }
        close(clientIn)
        while !server.isFinished || !drain.isFinished { usleep(1000) }
        close(serverIn)
        close(clientOut)
        #expect(failure.withLock { $0 } == nil)
    }
}
