"""podman 4.3 (through conmon) with swrunc as its OCI runtime."""
import os

from harness import Recorder, run, unique, remove_cgroup_tree, rmtree, mkdtemp


class Podman:
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.tmp = mkdtemp("swrunc-it-podman-")
        cleanup.add("podman tmp", lambda: rmtree(self.tmp))
        self.state = os.path.join(self.tmp, "swrunc-state")
        self.rec = Recorder(self.tmp, swrunc, "podman", root=self.state)
        self.swrunc = swrunc
        self.archive = archive
        self.cgroup_parent = unique("swrunc-it-podman")
        name = os.path.basename(self.rec.path)
        # The runtime is named in runtime_supports_json so podman passes --log-format=json, as it
        # does for runc and crun; rlimits stay at what this sandbox allows.
        self.conf = os.path.join(self.tmp, "containers.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
cgroupns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{self.tmp}/events.log"
runtime = "{name}"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "{name}"]
static_dir = "{self.tmp}/libpod"
tmp_dir = "{self.tmp}/tmp"
volume_path = "{self.tmp}/volumes"
[engine.runtimes]
{name} = ["{self.rec.path}"]
""")
        self.env = dict(os.environ, CONTAINERS_CONF=self.conf)
        cleanup.add("podman containers", self.stop)
        cleanup.add("podman cgroups", lambda: remove_cgroup_tree(self.cgroup_parent))

    def podman(self, *args):
        return ["podman", "--root", f"{self.tmp}/storage", "--runroot", f"{self.tmp}/run",
                "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs"] + list(args)

    def p(self, *args, timeout=120):
        return run(self.podman(*args), timeout=timeout, env=self.env)

    def prun(self, *args, timeout=120):
        return self.p("run", "--network", "none", "--cgroup-parent", f"/{self.cgroup_parent}", *args, timeout=timeout)

    def stop(self):
        self.p("rm", "-af", "-t", "0", timeout=120)
        self.p("volume", "rm", "-af", timeout=60)
        # podman leaves its storage mounted (overlay, shm); rmtree of tmp unmounts everything below.

    def tests(self):
        t = self.tap
        r = self.p("load", "-i", self.archive)
        if not t.check(r.returncode == 0, "podman: load of the busybox archive", r.stderr):
            return
        r = self.prun("--rm", "busybox", "echo", "hi")
        t.check(r.returncode == 0 and r.stdout.strip() == "hi", "podman: run --rm busybox echo hi",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        r = self.prun("--rm", "busybox", "sh", "-c", "exit 5")
        t.check(r.returncode == 5, "podman: run returns the container's exit status", f"exit {r.returncode}\n{r.stderr}")

        name = unique("it")
        r = self.prun("-d", "--name", name, "busybox", "sleep", "600")
        t.check(r.returncode == 0, "podman: run -d", r.stderr)
        r = self.p("exec", name, "sh", "-c", "echo exec-ok; cat /proc/1/cmdline | tr '\\0' ' '")
        t.check(r.returncode == 0 and "exec-ok" in r.stdout and "sleep 600" in r.stdout, "podman: exec",
                f"{r.stdout}\n{r.stderr}")
        r = self.p("top", name)
        t.check(r.returncode == 0 and "sleep" in r.stdout, "podman: top", f"{r.stdout}\n{r.stderr}")
        r = self.p("pause", name)
        st = self.p("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        t.check(r.returncode == 0 and st == "paused", "podman: pause", f"{r.stderr} status {st}")
        r = self.p("unpause", name)
        st = self.p("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        t.check(r.returncode == 0 and st == "running", "podman: unpause", f"{r.stderr} status {st}")
        r = self.p("stop", "-t", "2", name, timeout=60)
        st = self.p("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        t.check(r.returncode == 0 and st == "exited", "podman: stop", f"{r.stderr} status {st}")
        r = self.p("rm", name)
        t.check(r.returncode == 0, "podman: rm", r.stderr)

        r = self.prun("--rm", "--uidmap", "0:200000:65536", "--gidmap", "0:200000:65536", "busybox", "sh", "-c",
                      "cat /proc/self/uid_map /proc/self/gid_map; id -u")
        rows = [l.split() for l in r.stdout.strip().splitlines()]
        t.check(r.returncode == 0 and rows[:2] == [["0", "200000", "65536"]] * 2 and rows[-1:] == [["0"]],
                "podman: --uidmap/--gidmap user namespace", f"{r.stdout}\n{r.stderr}")
        r = self.prun("--rm", "--userns", "host", "busybox", "cat", "/proc/self/uid_map")
        t.check(r.returncode == 0 and r.stdout.split() == ["0", "0", "4294967295"], "podman: --userns host",
                f"{r.stdout}\n{r.stderr}")

        host_dir = os.path.join(self.tmp, "bind")
        os.makedirs(host_dir)
        r = self.prun("--rm", "-v", f"{host_dir}:/data", "busybox", "sh", "-c", "echo from-container > /data/f")
        content = open(os.path.join(host_dir, "f")).read().strip() if os.path.exists(os.path.join(host_dir, "f")) else ""
        t.check(r.returncode == 0 and content == "from-container", "podman: run --rm with a bind volume",
                f"{r.stderr} content {content!r}")
        vol = unique("vol")
        r1 = self.prun("--rm", "-v", f"{vol}:/data", "busybox", "sh", "-c", "echo kept > /data/f")
        r2 = self.prun("--rm", "-v", f"{vol}:/data", "busybox", "cat", "/data/f")
        t.check(r1.returncode == 0 and r2.stdout.strip() == "kept", "podman: a named volume outlives --rm containers",
                f"{r1.stderr}\n{r2.stdout}\n{r2.stderr}")

        name = unique("it")
        r = self.prun("--name", name, "busybox", "/no/such/binary")
        st = self.p("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        t.check(r.returncode != 0 and "/no/such/binary" in r.stderr and st != "running",
                "podman: a missing binary fails with swrunc's message and leaves nothing running",
                f"exit {r.returncode} status {st}\n{r.stderr}")
        cid = self.p("inspect", "-f", "{{.Id}}", name).stdout.strip()
        self.p("rm", "-f", name)
        # podman passes no --root; the recording wrapper points swrunc at the test's own.
        listed = run([self.swrunc, "--root", self.state, "list", "-q"]).stdout.split()
        t.check(bool(cid) and cid not in listed, "podman: no swrunc state left after rm", f"{cid} in {listed}")
