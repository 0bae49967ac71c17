import HostOS
import Glibc
import CShim
import OCI

/// The container's init before execve: rootfs, terminal, security settings; then it reports
/// ready, blocks on the exec fifo until `start`, and execs the user's program. Ordering follows
/// runc's: mounts before pivot_root, sysctls before masking /proc, capabilities after the last
/// privileged step, seccomp (issue 3) immediately before execve.
enum ContainerInit {
    static func run(_ plan: InitPlan, channel: SyncChannel) -> Never {
        var reported = false
        do throws(RuntimeError) {
            var (exe, pendingSeccomp) = try setup(plan, channel: channel)
            try channel.send(.ready)
            // Until the parent has recorded the container, this process dies with it.
            let commit = try channel.receive(waitingFor: "the runtime to record the container", timeout: -1)
            guard commit == .commit else { throw RuntimeError("bootstrap: unexpected message \(commit)") }
            Lifeline.release()
            try channel.send(.committed)
            // From here on `create` has returned: failures also go to the container's stderr.
            reported = true
            // Without a process nothing can be started: wait to be deleted.
            if !plan.hasProcess { while true { pause() } }
            let gate = try waitForStart(plan)
            let startHooks = plan.container.startContainerHooks
            if let filter = pendingSeccomp, !startHooks.isEmpty {
                // startContainer hooks run confined by the container's filter, as under runc;
                // without such hooks the filter still goes on last, just before execve.
                _ = try filter.load()
                pendingSeccomp = nil
            }
            do {
                try HookRunner.run(startHooks, kind: "startContainer",
                                   state: State(id: plan.id, status: .created, pid: getpid(), bundle: plan.bundle,
                                                annotations: plan.annotations),
                                   defaultEnv: ExecutableLookup.environment(plan.process))
            } catch {
                try? channel.send(.hookFailed(error.message))
                throw error
            }
            // The byte says "hooks done"; the write end stays open until execve closes it
            // (CLOEXEC), so `start` runs poststart hooks only once the program is running.
            if gate >= 0 {
                let byte: [UInt8] = [0x30]
                _ = byte.withUnsafeBytes { write(gate, $0.baseAddress, 1) }
            }
            // The channel stays open until execve closes it (CLOEXEC): a parent still listening
            // (`run`) learns from that EOF that the user's program has started.
            exec(plan, path: exe, seccomp: pendingSeccomp)
        } catch {
            if !reported {
                // After a .hookFailed this second report goes unread; the parent stopped at the first.
                try? channel.send(.failed(error))
            } else {
                try? channel.send(.failed(error))
                let line = "swrunc init: \(error.message)\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
            }
            _exit(1)
        }
    }

    /// Everything up to "ready"; returns the resolved executable path and the seccomp filter
    /// still to be loaded just before execve.
    static func setup(_ plan: InitPlan, channel: SyncChannel) throws(RuntimeError) -> (String, SeccompFilter?) {
        let sys = LinuxSyscalls()
        _ = setsid()
        if plan.isExec {
            if plan.process.terminal {
                guard plan.consoleFD >= 0 else { throw RuntimeError("--tty needs a --console-socket") }
                try Console.setup(socket: plan.consoleFD, size: plan.process.consoleSize, mountConsole: false,
                                  clearONLCR: plan.consoleIsOurs, owner: plan.process.user.uid)
                close(plan.consoleFD)
            }
        } else {
            do { try setupContainer(sys, plan, channel: channel) } catch { throw error.during("rootfs") }
        }
        do { return try prepareProcess(sys, plan, channel: channel) } catch { throw error.during("process") }
    }

    /// Limits, scheduling, no_new_privs, the program's path, the credential switch, labels; the
    /// seccomp filter too when it cannot wait until just before execve.
    static func prepareProcess(_ sys: any Syscalls, _ plan: InitPlan, channel: SyncChannel) throws(RuntimeError) -> (String, SeccompFilter?) {
        try ProcessCredentials.applyRlimits(sys, plan.process.rlimits)
        if let adj = plan.process.oomScoreAdj, !plan.isExec { try ProcessCredentials.applyOOMScoreAdj(adj) }
        try plan.settings.apply()
        if plan.process.noNewPrivileges {
            try check("set no_new_privs") { sys.prctl(PR_SET_NO_NEW_PRIVS, 1, 0) }
        }
        let exe = plan.hasProcess ? try ExecutableLookup.find(plan.process) : ""

        var seccomp = plan.seccomp
        if let filter = seccomp, !plan.process.noNewPrivileges {
            // Without no_new_privs the kernel only accepts a filter from a task with
            // CAP_SYS_ADMIN: load it now, before capabilities are dropped (runc's order).
            try sendNotifyFD(try filter.load(), channel: channel)
            seccomp = nil
        }
        let setgroupsAllowed = (try? FileIO.readString("/proc/self/setgroups").trimmed()) != "deny"
        // The working directory is entered while still root (a directory only root may enter
        // works, as with runc), and again as the user if that failed.
        let enteredCwd = sys.chdir(plan.process.cwd) == 0
        ProcessCredentials.handStdio(to: plan.process.user.uid)
        try ProcessCredentials.becomeUser(sys, plan.process.user, capabilities: plan.process.capabilities, allowSetgroups: setgroupsAllowed)
        Lifeline.bind()  // the credential changes cleared it
        if !enteredCwd { try check("chdir \(plan.process.cwd)") { sys.chdir(plan.process.cwd) } }
        umask(mode_t(plan.process.user.umask ?? 0o022))
        try LSM.applyExecLabels(plan.process)
        if let filter = seccomp, filter.notifies {
            // The listener must get the fd while the parent is still there to pass it on.
            try sendNotifyFD(try filter.load(), channel: channel)
            seccomp = nil
        }
        return (exe, seccomp)
    }

