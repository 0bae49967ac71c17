"""Rootless podman (an unprivileged user with /etc/subuid ranges) with swrunc as its runtime.

podman starts the runtime as root of the user's own user namespace: swrunc must see itself as
rootless there, keep its state under $XDG_RUNTIME_DIR, make no cgroup and no device node.
"""
import os

from harness import unique
from rootless_account import RootlessAccount


class PodmanRootless:
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.account = RootlessAccount(cleanup)
        self.uid, self.home, self.xdg = self.account.uid, self.account.home, self.account.xdg
        # The runtime and the image where the user can read them.
        self.swrunc = self.account.give(swrunc)
        self.archive = self.account.give(archive, "busybox.tar")
        cleanup.add("rootless podman", self.reset)

    def p(self, *args, timeout=120):
        return self.account.run(["podman", "--runtime", self.swrunc, "--cgroup-manager", "cgroupfs",
                                 "--events-backend", "file"] + list(args), timeout=timeout)

    def reset(self):
        # Removes the containers, the storage and podman's pause process (the user namespace holder).
        self.p("rm", "-af", "-t", "0", timeout=120)
        self.p("system", "reset", "-f", timeout=120)
        self.p("system", "migrate", timeout=60)

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
