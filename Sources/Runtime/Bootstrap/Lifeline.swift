import Glibc
import CShim

/// Until the hand-off, the bootstrap's processes die with the `swrunc` that started them: a
/// create killed halfway must not leave a half-set-up init running in a cgroup nobody records.
/// The kernel clears the parent-death signal whenever credentials change (setresuid, capset), so
/// it is bound again after each such step; the hand-off (`SyncMessage.commit`) releases it.
enum Lifeline {
    /// Die with SIGKILL when the parent (thread) exits. A parent that died before this call is
    /// noticed by the caller's next read of the sync channel, which then reports end-of-file.
    static func bind() {
        _ = cshim_prctl(PR_SET_PDEATHSIG, UInt(SIGKILL), 0, 0, 0)
    }

    /// The container is recorded: from here on it outlives the runtime process.
    static func release() {
        _ = cshim_prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)
    }
}
