/// An operation was refused; nothing was changed.
public struct PortalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of refusal; each has a stable name, sent as `data.reason` (a binding such as
    /// JSON-RPC gives each its own code).
    public struct Code: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The error's name, as sent in `data.reason`.
        public let name: String

        public static let notFound = Code(name: "not-found")
        public static let permissionDenied = Code(name: "permission-denied")
        public static let conflict = Code(name: "conflict")
        public static let dependencyViolation = Code(name: "dependency-violation")
        public static let invalidTransition = Code(name: "invalid-transition")
        public static let dateRule = Code(name: "date-rule")
        public static let requestKeyReused = Code(name: "request-key-reused")
        public static let invalidDomain = Code(name: "invalid-domain")
        /// A parameter is malformed in a way a schema cannot express (a stale cursor, say).
        public static let invalidArgument = Code(name: "invalid-params")
        /// The store could not persist the change; nothing was applied.
        public static let storageFailure = Code(name: "storage-failure")

        /// Every kind of refusal.
        public static let allCases: [Code] = [
            .notFound, .permissionDenied, .conflict, .dependencyViolation, .invalidTransition, .dateRule,
            .requestKeyReused, .invalidDomain, .invalidArgument, .storageFailure,
        ]

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

    public var description: String { "\(code.name): \(message)" }

    static func notFound(_ what: String, _ id: String) -> PortalError {
        PortalError(.notFound, "\(what) '\(id)' does not exist")
    }
}
