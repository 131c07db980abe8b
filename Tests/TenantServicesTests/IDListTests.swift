import PropertyBased
import Testing

@testable import TenantServices

/// The state's indexes keep their IDs in an ``IDList``: it must hold exactly what an array would,
/// in the same order, whatever mix of appends and removals built it.
@Suite struct IDListTests {
    @Test(arguments: 0..<300) func anIDListHoldsWhatAnArrayWould(seed: Int) {
        let word = UInt64(truncatingIfNeeded: seed)
        var generator = Xoshiro(seed: (word, ~word, word &* 0x9E37_79B9_7F4A_7C15, 7))
        var list: IDList = []
        var array: [String] = []
        for _ in 0..<Int.random(in: 0..<20, using: &generator) {
            // Few distinct IDs, so removals hit, repeat and empty the list.
            let id = "D\(Int.random(in: 1...4, using: &generator))"
            if Bool.random(using: &generator) {
                list.append(id)
                array.append(id)
            } else {
                list.remove(id)
                array.removeAll { $0 == id }
            }
            #expect(Array(list) == array)
            #expect(list.count == array.count)
            #expect(list.isEmpty == array.isEmpty)
            for (i, element) in array.enumerated() { #expect(list[i] == element) }
            // Equal lists are equal however they were built.
            #expect(list == IDList(array))
        }
    }
}
