import HostOS
import Glibc
import CSELinux
import OCI

/// SELinux and AppArmor labels. Asking for a label the host cannot apply is an error, never a
/// silent no-op: a container that believes it is confined but is not is worse than one that fails.
enum LSM {
    static var selinuxEnabled: Bool { is_selinux_enabled() == 1 }

    static var apparmorEnabled: Bool {
        (try? FileIO.readString("/sys/module/apparmor/parameters/enabled"))?.hasPrefix("Y") == true
    }

    /// Checked by the parent before anything is created.
    static func validate(_ process: OCI.Process, mountLabel: String?) throws(RuntimeError) {
        if let label = process.selinuxLabel, !label.isEmpty, !selinuxEnabled {
            throw RuntimeError("process.selinuxLabel: SELinux is not enabled on this host")
        }
        if let label = mountLabel, !label.isEmpty, !selinuxEnabled {
            throw RuntimeError("linux.mountLabel: SELinux is not enabled on this host")
        }
        if let profile = process.apparmorProfile, !profile.isEmpty, !apparmorEnabled {
            throw RuntimeError("process.apparmorProfile: AppArmor is not enabled on this host")
        }
    }

    /// In the init, just before execve: both labels take effect at the exec transition.
    static func applyExecLabels(_ process: ResolvedProcess) throws(RuntimeError) {
        if let label = process.selinuxLabel, !label.isEmpty {
            if setexeccon(label) != 0 { throw .sys("set SELinux exec label \(label)") }
        }
        if let profile = process.apparmorProfile, !profile.isEmpty {
            let attr = FileIO.exists("/proc/self/attr/apparmor/exec") ? "/proc/self/attr/apparmor/exec" : "/proc/self/attr/exec"
            do { try FileIO.writeExisting(attr, "exec \(profile)") } catch {
                throw RuntimeError("set AppArmor profile \(profile): \(error)", errno: error.errno)
            }
        }
    }
}
