// swift-tools-version: 6.0
import PackageDescription

// swctr: the manager above swrunc. A package of its own so that its network and database
// dependencies never touch the runtime's build (swrunc stays a small static executable).
// Imports point down: swctr (CLI) → Compose → Build → Containers → Images/Monitor/RuntimeClient/Logs → Database,
// Registry → JSON/HostOS/OCI from the root package.
let package = Package(
    name: "swctr",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swctr", targets: ["swctr"]),
        .executable(name: "swctr-monitor", targets: ["MonitorMain"]),
    ],
    dependencies: [
        .package(name: "swrunc", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // Only the swctr executable links this: its constructor joins the rootless namespaces.
        .target(name: "SwctrStart", path: "Sources/SwctrStart"),
        .target(name: "Registry", dependencies: [
            "CCrypto",
            .product(name: "HostOS", package: "swrunc"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The SQLite store: one queue, migrations, one record type per file, errors with codes.
        .target(name: "Database", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "HostOS", package: "swrunc"),
        ]),
        .target(name: "Images", dependencies: [
            "CArchive", "CCrypto", "Registry", "Database",
            .product(name: "OCI", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // A typed client for swrunc's command line, and a fake of it for tests.
        .target(name: "RuntimeClient", dependencies: [
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
        ]),
        // Docker's json-file log format: the monitor writes it, `logs` reads it. No Foundation.
        .target(name: "Logs", dependencies: [
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
        ]),
        // The per-container monitor: its configuration and state records, the supervisor loop.
        // No Foundation and no database, so that a monitor costs little memory per container.
        .target(name: "Monitor", dependencies: [
            "Logs", "RuntimeClient",
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
        ]),
        // A static, non-PIE executable like swrunc: one per running container, so the pages
        // the dynamic loader's relocations would dirty matter.
        .executableTarget(name: "MonitorMain", dependencies: ["Monitor"],
                          linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "--strip-all"])]),
        // Networks through the CNI plugins: subnets, conflists, plugin invocation, -p specs.
        .target(name: "Networks", dependencies: [
            "Database",
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
        ]),
        .target(name: "Containers", dependencies: [
            "Images", "Database", "RuntimeClient", "Monitor", "Logs", "Registry", "Networks",
            .product(name: "OCI", package: "swrunc"),
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // Dockerfile builds: the parser (directives, continuations, heredocs, forms), variable
        // substitution as Docker applies it, .dockerignore matching; the plan (stages, ARG
        // scopes), the executor (RUN through the runtime, COPY/ADD into an overlay) and the cache.
        .target(name: "Build", dependencies: [
            "Database", "Images", "Containers", "Registry", "RuntimeClient", "CArchive",
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
            .product(name: "OCI", package: "swrunc"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // Compose files (the Compose Specification, read with Yams) → a project of networks,
        // volumes, builds and containers; up, down and the rest run through the manager.
        .target(name: "Compose", dependencies: [
            "Build", "Containers", "Database", "Images", "Logs", "Networks", "Registry",
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "swctr", dependencies: [
            "SwctrStart", "Registry", "Images", "Containers", "Database", "Logs", "Monitor", "RuntimeClient", "CArchive", "Networks", "Build", "Compose",
            .product(name: "Yams", package: "Yams"),
            .product(name: "OCI", package: "swrunc"),
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "BuildTests", dependencies: ["Build", "Database", "Images", "Containers", "RuntimeClient",
                                                    .product(name: "JSON", package: "swrunc"), .product(name: "HostOS", package: "swrunc")]),
        .testTarget(name: "ComposeTests", dependencies: ["Compose", "Containers", "Database", .product(name: "HostOS", package: "swrunc")]),
        .testTarget(name: "SwctrTests", dependencies: ["Registry", "Images", .product(name: "HostOS", package: "swrunc")]),
        .testTarget(name: "ContainersTests", dependencies: [
            "Containers", "RuntimeClient", "Logs", "Monitor", "Images", "Database", "Networks",
            .product(name: "OCI", package: "swrunc"),
            .product(name: "JSON", package: "swrunc"),
            .product(name: "HostOS", package: "swrunc"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
