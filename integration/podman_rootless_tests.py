"""Rootless podman (an unprivileged user with /etc/subuid ranges) with swrunc as its runtime.

podman starts the runtime as root of the user's own user namespace: swrunc must see itself as
rootless there, keep its state under $XDG_RUNTIME_DIR, make no cgroup and no device node.
"""
import os
import shutil
import subprocess

from harness import run, unique, rmtree


class PodmanRootless:
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.user = unique("swrl")
        # A throwaway account; useradd gives it subordinate id ranges and userdel takes them back.
        r = run(["useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=65536", "-K", "SUB_GID_COUNT=65536",
                 self.user])
        if r.returncode != 0:
            raise RuntimeError(f"useradd: {r.stderr}")
        cleanup.add("rootless user", self.remove_user)
        self.uid = int(run(["id", "-u", self.user]).stdout)
        self.home = os.path.expanduser(f"~{self.user}")
        self.xdg = f"/run/user/{self.uid}"
        os.makedirs(self.xdg, mode=0o700, exist_ok=True)
        os.chown(self.xdg, self.uid, self.uid)
        cleanup.add("rootless runtime dir", lambda: rmtree(self.xdg))
        # The runtime and the image where the user can read them.
        self.swrunc = os.path.join(self.home, "swrunc")
        shutil.copy(swrunc, self.swrunc)
        self.archive = os.path.join(self.home, "busybox.tar")
        shutil.copy(archive, self.archive)
        for path in (self.swrunc, self.archive):
            os.chown(path, self.uid, self.uid)
        cleanup.add("rootless podman", self.reset)

    def p(self, *args, timeout=120):
        env = ["env", "-i", f"HOME={self.home}", f"USER={self.user}", f"XDG_RUNTIME_DIR={self.xdg}",
               "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]
        return run(["runuser", "-u", self.user, "--"] + env +
                   ["podman", "--runtime", self.swrunc, "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
                   + list(args), timeout=timeout)

    def reset(self):
        # Removes the containers, the storage and podman's pause process (the user namespace holder).
        self.p("rm", "-af", "-t", "0", timeout=120)
        self.p("system", "reset", "-f", timeout=120)
        self.p("system", "migrate", timeout=60)

    def remove_user(self):
        # Whatever the user still runs was started by this suite: end it by pid, then the account.
        pids = run(["ps", "-u", str(self.uid), "-o", "pid="]).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), 9)
            except (ProcessLookupError, ValueError):
                pass
        run(["userdel", "-r", self.user])

    def tests(self):
        t = self.tap
        r = self.p("load", "-i", self.archive)
        if not t.check(r.returncode == 0, "podman rootless: load of the busybox archive", r.stderr):
            return
        common = ["--network", "none", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
        r = self.p("run", "--rm", *common, "busybox", "sh", "-c", "id -u; cat /proc/self/uid_map")
        rows = [line.split() for line in r.stdout.strip().splitlines()]
        t.check(r.returncode == 0 and rows[:2] == [["0"], ["0", str(self.uid), "1"]] and len(rows) == 3,
                "podman rootless: run --rm as the user's root, with the user's id and its subordinate range",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")

        name = unique("it")
        r = self.p("run", "-d", "--name", name, *common, "busybox", "sleep", "600")
        t.check(r.returncode == 0, "podman rootless: run -d", r.stderr)
        cid = r.stdout.strip()
        state = os.path.join(self.xdg, "swrunc")
        t.check(bool(cid) and os.path.isdir(os.path.join(state, cid)),
                "podman rootless: swrunc keeps the container's state under $XDG_RUNTIME_DIR/swrunc",
                f"{cid} not in {os.listdir(state) if os.path.isdir(state) else state}")
        r = self.p("exec", name, "sh", "-c", "echo exec-ok $(id -u)")
        t.check(r.returncode == 0 and r.stdout.strip() == "exec-ok 0", "podman rootless: exec",
                f"{r.stdout}\n{r.stderr}")
        r = self.p("stop", "-t", "1", name, timeout=60)
        st = self.p("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        t.check(r.returncode == 0 and st == "exited", "podman rootless: stop", f"{r.stderr} status {st}")
        r = self.p("rm", name)
        left = os.listdir(state) if os.path.isdir(state) else []
        t.check(r.returncode == 0 and cid not in left, "podman rootless: rm leaves no swrunc state", f"{r.stderr} {left}")
