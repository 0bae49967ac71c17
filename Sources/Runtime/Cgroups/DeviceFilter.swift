import HostOS
import Glibc
import CShim
import OCI

/// One device access rule, as both cgroup versions understand it.
public struct DeviceRule: Equatable, Sendable {
    public var allow: Bool
    /// "a", "c" or "b".
    public var type: Character
    /// nil is the wildcard `*`.
    public var major: Int64?
    public var minor: Int64?
    public var access: String

    /// The config's rules in order, then the defaults every container gets (runc's list): the
    /// effective list for both v1 files and the eBPF program. Nodes from `linux.devices` get no
    /// implicit allow: the spec applies the listed rules in order, and clients (Docker, podman,
    /// the CRI) list an allow rule for each device they add.
    public static func effective(_ rules: [DeviceCgroupRule]) -> [DeviceRule] {
        var out: [DeviceRule] = rules.map { r in
            let t = (r.type?.first).map { $0 } ?? "a"
            return DeviceRule(allow: r.allow, type: t, major: r.major.flatMap { $0 < 0 ? nil : $0 },
                              minor: r.minor.flatMap { $0 < 0 ? nil : $0 },
                              access: r.effectiveAccess)
        }
        out += [("c", nil, nil, "m"), ("b", nil, nil, "m"), ("c", 1, 3, "rwm"), ("c", 1, 8, "rwm"), ("c", 1, 7, "rwm"),
                ("c", 5, 0, "rwm"), ("c", 1, 5, "rwm"), ("c", 1, 9, "rwm"), ("c", 5, 1, "rwm"), ("c", 136, nil, "rwm"),
                ("c", 5, 2, "rwm"), ("c", 10, 200, "rwm")]
            .map { DeviceRule(allow: true, type: Character($0.0), major: $0.1, minor: $0.2, access: $0.3) }
        return out
    }

    /// The v1 devices.allow / devices.deny line.
    public var v1Line: String {
        if type == "a" { return "a" }
        return "\(type) \(major.map(String.init) ?? "*"):\(minor.map(String.init) ?? "*") \(access)"
    }
}

/// cgroup v2 device control: an eBPF program of type CGROUP_DEVICE that replays the v1 rule list
/// (later rules override earlier ones; v1 starts from "allow all").
public enum DeviceFilter {
    // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; }
    static let typeBlock: Int32 = 1, typeChar: Int32 = 2
    static let accMknod: Int32 = 1, accRead: Int32 = 2, accWrite: Int32 = 4

    static func insn(_ code: UInt8, dst: UInt8 = 0, src: UInt8 = 0, off: Int16 = 0, imm: Int32 = 0) -> UInt64 {
        UInt64(code) | UInt64(dst & 0xf) << 8 | UInt64(src & 0xf) << 12
            | UInt64(UInt16(bitPattern: off)) << 16 | UInt64(UInt32(bitPattern: imm)) << 32
    }

    static func accessMask(_ access: String) -> Int32 {
        (access.contains("m") ? accMknod : 0) | (access.contains("r") ? accRead : 0) | (access.contains("w") ? accWrite : 0)
    }

    /// The program: r2 = type, r3 = requested access, r4 = major, r5 = minor; one block per rule,
    /// last rule first, each jumping to the next block when it does not match.
    public static func program(_ rules: [DeviceRule]) -> [UInt64] {
        let ldxw: UInt8 = 0x61, and32: UInt8 = 0x54, rsh32: UInt8 = 0x74, mov64imm: UInt8 = 0xb7, mov64reg: UInt8 = 0xbf
        let jne: UInt8 = 0x55, exit: UInt8 = 0x95
        var p: [UInt64] = [
            insn(ldxw, dst: 2, src: 1, off: 0), insn(and32, dst: 2, imm: 0xffff),
            insn(ldxw, dst: 3, src: 1, off: 0), insn(rsh32, dst: 3, imm: 16),
            insn(ldxw, dst: 4, src: 1, off: 4), insn(ldxw, dst: 5, src: 1, off: 8),
        ]
        for rule in rules.reversed() {
            var block: [(code: UInt8, dst: UInt8, src: UInt8, imm: Int32, jumpsOut: Bool)] = []
            if rule.type != "a" {
                block.append((jne, 2, 0, rule.type == "b" ? typeBlock : typeChar, true))
                let mask = accessMask(rule.access)
                if mask != accMknod | accRead | accWrite {
                    // Requested access must be a subset of the rule's: r6 = access & ~mask; r6 != 0 → no match.
                    block.append((mov64reg, 6, 3, 0, false))
                    block.append((and32, 6, 0, ~mask & 0x7, false))
                    block.append((jne, 6, 0, 0, true))
                }
                if let major = rule.major { block.append((jne, 4, 0, Int32(truncatingIfNeeded: major), true)) }
                if let minor = rule.minor { block.append((jne, 5, 0, Int32(truncatingIfNeeded: minor), true)) }
            }
            block.append((mov64imm, 0, 0, rule.allow ? 1 : 0, false))
            block.append((exit, 0, 0, 0, false))
            for (i, b) in block.enumerated() {
                let off = b.jumpsOut ? Int16(block.count - i - 1) : 0
                p.append(insn(b.code, dst: b.dst, src: b.src, off: off, imm: b.imm))
            }
            // A rule for every device ends the program: the verifier rejects unreachable code,
            // and no earlier rule could be reached anyway.
            if rule.type == "a" { return p }
        }
        // No rule matched: v1's starting state is "allow all".
        p.append(insn(mov64imm, dst: 0, imm: 1))
        p.append(insn(exit))
        return p
    }

    /// Loads the program for `rules` and attaches it to the cgroup v2 directory `dir`.
    public static func attach(_ rules: [DeviceRule], to dir: String) throws(RuntimeError) {
        let code = program(rules)
        var log = [CChar](repeating: 0, count: 65536)
        let prog = code.withUnsafeBufferPointer { insns in
            cshim_bpf_load_device_program(insns.baseAddress, UInt32(insns.count), &log, UInt32(log.count))
        }
        if prog < 0 {
            let e = errno
            let verifier = log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.split(separator: "\n").suffix(3).joined(separator: "; ")
            throw RuntimeError("linux.resources.devices: load eBPF device program: \(String(cString: strerror(e)))"
                               + (verifier.isEmpty ? "" : " (\(verifier))"), errno: e)
        }
        defer { close(prog) }
        let cg = try check("open cgroup \(dir)") { cshim_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        defer { close(cg) }
        try check("linux.resources.devices: attach eBPF device program to \(dir)") { cshim_bpf_attach_device_program(prog, cg) }
    }
}
