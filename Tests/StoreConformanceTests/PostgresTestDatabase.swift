import Foundation
import PostgresNIO
import TenantServices
import Testing

@testable import TenantServicesPostgres

/// A database of its own for one test, on the cluster that `Tests/Postgres/with-cluster.sh` starts
/// (`TENANT_SERVICES_TEST_POSTGRES_URL`). Without that variable the PostgreSQL tests are skipped
/// locally with a message, and fail under CI (`CI=true`), where they must run.
final class PostgresTestDatabase: @unchecked Sendable {
    static let variable = "TENANT_SERVICES_TEST_POSTGRES_URL"
    let name: String
    let admin: PostgresLocation
    /// The URL of this test's database (with the password).
    let url: String

    /// The cluster's URL, or nil (after recording an issue under CI) when there is none.
    static func clusterURL() -> String? {
        if let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty { return url }
        if let ci = ProcessInfo.processInfo.environment["CI"], !["", "0", "false"].contains(ci.lowercased()) {
            Issue.record(
                "\(variable) is not set: under CI the PostgreSQL tests must run inside Tests/Postgres/with-cluster.sh")
        } else {
            print(
                "note: skipping a PostgreSQL test: \(variable) is not set (run the tests through Tests/Postgres/with-cluster.sh)"
            )
        }
        return nil
    }

    /// A new, empty database, or nil when there is no cluster (see ``clusterURL()``).
    static func make() throws -> PostgresTestDatabase? {
        guard let url = clusterURL() else { return nil }
        return try PostgresTestDatabase(clusterURL: url)
    }

    private init(clusterURL: String) throws {
        admin = try PostgresLocation(url: clusterURL)
        name = "ts_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        var location = admin
        location.database = name
        let password =
            location.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
            ?? ""
        url = "postgresql://\(location.user)\(password)@\(location.host):\(location.port)/\(name)"
        try Self.run(admin, "CREATE DATABASE \(name)")
    }

    deinit { try? Self.run(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }

    /// Removes the store's tables, so the next store starts empty.
    func reset() throws {
        var location = admin
        location.database = name
        try Self.run(location, "DROP TABLE IF EXISTS tenant_services_events, tenant_services_schema")
    }

    /// Runs SQL on this test's database.
    func execute(_ sql: String) throws {
        var location = admin
        location.database = name
        try Self.run(location, sql)
    }

    /// A store on this database.
    func store() throws -> PostgresStore { try PostgresStore(url: url) }

    /// The first column of the first row of a query on this test's database, as an integer.
    func integer(_ sql: String) throws -> Int64 {
        var location = admin
        location.database = name
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        let connection = try PostgresConnection.connect(
            on: Self.group.next(), configuration: configuration, id: 0, logger: Logger(label: "test-admin")
        ).wait()
        defer { _ = try? connection.close().wait() }
        // `send`, like the store: a query written to a channel that closed meanwhile is failed, not
        // dropped (postgres-nio would leave its promise pending, a trap in debug builds).
        let rows = try connection.send(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-admin")).wait()
        return try rows.first!.decode(Int64.self)
    }

    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Runs statements over a connection of their own.
    static func run(_ location: PostgresLocation, _ statements: String...) throws {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        let connection = try PostgresConnection.connect(
            on: group.next(), configuration: configuration, id: 0, logger: Logger(label: "test-admin")
        ).wait()
        defer { _ = try? connection.close().wait() }
        for statement in statements {
            _ = try connection.send(PostgresQuery(unsafeSQL: statement), logger: Logger(label: "test-admin")).wait()
        }
    }
}
