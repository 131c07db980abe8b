public import Foundation
import TenantServices

/// Where a PostgreSQL store lives, from a `postgresql://` (or `postgres://`) URL.
///
/// `postgresql://user:password@host:port/database`; the password may instead come from
/// `PGPASSWORD`, and `?host=/a/directory` connects over the Unix socket in that directory (as
/// libpq does). The ``description`` never shows the password.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// A host name or address, or (starting with `/`) the directory of the server's Unix socket.
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int = 5432, user: String, password: String?, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// Whether `text` names a PostgreSQL store rather than a directory.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses a store URL.
    ///
    /// - Parameter environment: where `PGPASSWORD` is looked up when the URL has no password.
    /// - Throws: ``StoreError`` saying what is missing or malformed (never quoting the password).
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw StoreError(
                "the store URL is not of the form postgresql://user:password@host:port/database (a password, if any, is not shown)"
            )
        }
        let socketDirectory = components.queryItems?.first { $0.name == "host" }?.value
        guard let host = socketDirectory ?? components.host.flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw StoreError("the store URL names no host: use postgresql://user@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError("the store URL names no user: use postgresql://user@host:port/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError("the store URL names no database: use postgresql://user@host:port/database")
        }
        self.init(
            host: host, port: components.port ?? 5432, user: user,
            password: components.password ?? environment["PGPASSWORD"], database: database)
    }

    /// The URL without the password.
    public var description: String {
        if host.hasPrefix("/") { return "postgresql://\(user)@/\(database)?host=\(host) (port \(port))" }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(user)@\(shownHost):\(port)/\(database)"
    }
}
