// swift-tools-version: 6.0
import PackageDescription

// swctr: the image manager above swrunc. A package of its own so that its network and database
// dependencies never touch the runtime's build (swrunc stays a small static executable).
let package = Package(
    name: "swctr",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swctr", targets: ["swctr"]),
    ],
    dependencies: [
        .package(name: "swrunc", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .target(name: "Registry", dependencies: [
            "CCrypto",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(name: "Images", dependencies: [
            "CArchive", "CCrypto", "Registry",
            .product(name: "OCI", package: "swrunc"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .executableTarget(name: "swctr", dependencies: [
            "Registry", "Images", "CArchive",
            .product(name: "OCI", package: "swrunc"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "SwctrTests", dependencies: ["Registry", "Images"]),
    ],
    swiftLanguageModes: [.v6]
)
