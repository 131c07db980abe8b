import Testing

@testable import TenantServices

/// The ID letter and number the state notes while loading (read from the bytes for the usual
/// form) are what `id.first` and `Int(id.dropFirst())` give, for every ID.
@Suite struct IDNumberTests {
    static func reference(_ id: String) -> (Character, Int)? {
        guard let letter = id.first, let n = Int(id.dropFirst()) else { return nil }
        return (letter, n)
    }

    static func same(_ id: String) -> Bool {
        let fast = PortalState.letterAndNumber(id)
        let slow = Self.reference(id)
        return fast?.0 == slow?.0 && fast?.1 == slow?.1
    }

    @Test(arguments: [
        "D1", "T100000", "D007", "P0", "D", "", "1234", "Dx1", "D-5", "D+5", "D 5", "D5 ", "É12", "e\u{301}12",
        "D\u{661}\u{662}", "\r\n1", "\r1", "D123456789012345678", "D1234567890123456789", "D99999999999999999999",
        "D9223372036854775807", "D9223372036854775808", "DD1", "😀12",
    ])
    func readsTheLetterAndNumberLikeIntOfTheRest(_ id: String) {
        #expect(Self.same(id), "\(id)")
    }

    @Test func readsGeneratedIDsLikeIntOfTheRest() {
        var random = SplitMix(seed: 1_017)
        let alphabet: [String] = Array("DTPOK0123456789-+ x").map { String($0) } + ["\u{301}", "\r\n", "é"]
        for _ in 0..<5_000 {
            let id = (0..<random.int(0...22)).map { _ in random.pick(alphabet) }.joined()
            #expect(Self.same(id), "\(id)")
        }
    }
}
