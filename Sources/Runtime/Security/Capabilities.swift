import HostOS
import Glibc
import CShim
import CCap
import OCI

/// The five capability sets of `process.capabilities`, resolved to kernel numbers. Names the
/// running kernel does not know are dropped with a warning, as the spec asks.
struct CapabilitySets {
    var bounding: [cap_value_t] = []
    var effective: [cap_value_t] = []
    var inheritable: [cap_value_t] = []
    var permitted: [cap_value_t] = []
    var ambient: [cap_value_t] = []
    var unknown: [String] = []
    /// Known, but not in this process's bounding set (a sandbox that withholds CAP_SYS_RESOURCE):
    /// it cannot be granted, and the spec says a runtime SHOULD NOT fail for it.
    var unavailable: [String] = []

    /// No capability at all (a plan's starting value).
    init() {}

    init(_ caps: OCI.Capabilities?) {
        var unknown: [String] = [], unavailable: [String] = []
        func resolve(_ names: [String]?) -> [cap_value_t] {
            var out: [cap_value_t] = []
            for name in names ?? [] {
                var value: cap_value_t = 0
                if cap_from_name(name.lowercased(), &value) == 0 && value <= Self.lastCap {
                    if cap_get_bound(value) == 1 {
                        out.append(value)
                    } else if !unavailable.contains(name) {
                        unavailable.append(name)
                    }
                } else if !unknown.contains(name) {
                    unknown.append(name)
                }
            }
            return out
        }
        bounding = resolve(caps?.bounding)
        effective = resolve(caps?.effective)
        inheritable = resolve(caps?.inheritable)
        permitted = resolve(caps?.permitted)
        ambient = resolve(caps?.ambient)
        self.unknown = unknown
        self.unavailable = unavailable
    }

    /// Read once per process: it was read for every capability name on the start path.
    static let lastCap: cap_value_t = {
        if let text = try? FileIO.readString("/proc/sys/kernel/cap_last_cap"), let v = Int32(text.trimmed()) { return v }
        return cap_value_t(cap_max_bits()) - 1
    }()

    /// Step 1, while still privileged: shrink the bounding set.
    func applyBounding(_ sys: any Syscalls) throws(RuntimeError) {
        let keep = Set(bounding)
        for cap in 0...Self.lastCap where !keep.contains(cap) {
            if sys.dropBound(cap) != 0 && errno != EINVAL {
                throw .sys("drop capability \(Self.name(cap)) from the bounding set")
            }
        }
    }

    /// Step 2, after switching user (with keep-caps): set effective, permitted, inheritable, ambient.
    func applySets(_ sys: any Syscalls) throws(RuntimeError) {
        if sys.setCapabilities(effective: effective, permitted: permitted, inheritable: inheritable) != 0 {
            throw .sys("set capabilities")
        }
        _ = sys.prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0)
        for cap in ambient {
            // Raising an ambient capability needs it in permitted and inheritable; like runc,
            // a request the kernel cannot honour is skipped rather than failing the container.
            _ = sys.prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_RAISE), UInt(cap))
        }
    }

    /// Ambient capabilities the kernel will refuse to raise (not both permitted and inheritable):
    /// the init skips them, and the parent says so beforehand in runc's words.
    var unraisableAmbient: [String] {
        ambient.filter { !inheritable.contains($0) || !permitted.contains($0) }.map(Self.name)
    }

    static func name(_ cap: cap_value_t) -> String {
        Int(cap) < KnownNames.capabilities.count ? KnownNames.capabilities[Int(cap)] : "capability \(cap)"
    }
}
