import HostOS
import Glibc
import CSeccomp
import CShim
import OCI
import JSON

/// `linux.seccomp` compiled with libseccomp. The parent compiles it before forking — so a bad
/// profile fails `create` with the field's JSON path and costs the child nothing — and the
/// container's init loads it as late as the kernel allows (see `ContainerInit`).
///
/// libseccomp compiles; swrunc exports the program, puts runc's -ENOSYS stub in front of it (a
/// syscall newer than any the profile names looks unimplemented, so libc falls back — clone3 →
/// clone — instead of failing with the default errno), and loads it with seccomp(2) and exactly
/// the flags the profile asks for. Filters without SCMP_ACT_NOTIFY are cached under the state
/// root, keyed by the profile's canonical JSON: the next container with the same profile
/// (Docker's and podman's default, every time) skips libseccomp entirely.
final class SeccompFilter {
    private var ctx: scmp_filter_ctx?
    /// The program as loaded (stub included) and the seccomp(2) flags from the profile.
    private var program: [UInt8] = []
    private var loadFlags: UInt32 = 0
    let notifies: Bool
    let listenerPath: String?
    let listenerMetadata: String?

    // SCMP_ACT_* (function-like macros in seccomp.h, so spelled out here).
    static let actKillProcess: UInt32 = 0x8000_0000, actKillThread: UInt32 = 0, actTrap: UInt32 = 0x0003_0000,
               actNotify: UInt32 = 0x7fc0_0000, actLog: UInt32 = 0x7ffc_0000, actAllow: UInt32 = 0x7fff_0000
    static func actErrno(_ e: UInt32) -> UInt32 { 0x0005_0000 | (e & 0xffff) }
    static func actTrace(_ e: UInt32) -> UInt32 { 0x7ff0_0000 | (e & 0xffff) }

    static func action(_ name: String, errno: UInt32?, at path: String) throws(RuntimeError) -> UInt32 {
        switch name {
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return actKillThread
        case "SCMP_ACT_KILL_PROCESS": return actKillProcess
        case "SCMP_ACT_TRAP": return actTrap
        case "SCMP_ACT_ERRNO": return actErrno(errno ?? UInt32(EPERM))
        case "SCMP_ACT_TRACE": return actTrace(errno ?? UInt32(EPERM))
        case "SCMP_ACT_ALLOW": return actAllow
        case "SCMP_ACT_LOG": return actLog
        case "SCMP_ACT_NOTIFY": return actNotify
        default: throw RuntimeError("\(path): unknown seccomp action \"\(name)\"")
        }
    }

    static let operators: [String: scmp_compare] = [
        "SCMP_CMP_NE": SCMP_CMP_NE, "SCMP_CMP_LT": SCMP_CMP_LT, "SCMP_CMP_LE": SCMP_CMP_LE,
        "SCMP_CMP_EQ": SCMP_CMP_EQ, "SCMP_CMP_GE": SCMP_CMP_GE, "SCMP_CMP_GT": SCMP_CMP_GT,
        "SCMP_CMP_MASKED_EQ": SCMP_CMP_MASKED_EQ,
    ]

    /// seccomp(2) filter flags by their spec names (WAIT_KILLABLE_RECV goes with a listener only).
    /// TSYNC is accepted and left out, as runc leaves it: the init that loads the filter has a
    /// single thread, and the kernel refuses TSYNC next to NEW_LISTENER.
    static let flagBits: [String: UInt32] = [
        "SECCOMP_FILTER_FLAG_TSYNC": 0, "SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32,
    ]
    /// A profile without `flags` gets SPEC_ALLOW, as under runc (and Docker before it): seccomp
    /// alone does not switch on the speculative-store-bypass mitigation. `flags: []` means none.
    static let defaultFlags: UInt32 = 4
    static let newListenerFlag: UInt32 = 8, waitKillableFlag: UInt32 = 32

    /// The flags seccomp(2) gets: the profile's, plus NEW_LISTENER for a notifying filter
    /// (`--debug` logs them, as runc does).
    var effectiveFlags: UInt32 {
        notifies ? loadFlags | Self.newListenerFlag : loadFlags & ~Self.waitKillableFlag
    }