    static func sendNotifyFD(_ fd: Int32, channel: SyncChannel) throws(RuntimeError) {
        guard fd >= 0 else { return }
        try channel.send(.seccompNotify(fd))
        close(fd)
    }

    /// The container-wide part of the setup: rootfs, hooks, pivot, terminal, hostname, sysctls,
    /// masked and readonly paths. `exec` skips it: it joins what is already there.
    static func setupContainer(_ sys: any Syscalls, _ plan: InitPlan, channel: SyncChannel) throws(RuntimeError) {
        let container = plan.container
        if !plan.noNewKeyring {
            // A fresh session keyring keeps the host's keys out of the container; kernels or
            // sandboxes without keyctl are tolerated as runc does.
            if cshim_join_session_keyring("_ses.\(plan.id)") < 0 && errno != ENOSYS && errno != EPERM && errno != EACCES {
                throw .sys("join session keyring")
            }
        }
        // A mount namespace of its own, new or joined, gets the rootfs bound onto itself for
        // pivot_root; without one the parent did that on the host (and records it).
        let ownMounts = plan.namespaces.has(.mount)
        if ownMounts {
            try RootSwitch.prepare(sys, rootfs: plan.rootfs, propagation: container.rootfsPropagation?.flag)
        }
        let root = try SafeRoot(path: plan.rootfs)
        // In a user namespace of its own, or one the runtime was started in (rootless podman's):
        // no mknod, no new sysfs without a network namespace, and the like.
        let inUserNamespace = plan.namespaces.userNamespace || plan.runtimeInUserNamespace
        var mounter = Mounter(sys: sys, root: root, bundle: plan.bundle, inUserNamespace: inUserNamespace,
                              cgroupNamespace: plan.namespaces.has(.cgroup), cgroupPaths: plan.cgroupPaths,
                              cgroupLayout: plan.cgroupLayout,
                              mountLabel: container.mountLabel)
        mounter.parentMountSource = { (index: Int) throws(RuntimeError) -> Int32 in
            try channel.send(.needMountSource(Int32(index)))
            let reply = try channel.receive(waitingFor: "a mount source from the runtime")
            guard case .mountSource(let tree) = reply else {
                if case .failed(let e) = reply { throw e }
                throw RuntimeError("bootstrap: unexpected message \(reply)")
            }
            return tree
        }
        let readonlyLater = try mounter.mountAll(container.mounts)
        if !container.devBound {
            let devices = DeviceSetup(sys: sys, root: root, inUserNamespace: inUserNamespace)
            try devices.create(container.defaultDevices, replaceExisting: true)
            try devices.create(container.configDevices, replaceExisting: false)
            try devices.symlinks()
        }
        close(try root.mkdirAll(plan.process.cwd))
        if container.hasRuntimeHooks {
            try channel.send(.runCreateRuntimeHooks)
            let reply = try channel.receive(waitingFor: "createRuntime hooks", timeout: -1)
            if case .failed(let e) = reply { throw e }
        }
        // createContainer hooks start in the container's root (relative paths in them mean the
        // rootfs, as under runc).
        if !container.createContainerHooks.isEmpty {
            try check("chdir \(plan.rootfs)") { sys.chdir(plan.rootfs) }
        }
        do {
            try HookRunner.run(container.createContainerHooks, kind: "createContainer",
                               state: State(id: plan.id, status: .creating, pid: getpid(), bundle: plan.bundle,
                                            annotations: plan.annotations))
        } catch {
            // The parent must know it was a hook: the spec still wants poststop hooks then.
            try? channel.send(.hookFailed(error.message))
            throw error
        }
        root.close()
        if !ownMounts {
            try RootSwitch.changeRoot(sys, into: plan.rootfs)
        } else if plan.noPivot {
            try RootSwitch.moveRoot(sys, into: plan.rootfs)
        } else {
            try RootSwitch.pivot(sys, into: plan.rootfs)
        }
        if ownMounts, let propagation = container.rootfsPropagation {
            try RootSwitch.finishPropagation(sys, propagation)
        }
        let inner = try SafeRoot(path: "/")
        defer { inner.close() }

        if plan.process.terminal {
            guard plan.consoleFD >= 0 else {
                throw RuntimeError("process.terminal is set but no --console-socket was given")
            }
            try Console.setup(socket: plan.consoleFD, size: plan.process.consoleSize, mountConsole: !container.devBound,
                              clearONLCR: plan.consoleIsOurs, owner: plan.process.user.uid)
            close(plan.consoleFD)
        }
        if let hostname = container.hostname {
            try check("sethostname \(hostname)") { sys.sethostname(hostname) }
        }
        // A new network namespace has its loopback up, as runc leaves it (a container with no
        // other interface still reaches 127.0.0.1).
        if plan.namespaces.newNetwork { try Loopback.bringUp() }
        if let domain = container.domainname {
            try check("setdomainname \(domain)") { sys.setdomainname(domain) }
        }
        try Mounter.remountReadonly(sys, readonlyLater, root: inner)
        if container.readonlyRoot {
            try RootSwitch.remountRootReadonly(sys)
        }
        // sysctls before masking: masking or read-only /proc/sys would block these writes.
        for s in container.sysctls {
            do { try FileIO.writeExisting(s.path, s.value) } catch {
                throw error.within("linux.sysctl.\(s.key)").at(path: s.path)
            }
        }
        var protection = PathProtection(sys, root: inner)
        for (i, path) in container.readonlyPaths.enumerated() {
            do { try protection.readonly(path) } catch { throw error.within("linux.readonlyPaths[\(i)]").at(path: path) }
        }
        for (i, path) in container.maskedPaths.enumerated() {
            do { try protection.mask(path) } catch { throw error.within("linux.maskedPaths[\(i)]").at(path: path) }
        }

    }

