// swift-tools-version: 6.2
import PackageDescription

// The benchmark command and its C and SQLite baselines, in a package of their own so that the
// main package builds without SQLite: `swift run -c release tenant-services-bench` here.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "TenantServices", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
    ],
    targets: [
        // MARK: C
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CJanssonLibrary",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        .target(
            name: "CJanssonBaseline",
            dependencies: ["CJanssonLibrary"],
            linkerSettings: [.linkedLibrary("jansson")]
        ),
        .executableTarget(
            name: "jansson-echo",
            dependencies: ["CJanssonLibrary"],
            linkerSettings: [.linkedLibrary("jansson")]
        ),

        // MARK: The benchmark command
        .executableTarget(
            name: "tenant-services-bench",
            dependencies: [
                "CJanssonBaseline",
                "CSQLite",
                "jansson-echo",
                .product(name: "tenant-services", package: "TenantServices"),
                .product(name: "JanssonJSON", package: "TenantServices"),
                .product(name: "JSONRPC", package: "TenantServices"),
                .product(name: "TenantServices", package: "TenantServices"),
                .product(name: "TenantServicesFileStore", package: "TenantServices"),
                .product(name: "TenantServicesRPC", package: "TenantServices"),
                .product(name: "TenantServicesPostgres", package: "TenantServices"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
