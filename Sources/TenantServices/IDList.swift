/// The IDs an index of ``PortalState`` files under one key, oldest first.
///
/// The first ID is held in place, so a key with one ID (most domain names, most domains' tasks)
/// needs no array of its own: a large state is loaded with hundreds of thousands fewer allocations.
struct IDList: RandomAccessCollection, Equatable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The oldest ID; nil only when the list is empty.
    private var head: String?
    /// The IDs after `head`.
    private var tail: [String] = []

    init(arrayLiteral ids: String...) { self.init(ids) }

    init(_ ids: some Sequence<String>) {
        for id in ids { append(id) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + tail.count }

    subscript(position: Int) -> String {
        precondition(position >= 0 && position < endIndex, "IDList index out of range")
        return position == 0 ? head! : tail[position - 1]
    }

    mutating func append(_ id: String) {
        if head == nil { head = id } else { tail.append(id) }
    }

    /// Takes every occurrence of `id` out, keeping the others in order.
    mutating func remove(_ id: String) {
        self = IDList(filter { $0 != id })
    }

    var description: String { Array(self).description }
}
