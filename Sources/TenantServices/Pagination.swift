/// One page of a list and the cursor for the next, if more remain.
struct Page<Item> {
    var items: [Item]
    var nextCursor: String?

    static var defaultLimit: Int { 100 }

    /// Cuts a page after `cursor` (the key of the last item of the previous page).
    init(_ all: some Sequence<Item>, key: (Item) -> String, limit: Int?, cursor: String?) throws(PortalError) {
        let limit = limit ?? Self.defaultLimit
        guard (1...1000).contains(limit) else {
            throw PortalError(.invalidArgument, "limit must be between 1 and 1000, not \(limit)")
        }
        var items: [Item] = []
        var started = cursor == nil
        var more = false
        for item in all {
            if !started {
                if "c:" + key(item) == cursor { started = true }
                continue
            }
            if items.count == limit {
                more = true
                break
            }
            items.append(item)
        }
        guard started else {
            throw PortalError(
                .invalidArgument,
                "cursor '\(cursor!)' does not belong to this list; pass the nextCursor of the previous page")
        }
        self.items = items
        self.nextCursor = more ? items.last.map { "c:" + key($0) } : nil
    }
}
