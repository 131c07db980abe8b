public import JanssonJSON

/// One method of a method table.
public struct Method: Sendable {
    /// What a handler receives: the params (object or array, nil when absent).
    public typealias Handler = @Sendable (_ params: JSONValue?) throws -> JSONValue

    public var name: String
    /// Checked before the handler runs; a violation answers −32602 with `data.errors`.
    public var paramsSchema: JSONSchema?
    /// The first phase: checks and decodes the params (pure; may run on another thread while
    /// earlier requests are still being applied) and gives the call to start.
    let prepare: @Sendable (_ params: JSONValue?) throws -> PreparedCall

    /// A method that does all its work when started.
    public init(_ name: String, paramsSchema: JSONSchema? = nil, handler: @escaping Handler) {
        self.name = name
        self.paramsSchema = paramsSchema
        self.prepare = { params in
            PreparedCall {
                .ready(try handler(params))
            }
        }
    }

    /// A method in three phases: `prepare` runs first (pure, possibly ahead of time), the
    /// ``PreparedCall`` it returns is started in the order requests were received, and the
    /// ``PendingResult`` that gives is waited for before the reply is sent.
    public init(
        _ name: String, paramsSchema: JSONSchema? = nil,
        prepare: @escaping @Sendable (_ params: JSONValue?) throws -> PreparedCall
    ) {
        self.name = name
        self.paramsSchema = paramsSchema
        self.prepare = prepare
    }
}

/// A call whose params were checked and prepared, and that has not started yet.
public struct PreparedCall: Sendable {
    private let begin: @Sendable () throws -> PendingResult

    /// A call that runs `start` when it is started.
    public init(start: @escaping @Sendable () throws -> PendingResult) { self.begin = start }

    /// Starts the call (one at a time, in the order requests were received) and returns the
    /// result to wait for. Throws ``JSONRPCError`` for an error answer.
    public func start() throws -> PendingResult { try begin() }
}

/// The result of a started call, which may still have to wait (for durability, say). The server
/// waits for it before sending the reply, after later requests that were already received have
/// started, so their waits overlap.
public struct PendingResult: Sendable {
    private let result: @Sendable () throws -> JSONValue

    /// A result that `wait` gives (it may block, and may still throw).
    public init(wait: @escaping @Sendable () throws -> JSONValue) { self.result = wait }

    /// A result that is already there.
    public static func ready(_ result: JSONValue) -> PendingResult { PendingResult { result } }

    /// Waits if needed and gives the result. Throws ``JSONRPCError`` for an error answer.
    public func wait() throws -> JSONValue { try result() }
}
