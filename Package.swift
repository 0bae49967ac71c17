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
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "HostOS", targets: ["HostOS"]),
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Runtime", targets: ["Runtime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The sealed copy of the runtime (CVE-2019-5736) in raw system calls, and swrunc's ELF
        // entry point (-e swrunc_entry below) that uses it before glibc starts.
        .target(name: "SealedExe", path: "CSources/SealedExe",
                cSettings: [.unsafeFlags(["-ffreestanding", "-fno-builtin", "-fno-stack-protector"])]),
        .target(name: "CShim", dependencies: ["SealedExe"], path: "CSources/CShim"),
        // Only the swrunc executable links this: its constructor re-executes from a sealed copy.
        .target(name: "SwruncStart", dependencies: ["CShim"], path: "CSources/SwruncStart"),
        .systemLibrary(name: "CSeccomp", path: "CSources/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", path: "CSources/CCap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CSELinux", path: "CSources/CSELinux", pkgConfig: "libselinux",
                       providers: [.apt(["libselinux1-dev"])]),
        // A strict JSON parser and Codable decoder: no Foundation, so the monitor can use it too.
        .target(name: "JSON"),
        // The OS layer both products share: files, spawning, passwd/group, paths inside a root.
        .target(name: "HostOS", dependencies: ["CShim"]),
        .target(name: "OCI", dependencies: ["JSON"]),
        .target(name: "Runtime", dependencies: ["OCI", "JSON", "HostOS", "CShim", "CSeccomp", "CCap", "CSELinux"]),
        .executableTarget(name: "swrunc", dependencies: [
            "Runtime", "OCI", "JSON", "HostOS", "SwruncStart", "SealedExe",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [.unsafeFlags(["-Xlinker", "-e", "-Xlinker", "swrunc_entry"])]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "JSON"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "OCI", "JSON", "HostOS", "CShim"]),
    ],
    swiftLanguageModes: [.v6]
)
