import JSONRPC
import Testing

/// The reader stays in sync after malformed LSP headers, scans each byte once, and answers a
/// last line without a newline (issue 14, items 4, 5, 17).
@Suite struct FrameReaderResyncTests {
    static func frames(_ reader: inout FrameReader) -> [Frame] {
        var frames: [Frame] = []
        while let f = reader.next() { frames.append(f) }
        return frames
    }

    static func isBadHeader(_ frame: Frame?) -> Bool {
        if case .badHeader = frame { return true }
        return false
    }

    @Test func aMalformedHeaderLineWithAUsableLengthSkipsExactlyItsBody() {
        var reader = FrameReader()
        reader.append(
            Array("Content-Type application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}".utf8)
                + Framing.lsp.frame(Array("[2]".utf8)))
        let frames = Self.frames(&reader)
        #expect(frames.count == 2)
        #expect(Self.isBadHeader(frames.first))
        #expect(frames.last == .message(Array("[2]".utf8)))
    }

    @Test(arguments: [
        "Content-Length: abc", "Content-Type: x", "Content-Length 7", "Content-Length: 7\r\nContent-Length: 8",
    ])
    func aHeaderWithoutUsableLengthResynchronizesAtTheNextContentLength(header: String) {
        // The body of the bad frame follows its header directly, and the next frame follows
        // the body without a newline, as LSP clients send them.
        let stream =
            Array((header + "\r\n\r\n{\"a\":1}").utf8) + Framing.lsp.frame(Array("[2]".utf8))
            + Framing.lsp.frame(Array("[3]".utf8))
        for split in 0...stream.count {
            var reader = FrameReader()
            reader.append(stream[..<split])
            var frames = Self.frames(&reader)
            reader.append(stream[split...])
            frames += Self.frames(&reader)
            #expect(frames.count == 3, "split at \(split)")
            #expect(Self.isBadHeader(frames.first), "split at \(split)")
            #expect(
                Array(frames.dropFirst()) == [.message(Array("[2]".utf8)), .message(Array("[3]".utf8))],
                "split at \(split)")
        }
    }

    @Test func aHeaderBlockThatNeverEndsIsSkippedToTheNextFrame() {
        var reader = FrameReader(framing: .lsp)
        reader.append(Array(repeating: UInt8(ascii: "x"), count: 9000) + Framing.lsp.frame(Array("[2]".utf8)))
        let frames = Self.frames(&reader)
        #expect(frames.count == 2)
        #expect(Self.isBadHeader(frames.first), "a bad header first")
        #expect(frames.last == .message(Array("[2]".utf8)), "then the next frame")
    }

    @Test func aLongLineInSmallChunksCostsLinearTime() {
        // 4 MiB in 1 KiB chunks: rescanning the pending line on each chunk would look at about
        // 8 GiB (minutes); one scan is 4 MiB.
        let size = 4 << 20
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 1024)
        var reader = FrameReader(framing: .ndjson)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            reader.append([UInt8(ascii: "\"")])
            var early = 0
            for _ in 0..<(size / piece.count) {
                reader.append(piece)
                if reader.next() != nil { early += 1 }
            }
            #expect(early == 0)
            reader.append(Array("\"\n".utf8))
            guard case .message(let body) = reader.next() else {
                Issue.record("expected the line")
                return
            }
            #expect(body.count == size + 2)
        }
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    @Test func aLastLineWithoutNewlineIsAMessageAtEndOfInput() {
        var reader = FrameReader()
        reader.append(Array("[1]\n[2]".utf8))
        #expect(reader.next() == .message(Array("[1]".utf8)))
        #expect(reader.next() == nil)
        #expect(reader.finish() == .message(Array("[2]".utf8)))
        #expect(reader.finish() == nil)
        var blank = FrameReader()
        blank.append(Array("[1]\n  \r".utf8))
        #expect(blank.next() == .message(Array("[1]".utf8)))
        #expect(blank.finish() == nil)
    }
}
