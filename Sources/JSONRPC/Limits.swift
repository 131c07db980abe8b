/// Limits that protect the server; each is answered with `limit-exceeded` (−32001) and the reader stays in sync.
public struct Limits: Sendable, Equatable {
    /// Largest message (one line or one Content-Length body), in bytes. Default 16 MiB.
    public var maxMessageBytes: Int
    /// Most requests in one batch. Default 1000.
    public var maxBatchSize: Int
    /// Deepest nesting of arrays and objects. Default 64.
    public var maxDepth: Int

    public init(maxMessageBytes: Int = 16 << 20, maxBatchSize: Int = 1000, maxDepth: Int = 64) {
        self.maxMessageBytes = maxMessageBytes
        self.maxBatchSize = maxBatchSize
        self.maxDepth = maxDepth
    }
}
