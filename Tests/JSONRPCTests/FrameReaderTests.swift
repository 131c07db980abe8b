import JSONRPC
import Testing

@Suite struct FrameReaderTests {
    static let messages = exchanges.map { Array($0.request.utf8) } + [Array(#"{"a":"ü\n"}"#.utf8)]

    @Test(arguments: Framing.allCases)
    func everySplitPointGivesTheSameMessages(framing: Framing) {
        let stream = Self.messages.filter { framing == .lsp || !$0.contains(0x0A) }.flatMap(framing.frame)
        let expected = Self.messages.filter { framing == .lsp || !$0.contains(0x0A) }.map(Frame.message)
        for split in 0...stream.count {
            var reader = FrameReader()
            var frames: [Frame] = []
            reader.append(stream[..<split])
            while let f = reader.next() { frames.append(f) }
            reader.append(stream[split...])
            while let f = reader.next() { frames.append(f) }
            #expect(frames == expected, "split at \(split)")
            #expect(reader.pendingByteCount == 0)
        }
    }

    @Test(arguments: Framing.allCases)
    func byteByByte(framing: Framing) {
        let stream = Self.messages.prefix(5).flatMap(framing.frame)
        var reader = FrameReader()
        var frames: [Frame] = []
        for b in stream {
            reader.append([b])
            while let f = reader.next() { frames.append(f) }
        }
        #expect(frames == Self.messages.prefix(5).map(Frame.message))
    }

    @Test func oversizedMessagesAreSkippedAndTheReaderStaysInSync() {
        for framing in Framing.allCases {
            var reader = FrameReader(maxMessageBytes: 10)
            reader.append(framing.frame(Array(#"{"x":"0123456789"}"#.utf8)) + framing.frame(Array("[1]".utf8)))
            #expect(reader.next() == .oversized(limit: 10))
            #expect(reader.next() == .message(Array("[1]".utf8)))
        }
        var partial = FrameReader(framing: .ndjson, maxMessageBytes: 10)
        partial.append(Array(repeating: UInt8(ascii: "["), count: 50))
        #expect(partial.next() == .oversized(limit: 10))
        partial.append(Array("]]]\n[2]\n".utf8))
        #expect(partial.next() == .message(Array("[2]".utf8)))
    }

    @Test(arguments: [
        "Content-Length: -5", "Content-Length: abc", "Content-Type: x", "Content-Length 12", "Content-Length: 1e3",
    ])
    func badHeadersAreReportedAndSkipped(header: String) {
        var reader = FrameReader()
        reader.append(Array((header + "\r\n\r\n").utf8) + Framing.lsp.frame(Array("[1]".utf8)))
        guard case .badHeader = reader.next() else {
            Issue.record("expected a bad header for \(header)")
            return
        }
        #expect(reader.next() == .message(Array("[1]".utf8)))
    }

    @Test func crlfLinesAndBlankLinesInNDJSON() {
        var reader = FrameReader()
        reader.append(Array("\n\r\n[1]\r\n\n[2]\n".utf8))
        #expect(reader.next() == .message(Array("[1]".utf8)))
        #expect(reader.next() == .message(Array("[2]".utf8)))
        #expect(reader.next() == nil)
    }
}
