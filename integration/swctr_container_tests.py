"""swctr containers: detached runs under a per-container monitor, the Docker verbs on them, exit
statuses, restart policies, health checks, and what is left after a crash. Real containers through
swrunc on this kernel; every container lives in this suite's own store and cgroup parent."""
import json
import os
import re
import signal
import subprocess
import time

from harness import Recorder, run, unique, remove_cgroup_tree, rmtree, mkdtemp, wait_for
from swctr_files_tests import SwctrContainerFiles
from swctr_volume_tests import SwctrVolumes
from swctr_network_tests import SwctrNetworks
from swctr_endpoint_tests import SwctrEndpoints

SWCTR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swctr")


class SwctrContainers(SwctrContainerFiles, SwctrVolumes, SwctrNetworks, SwctrEndpoints):
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.archive = archive
        self.tmp = mkdtemp("swrunc-it-ctr-")
        cleanup.add("swctr containers tmp", lambda: rmtree(self.tmp))
        self.bin = os.path.join(SWCTR_DIR, ".build", "release", "swctr")
        self.root = os.path.join(self.tmp, "store")
        self.cgroup = unique("swctr-ctr-it")
        cleanup.add("swctr container cgroups", lambda: remove_cgroup_tree(self.cgroup))
        cleanup.add("swctr containers", self.remove_all)
        self.cleanup_hooks = cleanup
        self.rec = Recorder(self.tmp, swrunc, "swctr-containers")
        self.image = "busybox:latest"

    def sw(self, *args, timeout=60, input=None):
        """swctr with the global options before the verb, as the monitor's exit command has them."""
        return run([self.bin, "--root", self.root, "--runtime", self.rec.path, *args], timeout=timeout, input=input)

    def srun(self, *args, timeout=60, input=None):
        return self.sw("run", "--cgroup-parent", f"/{self.cgroup}", *args, timeout=timeout, input=input)

    def remove_all(self):
        """Every container, then every network (the default one `run` made too): no bridge,
        address or firewall rule outlives the suite."""
        ids = self.sw("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            self.sw("rm", "-f", *ids, timeout=120)
        for n in self.sw("network", "ls", "--format", "{{.Name}}").stdout.split():
            self.sw("network", "rm", n)

    def inspect(self, ref):
        r = self.sw("inspect", ref)
        try:
            return json.loads(r.stdout)[0]
        except (ValueError, IndexError):
            return {}

    def status(self, ref):
        return self.sw("inspect", "-f", "{{.State.Status}}", ref).stdout.strip()

    def mounts_under_store(self):
        return [l.split()[4] for l in open("/proc/self/mountinfo") if l.split()[4].startswith(self.root)]

    def tests(self):
        t = self.tap
        if not t.check(os.access(self.bin, os.X_OK), "swctr containers: built", self.bin):
            return
        r = self.sw("load", "-i", self.archive)
        if not t.check(r.returncode == 0, "swctr containers: load the busybox image", r.stdout + r.stderr):
            return
        self.image = r.stdout.split("Loaded image: ")[-1].strip()
        self.foreground()
        self.exit_statuses()
        self.detached()
        self.stopping()
        self.restarts()
        self.health()
        self.crash()
        self.concurrent()
        self.attach()
        self.removal()
        self.files()
        self.stats_and_sizes()
        self.prune()
        self.streams_and_debug()
        self.volumes()
        self.networks()
        self.masquerade()
        self.endpoints()
        self.oom()
        self.reboot()
        self.start_races()

    def foreground(self):
        t, img = self.tap, self.image
        r = self.srun("--rm", img, "sh", "-c", "echo out; echo err >&2; exit 3")
        t.check(r.returncode == 3 and r.stdout == "out\n" and r.stderr == "err\n",
                "swctr run: stdout and stderr stay apart, the exit status is the container's",
                f"exit {r.returncode}\n{r.stdout!r}\n{r.stderr!r}")
        r = self.srun("--rm", "-i", img, "sh", "-c", "tr a-z A-Z", input=b"hello from stdin\n")
        t.check(r.stdout == "HELLO FROM STDIN\n", "swctr run -i: stdin reaches the container and its end closes it",
                r.stdout + r.stderr)
        r = self.srun("--rm", img, "sh", "-c", "seq 1 20000")
        lines = r.stdout.split()
        t.check(len(lines) == 20000 and lines[-1] == "20000", "swctr run: a large output arrives whole",
                f"{len(lines)} lines, exit {r.returncode}")
        left = self.sw("ps", "-aq").stdout.split()
        t.check(not left and not self.mounts_under_store(), "swctr run --rm: no container and no mount is left",
                f"{left} {self.mounts_under_store()}")
        # Ctrl-C in a terminal-less foreground run reaches the container (Docker's --sig-proxy).
        p = subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "run", "--rm",
                              "--cgroup-parent", f"/{self.cgroup}", img, "sh", "-c",
                              "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.1; done"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            ready = p.stdout.readline()
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=30)
            t.check(ready == b"ready\n" and p.returncode == 42 and b"got-term" in out,
                    "swctr run: a signal to the CLI is passed to the container", f"{p.returncode} {out!r} {err!r}")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()

    def exit_statuses(self):
        t, img = self.tap, self.image
        r = self.srun("--rm", img, "/no/such/binary")
        t.check(r.returncode == 127 and "/no/such/binary" in r.stderr and len(r.stderr.strip().splitlines()) >= 1,
                "swctr run: a missing command exits 127 naming it", f"exit {r.returncode}: {r.stderr}")
        r = self.srun("--rm", img, "/etc/passwd")
        t.check(r.returncode == 126, "swctr run: a command that cannot be executed exits 126", f"exit {r.returncode}: {r.stderr}")
        r = self.srun("--rm", "--memory", "12q", img, "true")
        t.check(r.returncode == 125 and "--memory" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                "swctr run: a bad flag value exits 125 with one line naming the flag", f"exit {r.returncode}: {r.stderr}")
        r = self.srun("--rm", img + "-nope", "true")
        t.check(r.returncode == 125, "swctr run: an unknown local image (no registry) exits 125", f"exit {r.returncode}: {r.stderr}")
        left = self.sw("ps", "-aq").stdout.split()
        t.check(not left and not self.mounts_under_store(), "swctr run: failures leave no container and no mount behind",
                f"{left} {self.mounts_under_store()}")

    def detached(self):
        t, img = self.tap, self.image
        name = unique("web")
        r = self.srun("-d", "--name", name, img, "sh", "-c",
                      "echo started; trap 'echo bye; exit 0' TERM; while :; do sleep 0.1; done")
        cid = r.stdout.strip()
        if not t.check(r.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}", cid),
                       "swctr run -d: prints the full container id", r.stdout + r.stderr):
            return
        ps = self.sw("ps").stdout
        t.check(name in ps and cid[:12] in ps and "Up " in ps, "swctr ps: the detached container is up", ps)
        doc = self.inspect(name)
        mon = self.monitor_pid(cid)
        t.check(doc.get("Id") == cid and doc.get("Name") == "/" + name and doc.get("State", {}).get("Running") is True
                and doc.get("State", {}).get("Pid", 0) > 0 and mon > 0 and os.getppid() != mon,
                "swctr inspect: Docker's document for a running container; its monitor outlives the CLI",
                json.dumps(doc.get("State")))
        r = self.srun("-d", "--name", name, img, "true")
        t.check(r.returncode == 125 and "already in use" in r.stderr, "swctr run: a name in use is a conflict (125)",
                f"exit {r.returncode}: {r.stderr}")
        got = wait_for(lambda: "started" in self.sw("logs", name).stdout, timeout=10)
        t.check(got, "swctr logs: the container's output", self.sw("logs", name).stdout)
        r = self.sw("exec", "-e", "X=exec", name, "sh", "-c", "echo $X $(id -u); exit 4")
        t.check(r.returncode == 4 and r.stdout == "exec 0\n", "swctr exec: output, -e and the exit status",
                f"exit {r.returncode}: {r.stdout!r} {r.stderr!r}")
        r = self.sw("exec", name, "nosuchcmd")
        t.check(r.returncode == 127, "swctr exec: a missing command exits 127", f"exit {r.returncode}: {r.stderr}")
        r = self.sw("top", name)
        t.check(r.returncode == 0 and "PID" in r.stdout and "while :" in r.stdout, "swctr top: the container's processes",
                r.stdout + r.stderr)
        r = self.sw("pause", name)
        paused = self.status(name)
        ps = self.sw("ps", "-f", "status=paused").stdout
        r2 = self.sw("unpause", name)
        t.check(r.returncode == 0 and paused == "paused" and name in ps and r2.returncode == 0 and self.status(name) == "running",
                "swctr pause/unpause: the state follows and ps filters by it", f"{paused}\n{ps}\n{r.stderr}{r2.stderr}")
        follower = subprocess.Popen([self.bin, "--root", self.root, "logs", "-f", name],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            r = self.sw("stop", name)
            out, _ = follower.communicate(timeout=30)
            t.check(r.returncode == 0 and out == b"started\nbye\n" and follower.returncode == 0,
                    "swctr stop: the stop signal is handled; logs -f ends when the container stops", f"{out!r} {r.stderr}")
        finally:
            if follower.poll() is None:
                follower.kill()
                follower.wait()
        doc = self.inspect(name)
        t.check(doc.get("State", {}).get("Status") == "exited" and doc["State"].get("ExitCode") == 0
                and "Exited (0)" in self.sw("ps", "-a").stdout,
                "swctr inspect/ps -a: the stopped container with its exit code", json.dumps(doc.get("State")))
        r = self.sw("start", name)
        t.check(r.returncode == 0 and wait_for(lambda: self.status(name) == "running", timeout=10),
                "swctr start: a stopped container runs again", r.stderr)
        r = self.sw("logs", "--tail", "1", name)
        t.check(r.stdout == "started\n", "swctr logs --tail 1: the last line (the log keeps earlier runs)", repr(r.stdout))
        newname = unique("renamed")
        r = self.sw("rename", name, newname)
        t.check(r.returncode == 0 and self.status(newname) == "running", "swctr rename", r.stderr)
        r = self.sw("rm", newname)
        t.check(r.returncode == 1 and "cannot remove a running container" in r.stderr,
                "swctr rm: a running container needs -f", f"exit {r.returncode}: {r.stderr}")
        r = self.sw("rm", "-f", newname)
        t.check(r.returncode == 0 and self.sw("inspect", newname).returncode == 1 and self.monitor_gone(mon),
                "swctr rm -f: the container, its monitor and its record go", r.stderr)

    def monitor_pid(self, cid):
        try:
            return json.load(open(os.path.join(self.root, "containers", cid, "state.json"))).get("monitorPid", 0)
        except (OSError, ValueError):
            return 0

    @staticmethod
    def monitor_gone(pid):
        def gone():
            try:
                return open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z"
            except OSError:
                return True
        return wait_for(gone, timeout=15)

    def stopping(self):
        t, img = self.tap, self.image
        r = self.srun("-d", img, "sh", "-c", "trap '' TERM; while :; do sleep 0.1; done")
        cid = r.stdout.strip()
        start = time.time()
        r = self.sw("stop", "-t", "1", cid)
        took = time.time() - start
        doc = self.inspect(cid)
        t.check(r.returncode == 0 and doc.get("State", {}).get("ExitCode") == 137 and took < 10,
                "swctr stop -t 1: a container that ignores SIGTERM is killed (137)", f"{took:.1f}s {json.dumps(doc.get('State'))}")
        # A PID 1 without a SIGTERM handler never gets SIGTERM (the kernel drops it): stop
        # kills at once instead of waiting out -t 300 (the command's own limit is 60 s).
        r = self.srun("-d", img, "sleep", "1000")
        cid = r.stdout.strip()
        r = self.sw("stop", "-t", "300", cid, timeout=60)
        doc = self.inspect(cid)
        t.check(r.returncode == 0 and doc.get("State", {}).get("ExitCode") == 137,
                "swctr stop: a PID 1 that cannot receive the stop signal is killed without waiting the timeout",
                f"exit {r.returncode} {r.stderr} {json.dumps(doc.get('State'))}")
        self.sw("rm", "-f", cid)
        r = self.srun("-d", img, "sh", "-c", "sleep 0.3; exit 5")
        cid = r.stdout.strip()
        r = self.sw("wait", cid)
        t.check(r.stdout.strip() == "5", "swctr wait: prints the exit code", r.stdout + r.stderr)
        r = self.srun("-d", img, "sleep", "1000")
        cid = r.stdout.strip()
        r = self.sw("kill", cid)
        code = wait_for(lambda: self.status(cid) == "exited" and self.inspect(cid)["State"]["ExitCode"], timeout=10)
        t.check(r.returncode == 0 and code == 137, "swctr kill: SIGKILL by default", f"{code} {r.stderr}")
        r = self.srun("-d", "--rm", img, "true")
        cid = r.stdout.strip()
        t.check(wait_for(lambda: self.sw("inspect", cid).returncode == 1, timeout=15),
                "swctr run -d --rm: the container removes itself when it exits", self.sw("ps", "-a").stdout)
        r = self.sw("container", "prune", input=b"n\n")
        t.check(r.returncode == 0 and len(self.sw("ps", "-aq").stdout.split()) > 0, "swctr container prune: answering no keeps them",
                r.stdout + r.stderr)
        r = self.sw("container", "prune", "-f")
        t.check(r.returncode == 0 and not self.sw("ps", "-aq").stdout.split(), "swctr container prune: stopped containers go",
                r.stdout + r.stderr)

    def restarts(self):
        t, img = self.tap, self.image
        r = self.srun("-d", "--restart", "on-failure:2", img, "sh", "-c", "echo run; exit 1")
        cid = r.stdout.strip()
        done = wait_for(lambda: self.status(cid) == "exited", timeout=30, step=0.3)
        doc = self.inspect(cid)
        runs = self.sw("logs", cid).stdout.count("run")
        t.check(done and doc.get("RestartCount") == 2 and runs == 3 and doc["State"]["ExitCode"] == 1,
                "swctr run --restart on-failure:2: two restarts, then it stays exited", f"{runs} runs {json.dumps(doc.get('State'))} {doc.get('RestartCount')}")
        r = self.srun("-d", "--restart", "always", img, "sh", "-c", "sleep 0.2; exit 0")
        cid = r.stdout.strip()
        restarted = wait_for(lambda: self.inspect(cid).get("RestartCount", 0) >= 1, timeout=20)
        r = self.sw("stop", "-t", "2", cid)
        time.sleep(1.5)
        t.check(restarted and r.returncode == 0 and self.status(cid) == "exited",
                "swctr --restart always: restarted after a clean exit, and stop ends it", self.sw("ps", "-a").stdout)
        r = self.srun("--rm", "--restart", "always", img, "true")
        t.check(r.returncode == 125 and "Conflicting options" in r.stderr, "swctr run: --restart with --rm is refused",
                r.stderr)

    def health(self):
        t, img = self.tap, self.image
        r = self.srun("-d", "--health-cmd", "test -f /tmp/ok", "--health-interval", "200ms", "--health-retries", "2",
                      img, "sleep", "1000")
        cid = r.stdout.strip()
        health = lambda: self.inspect(cid).get("State", {}).get("Health", {}).get("Status")
        bad = wait_for(lambda: health() == "unhealthy", timeout=20)
        self.sw("exec", cid, "touch", "/tmp/ok")
        good = wait_for(lambda: health() == "healthy", timeout=20)
        ps = self.sw("ps", "-f", "health=healthy").stdout
        t.check(bad and good and cid[:12] in ps and "(healthy)" in ps,
                "swctr --health-cmd: unhealthy, then healthy once the check passes; ps shows and filters it",
                f"{health()} {ps}")
        self.sw("rm", "-f", cid)
        # Docker 25's start interval: checks every 100 ms during the 60 s start period, though
        # the interval is a minute — healthy long before the first interval would have passed.
        r = self.srun("-d", "--health-cmd", "true", "--health-interval", "60s", "--health-start-period", "60s",
                      "--health-start-interval", "100ms", img, "sleep", "1000")
        cid = r.stdout.strip()
        hc = self.inspect(cid).get("Config", {}).get("Healthcheck", {})
        good = wait_for(lambda: health() == "healthy", timeout=20)
        t.check(r.returncode == 0 and good and hc.get("StartInterval") == 100_000_000,
                "swctr --health-start-interval: checks come that often during the start period", f"{r.stderr} {health()} {hc}")
        self.sw("rm", "-f", cid)

    def crash(self):
        """The monitor dies (SIGKILL): the container keeps running, ps still tells the truth, and
        stop and rm work without it."""
        t, img = self.tap, self.image
        r = self.srun("-d", img, "sleep", "1000")
        cid = r.stdout.strip()
        mon = self.monitor_pid(cid)
        if not t.check(mon > 0, "swctr: the monitor's pid is recorded", r.stderr):
            return
        os.kill(mon, signal.SIGKILL)
        self.monitor_gone(mon)
        st = self.status(cid)
        r = self.sw("stop", "-t", "1", cid)
        after = self.status(cid)
        r2 = self.sw("rm", cid)
        t.check(st == "running" and r.returncode == 0 and after == "exited" and r2.returncode == 0
                and not self.mounts_under_store(),
                "swctr: a container whose monitor was killed is still seen running, then stopped and removed",
                f"{st} {after} {r.stderr} {r2.stderr} {self.mounts_under_store()}")

    def concurrent(self):
        """Two `run --name x` at once: one wins, the other gets Docker's conflict; `ps` while
        containers start; a --cidfile that exists is refused."""
        t, img = self.tap, self.image
        name = unique("race")
        argv = [self.bin, "--root", self.root, "--runtime", self.rec.path, "run", "-d", "--name", name,
                "--cgroup-parent", f"/{self.cgroup}", img, "sleep", "1000"]
        procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
                 for _ in range(2)]
        lister = [subprocess.Popen([self.bin, "--root", self.root, "ps", "-a"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL) for _ in range(3)]
        results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
        listed = [p.communicate(timeout=60) + (p.returncode,) for p in lister]
        codes = sorted(r[2] for r in results)
        t.check(codes == [0, 125] and any(b"already in use" in r[1] for r in results)
                and all(l[2] == 0 for l in listed) and self.status(name) == "running",
                "swctr run --name twice at once: one wins, the other gets the conflict (125); ps meanwhile works",
                f"{results} {listed}")
        cidfile = os.path.join(self.tmp, "cid")
        r = self.srun("-d", "--cidfile", cidfile, img, "sleep", "1000")
        written = open(cidfile).read() if os.path.exists(cidfile) else ""
        r2 = self.srun("-d", "--cidfile", cidfile, img, "true")
        t.check(r.returncode == 0 and written == r.stdout.strip() and r2.returncode == 125 and "cid" in r2.stderr,
                "swctr run --cidfile: the id is written; an existing file is refused", f"{r.stderr} {r2.stderr}")
        self.sw("rm", "-f", name, written, timeout=120)

    def attach(self):
        """attach: output from now on, stdin to a container created with -i, the detach keys
        leave it running; a stopped container cannot be attached."""
        t, img = self.tap, self.image
        name = unique("talk")
        r = self.srun("-d", "-i", "--name", name, img, "sh", "-c", 'while read l; do echo "got $l"; done')
        ok = r.returncode == 0
        for keys, typed, detach in (([], b"hello\n", b"\x10\x11"), (["--detach-keys", "ctrl-x,y"], b"\x18zq\n", b"\x18y")):
            p = subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "attach", *keys, name],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                time.sleep(0.3)
                p.stdin.write(typed)
                p.stdin.flush()
                line = p.stdout.readline()
                p.stdin.write(detach)
                p.stdin.flush()
                out, err = p.communicate(timeout=20)
                ok = ok and line == b"got " + typed and p.returncode == 0 and self.status(name) == "running"
                diag = f"{line!r} exit {p.returncode} {err!r} {self.status(name)}"
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            if not ok:
                break
        t.check(ok, "swctr attach: stdin and output; the detach keys (ctrl-p ctrl-q, or --detach-keys; a partial "
                "sequence passes through) leave the container running", diag)
        self.sw("stop", "-t", "1", name)
        r = self.sw("attach", name)
        t.check(r.returncode == 1 and "cannot attach to a stopped container" in r.stderr,
                "swctr attach to a stopped container is Docker's error", f"exit {r.returncode}: {r.stderr}")
        self.sw("rm", "-f", name)

    def removal(self):
        t = self.tap
        cids = [self.srun("-d", self.image, "sleep", "1000").stdout.strip() for _ in range(3)]
        r = self.sw("rm", "-f", *cids, timeout=120)
        cg = [d for d, _, _ in os.walk("/sys/fs/cgroup/memory/" + self.cgroup) if len(d) > len("/sys/fs/cgroup/memory/" + self.cgroup)]
        left = [c for c in self.sw("ps", "-aq", "--no-trunc").stdout.split() if c in cids]
        t.check(r.returncode == 0 and not left and not self.mounts_under_store() and not cg,
                "swctr rm -f of three running containers: no record, mount or cgroup is left",
                f"exit {r.returncode} {r.stderr} {left} {self.mounts_under_store()} {cg}")
