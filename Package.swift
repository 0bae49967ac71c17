// swift-tools-version: 6.0
import PackageDescription

// The Makefile builds release binaries as static, non-PIE executables (`-static-executable`):
// the Swift runtime, Foundation and the C libraries are linked in, so a start costs no dynamic
// loading and almost no relocation (see bench/RESULTS.md).
let package = Package(
    name: "swrunc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swrunc", targets: ["swrunc"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Runtime", targets: ["Runtime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "CShim", path: "CSources/CShim"),
        // Only the swrunc executable links this: its constructor re-executes from a sealed copy.
        .target(name: "SwruncStart", dependencies: ["CShim"], path: "CSources/SwruncStart"),
        .systemLibrary(name: "CSeccomp", path: "CSources/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", path: "CSources/CCap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CSELinux", path: "CSources/CSELinux", pkgConfig: "libselinux",
                       providers: [.apt(["libselinux1-dev"])]),
        .target(name: "OCI"),
        .target(name: "Runtime", dependencies: ["OCI", "CShim", "CSeccomp", "CCap", "CSELinux"]),
        .executableTarget(name: "swrunc", dependencies: [
            "Runtime", "OCI", "SwruncStart",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "OCI", "CShim"]),
    ],
    swiftLanguageModes: [.v6]
)
