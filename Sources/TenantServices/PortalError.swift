/// An operation was refused; nothing was changed.
public struct PortalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of refusal; each has a stable name and JSON-RPC code (SPEC §7).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The error's name, as sent in `data.reason`.
        public let name: String
        /// The JSON-RPC error code.
        public let number: Int

        public static let notFound = Code(name: "not-found", number: 1000)
        public static let permissionDenied = Code(name: "permission-denied", number: 1001)
        public static let conflict = Code(name: "conflict", number: 1002)
        public static let dependencyViolation = Code(name: "dependency-violation", number: 1003)
        public static let invalidTransition = Code(name: "invalid-transition", number: 1004)
        public static let dateRule = Code(name: "date-rule", number: 1005)
        public static let requestKeyReused = Code(name: "request-key-reused", number: 1006)
        public static let invalidDomain = Code(name: "invalid-domain", number: 1007)
        /// A parameter is malformed in a way a schema cannot express (a stale cursor, say).
        public static let invalidArgument = Code(name: "invalid-params", number: -32602)
        public static let storageFailure = Code(name: "storage-failure", number: -32000)

        public var description: String { name }
    }

    /// Machine-readable details of a refusal.
    public struct Details: Sendable, Equatable {
        public var violations: [Violation]?
        public var required: [Role]?
        public var earliest: CivilDate?
        public var latest: String?
        public var currentVersion: Int?

        public init(
            violations: [Violation]? = nil, required: [Role]? = nil, earliest: CivilDate? = nil,
            latest: String? = nil, currentVersion: Int? = nil
        ) {
            self.violations = violations
            self.required = required
            self.earliest = earliest
            self.latest = latest
            self.currentVersion = currentVersion
        }
    }

    public var code: Code
    /// What was wrong and, where it helps, what would be right.
    public var message: String
    public var details: Details

    public init(_ code: Code, _ message: String, details: Details = Details()) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.name) (\(code.number)): \(message)" }

    static func notFound(_ what: String, _ id: String) -> PortalError {
        PortalError(.notFound, "\(what) '\(id)' does not exist")
    }
}
