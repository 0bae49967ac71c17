"""A throwaway unprivileged account for the rootless suites: subordinate id ranges from useradd,
a $XDG_RUNTIME_DIR, commands run as it with a clean environment, and everything it still runs
ended by pid before userdel takes the account (and its ranges) back."""
import os
import shutil

from harness import run, unique, rmtree


class RootlessAccount:
    def __init__(self, cleanup, prefix="swrl"):
        self.name = unique(prefix)
        r = run(["useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=65536", "-K", "SUB_GID_COUNT=65536", self.name])
        if r.returncode != 0:
            raise RuntimeError(f"useradd: {r.stderr}")
        cleanup.add(f"rootless user {self.name}", self.remove)
        self.uid = int(run(["id", "-u", self.name]).stdout)
        self.home = os.path.expanduser(f"~{self.name}")
        self.xdg = f"/run/user/{self.uid}"
        os.makedirs(self.xdg, mode=0o700, exist_ok=True)
        os.chown(self.xdg, self.uid, self.uid)
        cleanup.add("rootless runtime dir", lambda: rmtree(self.xdg))

    def subordinate(self, file):
        """(start, count) of the account's range in /etc/subuid or /etc/subgid."""
        with open(file) as f:
            for line in f:
                name, start, count = line.strip().split(":")
                if name == self.name:
                    return int(start), int(count)
        return None

    def give(self, path, name=None):
        """A copy of `path` in the home directory, owned by the account; its new path."""
        dest = os.path.join(self.home, name or os.path.basename(path))
        shutil.copy(path, dest)
        os.chown(dest, self.uid, self.uid)
        return dest

    def run(self, argv, timeout=120, path_first=None):
        env = ["env", "-i", f"HOME={self.home}", f"USER={self.name}", f"XDG_RUNTIME_DIR={self.xdg}",
               "PATH=" + (f"{path_first}:" if path_first else "") + "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"]
        return run(["runuser", "-u", self.name, "--"] + env + list(argv), timeout=timeout)

    def processes(self):
        return [int(p) for p in run(["ps", "-u", str(self.uid), "-o", "pid="]).stdout.split()]

    def remove(self):
        # Whatever the account still runs was started by the suite: ended by pid, then the account.
        for pid in self.processes():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        run(["userdel", "-r", self.name])
