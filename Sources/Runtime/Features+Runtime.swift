import CSeccomp
import OCI

extension Features {
    /// What this build really implements on this host: `swrunc features`.
    public static func current() -> Features {
        let layout = try? CgroupLayout.current()
        let caps = KnownNames.capabilities.prefix(Int(CapabilitySets.lastCap) + 1)
        let hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        var linux = LinuxFeatures(
            namespaces: NamespaceType.allCases.map(\.rawValue), capabilities: Array(caps),
            cgroup: .init(v1: !(layout?.v1.isEmpty ?? true), v2: layout?.unified != nil, systemd: false,
                          systemdUser: false),
            idmapMounts: true)
        linux.apparmor = .init(enabled: LSM.apparmorEnabled)
        linux.selinux = .init(enabled: LSM.selinuxEnabled)
        linux.seccomp = .init(
            actions: ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                      "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"],
            operators: SeccompFilter.operators.keys.sorted(),
            archs: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_RISCV64", "SCMP_ARCH_S390X",
                    "SCMP_ARCH_X32", "SCMP_ARCH_X86", "SCMP_ARCH_X86_64"],
            flags: SeccompFilter.flagBits.keys.sorted())
        return Features(
            ociVersionMin: "1.0.0", ociVersionMax: Spec.version, hooks: hooks, mountOptions: MountOptions.knownNames,
            linux: linux,
            annotations: ["io.github.swrunc.version": "0.1.0"])
    }

    public static func seccompVersion() -> String {
        guard let v = seccomp_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }
}
