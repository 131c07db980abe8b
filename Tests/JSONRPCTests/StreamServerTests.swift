import Foundation
import JSONRPC
import JanssonJSON
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The stream server's three stages keep the order of requests and replies, and stop cleanly
/// when the output goes away.
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
                    return {
                        log.started.withLock { $0.append(n) }
                        return {
                            log.finished.withLock { $0.append(n) }
                            return JSONValue(n)
                        }
                    }
                })
        ])
    }

    /// Runs the server on pipes with `input`, closing input at the end; returns what it wrote.
    static func serve(_ dispatcher: Dispatcher, input: [UInt8]) throws -> [UInt8] {
        var toServer: [Int32] = [0, 0]
        var fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        let (readIn, writeIn, readOut, writeOut) = (toServer[0], toServer[1], fromServer[0], fromServer[1])
        let server = Thread {
            try? StreamServer.run(input: readIn, output: writeOut, dispatcher: dispatcher)
            close(writeOut)
        }
        server.start()
        let writer = Thread {
            input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(writeIn, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(writeIn)
        }
        writer.start()
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(readOut, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        close(readOut)
        close(readIn)
        return output
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
}
