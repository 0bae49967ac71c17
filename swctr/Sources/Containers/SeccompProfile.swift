import Glibc
import HostOS
import Database
import JSON
import OCI
import Registry

/// Docker's seccomp profile format (what `docker run --security-opt seccomp=FILE` and podman's
/// /usr/share/containers/seccomp.json use) turned into the OCI form for one container: rules
/// whose `includes`/`excludes` name capabilities, architectures or a minimum kernel apply only
/// when the container's capabilities, this machine's architecture and its kernel say so, as
/// Docker decides them.
public enum SeccompProfile {
    /// podman's default profile, installed by Debian's golang-github-containers-common.
    public static let defaultPath = "/usr/share/containers/seccomp.json"

    struct Filter: Decodable {
        var caps: [String]?
        var arches: [String]?
        var minKernel: String?
    }
    struct Rule: Decodable {
        var name: String?
        var names: [String]?
        var action: String
        var errnoRet: UInt32?
        var args: [SeccompArg]?
        var includes: Filter?
        var excludes: Filter?
    }
    struct ArchMap: Decodable {
        var architecture: String
        var subArchitectures: [String]?
    }
    struct Profile: Decodable {
        var defaultAction: String
        var defaultErrnoRet: UInt32?
        var architectures: [String]?
        var archMap: [ArchMap]?
        var syscalls: [Rule]?
    }

    static var nativeSeccompArch: String {
        #if arch(x86_64)
        "SCMP_ARCH_X86_64"
        #elseif arch(arm64)
        "SCMP_ARCH_AARCH64"
        #else
        "SCMP_ARCH_NATIVE"
        #endif
    }

    /// The running kernel's major.minor.
    static var kernel: (Int, Int) {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
    }

    static func atLeast(_ minKernel: String, _ k: (Int, Int)) -> Bool {
        let p = minKernel.split(separator: ".").compactMap { Int($0) }
        let want = (p.first ?? 0, p.count > 1 ? p[1] : 0)
        return k.0 > want.0 || (k.0 == want.0 && k.1 >= want.1)
    }

    public static func load(_ path: String, capabilities: [String]) throws -> Seccomp {
        let bytes: [UInt8]
        do { bytes = try FileIO.read(path) } catch { throw SwctrError(.invalidArgument, "seccomp profile: \(error)") }
        let profile: Profile
        do { profile = try JSONValueDecoder().decode(Profile.self, from: bytes) } catch {
            throw SwctrError(.invalidArgument, "seccomp profile \(path): \(error)")
        }
        // Profiles name architectures as Go does, which is how image platforms name them too.
        return convert(profile, capabilities: Set(capabilities), arch: Platform.host.architecture, kernel: kernel)
    }

    static func convert(_ p: Profile, capabilities: Set<String>, arch: String, kernel: (Int, Int)) -> Seccomp {
        var out = Seccomp(defaultAction: p.defaultAction)
        out.defaultErrnoRet = p.defaultErrnoRet
        if let map = p.archMap {
            let native = map.filter { $0.architecture == nativeSeccompArch }.flatMap { [$0.architecture] + ($0.subArchitectures ?? []) }
            out.architectures = native.isEmpty ? nil : native
        } else {
            out.architectures = p.architectures
        }
        var rules: [SeccompSyscall] = []
        for r in p.syscalls ?? [] {
            if let ex = r.excludes {
                if ex.arches?.contains(arch) == true { continue }
                if ex.caps?.contains(where: capabilities.contains) == true { continue }
                if let k = ex.minKernel, atLeast(k, kernel) { continue }
            }
            if let inc = r.includes {
                if let arches = inc.arches, !arches.isEmpty, !arches.contains(arch) { continue }
                if let caps = inc.caps, !caps.allSatisfy(capabilities.contains) { continue }
                if let k = inc.minKernel, !atLeast(k, kernel) { continue }
            }
            let names = (r.names ?? []) + (r.name.map { [$0] } ?? [])
            guard !names.isEmpty else { continue }
            rules.append(SeccompSyscall(names: names, action: r.action, errnoRet: r.errnoRet,
                                        args: (r.args ?? []).isEmpty ? nil : r.args))
        }
        out.syscalls = rules
        return out
    }
}
