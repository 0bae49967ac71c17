import HostOS
import Glibc
import CShim

/// CVE-2019-5736: a process in the container that gets hold of /proc/<pid>/exe of a runtime
/// process inside it (an exec target that is a symlink to /proc/self/exe, a `#!/proc/self/exe`
/// script, or a container with CAP_SYS_PTRACE watching for new processes) could write over the
/// host's binary once it stops running. So the commands that enter a container run from a copy
/// nothing can write to — the binary seen through a private read-only overlayfs mount that is
/// attached nowhere (runc 1.2's way, no copying), or failing that a sealed memfd copy. swrunc's
/// start code (CSources/SwruncStart) re-executes before anything else runs; this checks the
/// result, so that a command never goes on as the host binary.
public enum SealedExecutable {
    /// Fails unless this process runs from a sealed copy, for a command that needs one.
    /// `commands` is the start code's list; `failure` the errno of its attempt, if it failed.
    public static func verify(command: String?, commands: Set<String>, failure: Int32) throws(RuntimeError) {
        guard let command, commands.contains(command) else { return }
        let sealed = cshim_exe_is_sealed()
        if sealed == 1 { return }
        let code = failure != 0 ? failure : (sealed < 0 ? errno : EPERM)
        throw .sys("\(command): cannot run from a sealed copy of the runtime binary (it would be writable from the container)", code)
    }

    /// What --debug says about the copy this command runs from, in runc's words (its bats suite
    /// looks for "runc exeseal: …", which "swrunc exeseal: …" contains).
    public static func debugLines(command: String?, commands: Set<String>) -> [String] {
        guard let command, commands.contains(command), cshim_exe_is_sealed() == 1 else { return [] }
        let overlay = cshim_exe_is_overlay() == 1
        return ["swrunc exeseal: using /proc/self/exe clone",
                overlay ? "swrunc exeseal: using overlayfs for sealed /proc/self/exe" : "swrunc exeseal: using a sealed memfd copy of /proc/self/exe"]
    }
}