    /// A cached or freshly compiled filter; `cacheDir` nil compiles without caching.
    convenience init(_ s: OCI.Seccomp, cacheDir: String?) throws(RuntimeError) {
        guard let cacheDir, !SeccompCache.needsListener(s) else {
            try self.init(s)
            return
        }
        let key = SeccompCache.key(s)
        if let program = SeccompCache.lookup(key, in: cacheDir) {
            try self.init(s, program: program)
            return
        }
        try self.init(s)
        SeccompCache.store(key, program: program, in: cacheDir)
    }

    private init(_ s: OCI.Seccomp, program: [UInt8]) throws(RuntimeError) {
        ctx = nil
        self.program = program
        loadFlags = SeccompCache.flags(s)
        notifies = false
        listenerPath = s.listenerPath
        listenerMetadata = s.listenerMetadata
    }

    /// libseccomp's program for this filter.
    private func exportProgram() -> [UInt8]? {
        guard let ctx else { return nil }
        let fd = cshim_memfd("swrunc-seccomp")
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard seccomp_export_bpf(ctx, fd) == 0 else { return nil }
        lseek(fd, 0, SEEK_SET)
        return try? FileIO.readAll(fd, what: "seccomp program")
    }

    init(_ s: OCI.Seccomp) throws(RuntimeError) {
        let base = "linux.seccomp"
        let defaultAction = try Self.action(s.defaultAction, errno: s.defaultErrnoRet, at: "\(base).defaultAction")
        guard let ctx = seccomp_init(defaultAction) else { throw RuntimeError("\(base): seccomp_init failed") }
        self.ctx = ctx
        listenerPath = s.listenerPath
        listenerMetadata = s.listenerMetadata
        var notifies = defaultAction == Self.actNotify
        // NO_NEW_PRIVS is the config's decision (process.noNewPrivileges), not libseccomp's.
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        var flags: UInt32 = s.flags == nil ? Self.defaultFlags : 0
        for (i, flag) in (s.flags ?? []).enumerated() {
            guard let bit = Self.flagBits[flag] else {
                seccomp_release(ctx)
                throw RuntimeError("\(base).flags[\(i)]: unsupported seccomp flag \"\(flag)\"")
            }
            flags |= bit
        }
        loadFlags = flags
        var largestSyscall: Int32 = -1
        for (i, name) in (s.architectures ?? []).enumerated() {
            var short = name.hasPrefix("SCMP_ARCH_") ? String(name.dropFirst(10)) : name
            short = short.lowercased()
            let arch = seccomp_arch_resolve_name(short)
            if arch == 0 {
                seccomp_release(ctx)
                throw RuntimeError("\(base).architectures[\(i)]: unknown architecture \"\(name)\"")
            }
            let rc = seccomp_arch_add(ctx, arch)
            if rc != 0 && rc != -EEXIST {
                seccomp_release(ctx)
                throw RuntimeError("\(base).architectures[\(i)]: \(String(cString: strerror(-rc)))")
            }
        }
        for (i, rule) in (s.syscalls ?? []).enumerated() {
            let path = "\(base).syscalls[\(i)]"
            let action: UInt32
            var conditions: [scmp_arg_cmp] = []
            do throws(RuntimeError) {
                action = try Self.action(rule.action, errno: rule.errnoRet, at: "\(path).action")
                for (j, arg) in (rule.args ?? []).enumerated() {
                    guard arg.index < 6 else { throw RuntimeError("\(path).args[\(j)].index: must be below 6, got \(arg.index)") }
                    guard let op = Self.operators[arg.op] else {
                        throw RuntimeError("\(path).args[\(j)].op: unknown operator \"\(arg.op)\"")
                    }
                    conditions.append(scmp_arg_cmp(arg: UInt32(arg.index), op: op, datum_a: arg.value,
                                                   datum_b: arg.valueTwo ?? 0))
                }
            } catch {
                seccomp_release(ctx)
                throw error
            }
            if action == Self.actNotify { notifies = true }
            if action == Self.actNotify && rule.names.contains("write") {
                // The runtime itself writes to pass the notify fd on: it would wait on itself.
                seccomp_release(ctx)
                throw RuntimeError("\(path): SCMP_ACT_NOTIFY cannot be used for the write syscall")
            }
            for name in rule.names { largestSyscall = max(largestSyscall, seccomp_syscall_resolve_name(name)) }
            // libseccomp refuses a rule that repeats the default action; it would change nothing.
            if action == defaultAction { continue }
            // Conditions on distinct arguments are ANDed in one rule; libseccomp cannot AND two
            // conditions on the same argument, so those become one rule each (runc does the same).
            let indices = conditions.map(\.arg)
            let groups: [[scmp_arg_cmp]] = Set(indices).count == indices.count ? [conditions] : conditions.map { [$0] }
            for name in rule.names {
                let nr = seccomp_syscall_resolve_name(name)
                // Unknown to this kernel/libseccomp: skipped, as runc does.
                if nr == -1 { continue }
                for group in groups {
                    var g = group
                    let rc = g.withUnsafeMutableBufferPointer {
                        seccomp_rule_add_array(ctx, action, nr, UInt32($0.count), $0.baseAddress)
                    }
                    if rc != 0 {
                        seccomp_release(ctx)
                        throw RuntimeError("\(path): add rule for \(name): \(String(cString: strerror(-rc)))")
                    }
                }
            }
        }
        self.notifies = notifies
        if notifies && (listenerPath ?? "").isEmpty {
            // Fully initialised here, so deinit runs and releases the context.
            throw RuntimeError("\(base).listenerPath: required when an action is SCMP_ACT_NOTIFY")
        }
        guard let exported = exportProgram() else { throw RuntimeError("\(base): libseccomp could not export the filter") }
        let permissive = ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].contains(s.defaultAction)
        let wantsENOSYS = !permissive && s.defaultErrnoRet != UInt32(ENOSYS) && largestSyscall >= 0
        program = (wantsENOSYS ? ENOSYSStub.program(above: UInt32(largestSyscall)) : []) + exported
    }

    /// Loads the filter into this process; returns the notify fd when the filter has one.
    func load() throws(RuntimeError) -> Int32 {
        let rc = program.withUnsafeBytes { cshim_seccomp_set_filter(effectiveFlags, $0.baseAddress, $0.count) }
        if rc < 0 { throw .sys("load seccomp filter") }
        return notifies ? rc : -1
    }

    deinit { if let ctx { seccomp_release(ctx) } }
}

