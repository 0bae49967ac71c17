import HostOS
import Glibc
import CShim
import JSON
import OCI

/// Hands the seccomp notify fd to the agent at `linux.seccomp.listenerPath`: one message with the
/// runtime-spec "container process state" as JSON and the fd as SCM_RIGHTS, as runc sends it.
enum SeccompListener {
    struct ProcessState: Encodable {
        var ociVersion: String
        var fds: [String]
        var pid: Int32
        var metadata: String
        var state: State
    }

    static func send(fd: Int32, plan: InitPlan, pid: Int32) throws(RuntimeError) {
        guard fd >= 0, let path = plan.seccomp?.listenerPath, !path.isEmpty else {
            throw RuntimeError("linux.seccomp: no notify fd or listenerPath")
        }
        let message = ProcessState(
            ociVersion: Spec.version, fds: ["seccompFd"], pid: pid, metadata: plan.seccomp?.listenerMetadata ?? "",
            state: State(id: plan.id, status: plan.isExec ? .running : .creating, pid: pid, bundle: plan.bundle,
                         annotations: plan.annotations))
        let json: [UInt8]
        do { json = try JSONValueEncoder().encode(message) } catch {
            throw RuntimeError("encode seccomp listener message: \(error)")
        }
        let sock: Int32
        do { sock = try UnixSocket.connect(path, what: "seccomp agent") } catch {
            // runc's words, which agents and their users search for.
            let reason = error.errno.map { String(cString: strerror($0)) } ?? error.message
            throw RuntimeError("linux.seccomp.listenerPath: failed to connect with seccomp agent \(path): \(reason)", errno: error.errno)
        }
        defer { close(sock) }
        let n = json.withUnsafeBytes { cshim_send_msg(sock, $0.baseAddress, $0.count, fd) }
        if n < 0 { throw .sys("send seccomp notify fd to \(path)") }
    }
}
