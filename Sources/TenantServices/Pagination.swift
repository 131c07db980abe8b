/// One page of a list and the cursor for the next, if more remain.
///
/// Lists are ordered by a key; a cursor is the key of the last item of the previous page, so
/// every cursor is meaningful: the next page holds the items ordered after it.
struct Page<Item> {
    var items: [Item]
    var nextCursor: String?

    static var defaultLimit: Int { 100 }

    /// Cuts the page after `cursor` from items sorted ascending by `key`.
    init(_ all: some Sequence<Item>, key: (Item) -> String, limit: Int?, cursor: String?) throws(PortalError) {
        let limit = limit ?? Self.defaultLimit
        guard (1...1000).contains(limit) else {
            throw PortalError(.invalidArgument, "limit must be between 1 and 1000, not \(limit)")
        }
        var items: [Item] = []
        var more = false
        for item in all where cursor == nil || key(item) > cursor! {
            if items.count == limit {
                more = true
                break
            }
            items.append(item)
        }
        self.items = items
        self.nextCursor = more ? items.last.map(key) : nil
    }
}

/// A sort key for a sequential ID such as `T17` that orders numerically (`T0000000000000000017`).
func orderKey(_ id: String) -> String {
    guard let letter = id.first, let n = Int(id.dropFirst()) else { return id }
    let digits = String(n)
    return String(letter) + String(repeating: "0", count: max(0, 19 - digits.count)) + digits
}
