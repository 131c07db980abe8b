// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "TenantServices",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TenantServices", targets: ["TenantServices"]),
        .library(name: "JanssonJSON", targets: ["JanssonJSON"]),
        .library(name: "JSONRPC", targets: ["JSONRPC"]),
        .library(name: "TenantServicesFileStore", targets: ["TenantServicesFileStore"]),
        .library(name: "TenantServicesTesting", targets: ["TenantServicesTesting"]),
        .library(name: "TenantServicesPostgres", targets: ["TenantServicesPostgres"]),
        // For the benchmark package (Benchmarks/), which measures the server's layers one by one.
        .library(name: "TenantServicesRPC", targets: ["TenantServicesRPC"]),
        .executable(name: "tenant-services", targets: ["tenant-services"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
    ],
    targets: [
        // MARK: C
        .systemLibrary(
            name: "CIDN2",
            pkgConfig: "libidn2",
            providers: [.apt(["libidn2-dev"])]
        ),
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),

        .executableTarget(
            name: "tenant-services-fuzz",
            dependencies: ["JSONRPC", "TenantServices", "TenantServicesRPC"],
            swiftSettings: swiftSettings
        ),

        // MARK: Host names (IDNA 2008 and UTS #46 through libidn2)
        .target(
            name: "HostNames",
            dependencies: ["CIDN2"],
            swiftSettings: swiftSettings
        ),

        // MARK: JSON layer
        .target(
            name: "JanssonJSON",
            dependencies: ["CJansson", "HostNames"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JanssonJSONTests",
            dependencies: ["JanssonJSON", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),

        // MARK: JSON-RPC
        .target(
            name: "JSONRPC",
            dependencies: ["JanssonJSON"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "JSONRPCTests",
            dependencies: [
                "JSONRPC", "JanssonJSON", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: RPC binding
        .target(
            name: "TenantServicesRPC",
            dependencies: ["JSONRPC", "JanssonJSON", "TenantServices"],
            swiftSettings: swiftSettings,
            plugins: ["EmbedSchemas"]
        ),
        .testTarget(
            name: "TenantServicesRPCTests",
            dependencies: [
                "TenantServicesRPC", "JSONRPC", "JanssonJSON", "TenantServices", "TenantServicesFileStore",
                "TenantServicesTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),

        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TenantServices", "TenantServicesFileStore"],
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),

        // MARK: Plugins and tools
        .plugin(
            name: "EmbedSchemas",
            capability: .buildTool()
        ),
        .plugin(
            name: "VerifySchemas",
            capability: .command(
                intent: .custom(
                    verb: "verify-schemas", description: "Verify Schemas/ and check that openrpc.json is current")
            ),
            dependencies: ["tenant-services"]
        ),

        // MARK: Domain library
        .target(
            name: "TenantServices",
            dependencies: [
                "HostNames",
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources/catalog.json")],
            swiftSettings: swiftSettings
        ),
        // MARK: Storage backends
        // The processor's CRC-32C instruction, for the file store's checksums (with a runtime check).
        .target(name: "CCRC32C"),
        .target(
            name: "TenantServicesFileStore",
            dependencies: ["TenantServices", "CCRC32C"],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "TenantServicesTesting",
            dependencies: [
                "TenantServices",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TenantServicesTests",
            dependencies: [
                "TenantServices",
                "TenantServicesFileStore",
                "TenantServicesTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: PostgreSQL store
        .target(
            name: "TenantServicesPostgres",
            dependencies: [
                "TenantServices",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: [
                "TenantServices",
                "TenantServicesFileStore",
                "TenantServicesPostgres",
                "TenantServicesTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executables
        .executableTarget(
            name: "tenant-services",
            dependencies: [
                "JSONRPC",
                "JanssonJSON",
                "TenantServices",
                "TenantServicesFileStore",
                "TenantServicesRPC",
                "TenantServicesPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