/// Compiled filters by profile, in `<root>/seccomp-cache`. A file holds the key it was made for;
/// a hit needs the whole key to match, so the file name (a 64-bit hash) only finds candidates.
enum SeccompCache {
    static func needsListener(_ s: OCI.Seccomp) -> Bool {
        s.defaultAction == "SCMP_ACT_NOTIFY" || (s.syscalls ?? []).contains { $0.action == "SCMP_ACT_NOTIFY" }
    }

    /// The profile as canonical JSON, plus what else decides the program: libseccomp's version.
    /// `format` changes whenever swrunc's own part of the program (the stub) does.
    static func key(_ s: OCI.Seccomp) -> [UInt8] {
        // The fields in declaration order: as canonical as sorted keys for one swrunc build.
        let profile = (try? JSONValueEncoder().encode(s)) ?? []
        return Array("libseccomp \(Features.seccompVersion()) format 3\n".utf8) + profile
    }

    static func flags(_ s: OCI.Seccomp) -> UInt32 {
        guard let names = s.flags else { return SeccompFilter.defaultFlags }
        return names.reduce(0) { $0 | (SeccompFilter.flagBits[$1] ?? 0) }
    }

    static func path(_ key: [UInt8], in dir: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return "\(dir)/\(String(repeating: "0", count: 16 - hex.count))\(hex).bpf"
    }

    /// File layout: 8-byte little-endian key length, the key, then the program.
    static func lookup(_ key: [UInt8], in dir: String) -> [UInt8]? {
        guard let data = try? FileIO.read(path(key, in: dir)), data.count > 8 + key.count else { return nil }
        var n = 0
        for i in 0..<8 { n |= Int(data[i]) << (8 * i) }
        guard n == key.count, data[8..<(8 + n)].elementsEqual(key) else { return nil }
        let program = Array(data[(8 + n)...])
        return program.count % 8 == 0 ? program : nil
    }

    /// Best effort: a failure to cache costs the next container a compile, nothing else.
    static func store(_ key: [UInt8], program: [UInt8], in dir: String) {
        mkdir(dir, 0o700)
        var n = key.count
        var header = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { header[i] = UInt8(n & 0xff); n >>= 8 }
        try? FileIO.writeAtomic(path(key, in: dir), header + key + program, mode: 0o600)
    }
}
