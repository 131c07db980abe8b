/// Limits that protect the server; each is answered with `limit-exceeded` (−32001) and the reader stays in sync.
public struct Limits: Sendable, Equatable {
    /// Largest message (one line or one Content-Length body), in bytes. Default 16 MiB.
    public var maxMessageBytes: Int
    /// Most requests in one batch, counted on the bytes before the batch is parsed. Default 1000.
    public var maxBatchSize: Int
    /// Deepest nesting of arrays and objects. Default 64.
    public var maxDepth: Int
    /// Bound of the stream server's bytes in flight: requests read and not yet finished
    /// (counted as their message bytes) plus replies not yet written. At the bound the server
    /// stops reading until its replies drain. The reader waits while requests and replies
    /// together are at the bound, the encoder of replies while replies alone are, so at worst
    /// about twice the bound (plus one message and one reply) is in flight. Default 32 MiB.
    public var maxBytesInFlight: Int
    /// Most requests handed from one stage of the stream server to the next (a batch counts as
    /// its requests). Default 1024.
    public var maxRequestsInFlight: Int

    public init(
        maxMessageBytes: Int = 16 << 20, maxBatchSize: Int = 1000, maxDepth: Int = 64,
        maxBytesInFlight: Int = 32 << 20, maxRequestsInFlight: Int = 1024
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxBatchSize = maxBatchSize
        self.maxDepth = maxDepth
        self.maxBytesInFlight = maxBytesInFlight
        self.maxRequestsInFlight = maxRequestsInFlight
    }
}