    /// Blocks until `swrunc start` opens the fifo for reading; returns the write end (-1 when
    /// there is no start gate, as for `run` and `exec`).
    static func waitForStart(_ plan: InitPlan) throws(RuntimeError) -> Int32 {
        guard plan.fifoFD >= 0 else { return -1 }
        exitOnTerminatingSignals()
        let fd = try check("open exec fifo") { cshim_open(procFD(plan.fifoFD), O_WRONLY | O_CLOEXEC, 0) }
        close(plan.fifoFD)
        return fd
    }

    /// A created container's init ends on SIGTERM and its kin, as runc's does. As the init of its
    /// pid namespace it would ignore them (the kernel delivers only signals it handles), so it
    /// handles them until execve, which resets them for the program.
    static func exitOnTerminatingSignals() {
        let signals = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM]
        for sig in signals {
            signal(sig) { sig in
                signal(sig, SIG_DFL)
                raise(sig)  // ends a process that is not a namespace's init
                _exit(128 + sig)
            }
        }
        _ = cshim_unblock_all_signals()
    }

    static func exec(_ plan: InitPlan, path: String, seccomp: SeccompFilter?) -> Never {
        let sys = LinuxSyscalls()
        do throws(RuntimeError) { try finalSteps(sys, plan, path: path, seccomp: seccomp) } catch {
            let line = "swrunc: \(error.message)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            _exit(1)
        }
        // runc's line, word for word (clients show it as the reason the container did not start).
        let line = "exec \(path): \(SystemError.goText(errno))\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        _exit(127)
    }

    /// The init's last steps, in this order: every fd not promised to the container marked
    /// close-on-exec, signals back to their defaults, the final RLIMIT_NOFILE, the seccomp
    /// filter — last, so only execve runs under it — and execve. Returns only when execve
    /// failed (errno says why); throws when the filter could not be loaded.
    static func finalSteps(_ sys: any Syscalls, _ plan: InitPlan, path: String, seccomp: SeccompFilter?) throws(RuntimeError) {
        // None of the runtime's (or the caller's) descriptors reach the container.
        sys.closeFrom(Int32(3 + plan.preserveFDs), keeping: plan.preserveFDs)
        sys.resetSignals()
        let env = ExecutableLookup.environment(plan.process)
        let args = plan.process.args
        if let limit = ProcessCredentials.finalNofile(plan.process.rlimits) { _ = sys.prlimit(limit.resource, soft: limit.soft, hard: limit.hard) }
        if let seccomp { try sys.loadSeccomp(seccomp) }
        _ = sys.execve(path, args, env)
    }
}
