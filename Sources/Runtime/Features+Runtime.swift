import CSeccomp
import OCI

extension Features {
    /// What this build really implements on this host: `swrunc features`.
    public static func current() -> Features {
        let layout = try? CgroupLayout.current()
        let caps = KnownNames.capabilities.prefix(Int(CapabilitySets.lastCap) + 1)
        let hooks = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
        return Features(
            ociVersionMin: "1.0.0", ociVersionMax: Spec.version, hooks: hooks, mountOptions: MountOptions.knownNames,
            linux: LinuxFeatures(
                namespaces: NamespaceType.allCases.map(\.rawValue), capabilities: Array(caps),
                cgroup: .init(v1: !(layout?.v1.isEmpty ?? true), v2: layout?.unified != nil, systemd: false,
                              systemdUser: false),
                idmapMounts: false),
            annotations: ["io.github.swrunc.version": "0.1.0"])
    }

    public static func seccompVersion() -> String {
        guard let v = seccomp_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }
}
