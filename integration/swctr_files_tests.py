"""swctr containers, continued: cp/diff/export/commit, stats and sizes, prune, attached streams
and --log-level, and what is left after an OOM kill, a reboot, a killed CLI, rm -f during start
and 20 starts at once. A mixin of SwctrContainers (its store, image, cgroup and helpers)."""
import io
import json
import os
import re
import signal
import subprocess
import tarfile
import time

from harness import unique, wait_for


class SwctrContainerFiles:
    def sleeper(self, *extra, cmd=("sleep", "1000")):
        r = self.srun("-d", *extra, self.image, *cmd)
        return r.stdout.strip(), r

    def running_ids(self):
        return self.sw("ps", "-q", "--no-trunc").stdout.split()

    def files(self):
        t = self.tap
        host = os.path.join(self.tmp, unique("cp"))
        os.makedirs(host)
        cid, r = self.sleeper(cmd=("sh", "-c", "echo hi > /hello; rm /bin/vi; mkdir /d; echo x > /d/f; "
                                               "ln -s / /tmp/up; touch /ready; sleep 1000"))
        if not t.check(wait_for(lambda: self.sw("exec", cid, "test", "-e", "/ready").returncode == 0, timeout=20),
                       "swctr cp: the container is ready", r.stderr):
            return
        r = self.sw("cp", f"{cid}:/hello", host)
        r2 = self.sw("cp", f"{cid}:/d", os.path.join(host, "newd"))
        got = open(os.path.join(host, "hello")).read() if os.path.exists(os.path.join(host, "hello")) else ""
        t.check(r.returncode == 0 and got == "hi\n" and os.path.exists(os.path.join(host, "newd", "f")),
                "swctr cp CONTAINER:FILE DIR and CONTAINER:DIR NEW: Docker's naming", r.stderr + r2.stderr)
        p = subprocess.run([self.bin, "--root", self.root, "cp", f"{cid}:/d", "-"], capture_output=True, timeout=60)
        names = tarfile.open(fileobj=io.BytesIO(p.stdout)).getnames() if p.returncode == 0 else []
        t.check(sorted(names) == ["d", "d/f"], "swctr cp CONTAINER:DIR -: a tar on stdout", f"{names} {p.stderr!r}")
        src = os.path.join(host, "in.txt")
        with open(src, "w") as f:
            f.write("into the container\n")
        r = self.sw("cp", src, f"{cid}:/tmp/")
        r2 = self.sw("exec", cid, "cat", "/tmp/in.txt")
        t.check(r.returncode == 0 and r2.stdout == "into the container\n", "swctr cp FILE CONTAINER:DIR", r.stderr + r2.stderr)
        # A symlink to / inside the container is resolved inside it: the host's / is never written.
        escaped = unique("escaped")
        r = self.sw("cp", src, f"{cid}:/tmp/up/{escaped}")
        r2 = self.sw("exec", cid, "cat", f"/{escaped}")
        t.check(r.returncode == 0 and not os.path.exists(f"/{escaped}") and r2.stdout == "into the container\n",
                "swctr cp: a symlink to / in the container stays inside its rootfs", f"{r.stderr} {r2.stderr}")
        evil = io.BytesIO()
        with tarfile.open(fileobj=evil, mode="w") as tar:
            info = tarfile.TarInfo(f"../../{escaped}-tar")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"bad"))
        p = subprocess.run([self.bin, "--root", self.root, "cp", "-", f"{cid}:/tmp"], input=evil.getvalue(),
                           capture_output=True, timeout=60)
        t.check(p.returncode == 1 and b"outside" in p.stderr and not os.path.exists(f"/{escaped}-tar")
                and self.sw("exec", cid, "test", "-e", f"/{escaped}-tar").returncode != 0,
                "swctr cp -: an entry with .. is refused in one line", p.stderr.decode(errors="replace"))
        r = self.sw("cp", f"{cid}:/no/such", host)
        r2 = self.sw("cp", src, f"{cid}:/no/such/dir/x")
        t.check(r.returncode == 1 and "/no/such" in r.stderr and r2.returncode == 1 and "no such directory" in r2.stderr,
                "swctr cp: a missing source or destination directory is one line naming it", r.stderr + r2.stderr)
        r = self.sw("diff", cid)
        lines = set(r.stdout.splitlines())
        t.check({"A /hello", "C /bin", "D /bin/vi", "A /d", "A /d/f", "C /tmp", "A /tmp/in.txt"} <= lines
                and not any(l.startswith("A /bin/") for l in lines),
                "swctr diff: added, changed and deleted paths", r.stdout + r.stderr)
        out = os.path.join(host, "export.tar")
        r = self.sw("export", "-o", out, cid)
        names = tarfile.open(out).getnames() if r.returncode == 0 else []
        t.check("hello" in names and "bin/busybox" in names and "bin/vi" not in names,
                "swctr export -o: the container's filesystem as a tar", f"{len(names)} entries {r.stderr}")
        tag = f"localhost/{unique('committed')}:v1"
        r = self.sw("commit", "-m", "from a test", "-c", 'CMD ["cat", "/hello"]', "-c", "ENV FROM_COMMIT=yes", cid, tag)
        image_id = r.stdout.strip()
        r2 = self.srun("--rm", tag)
        r3 = self.srun("--rm", tag, "sh", "-c", "test ! -e /bin/vi && cat /d/f && echo $FROM_COMMIT")
        hist = self.sw("history", "--no-trunc", tag).stdout
        t.check(r.returncode == 0 and image_id.startswith("sha256:") and r2.stdout == "hi\n" and r3.stdout == "x\nyes\n"
                and self.status(cid) == "running" and "sleep 1000" in hist,
                "swctr commit: the container's changes and --change as a new image that runs",
                f"{r.stdout} {r.stderr} | {r2.stdout!r} {r2.stderr} | {r3.stdout!r} {r3.stderr} | {hist}")
        # A stopped container's files: the overlay is mounted for the copy and unmounted after.
        self.sw("stop", "-t", "0", cid)
        wait_for(lambda: self.status(cid) == "exited", timeout=20)
        r = self.sw("cp", src, f"{cid}:/stopped.txt")
        mounted = [m for m in self.mounts_under_store() if cid in m]
        self.sw("start", cid)
        r2 = self.sw("exec", cid, "cat", "/stopped.txt")
        t.check(r.returncode == 0 and not mounted and r2.stdout == "into the container\n",
                "swctr cp into a stopped container: mounted for the copy only", f"{r.stderr} {mounted} {r2.stderr}")
        self.sw("rm", "-f", cid, timeout=120)
        r = self.sw("rmi", tag)
        t.check(r.returncode == 0, "swctr rmi: the committed image goes", r.stderr)

    def stats_and_sizes(self):
        t = self.tap
        cid, r = self.sleeper("-m", "32m", cmd=("sh", "-c", "while :; do :; done"))
        time.sleep(1)
        r = self.sw("stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}|{{.BlockIO}}", cid)
        f = r.stdout.strip().split("|")
        cpu = float(f[1].rstrip("%")) if len(f) == 5 else 0
        t.check(r.returncode == 0 and len(f) == 5 and cpu > 10 and f[2].endswith("/ 32MiB") and f[3] == "1",
                "swctr stats --no-stream --format: CPU, memory against the limit, pids", r.stdout + r.stderr)
        r = self.sw("stats", "--no-stream")
        header = re.split(r"\s{2,}", r.stdout.splitlines()[0].strip()) if r.stdout else []
        t.check(header == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
                and cid[:12] in r.stdout,
                "swctr stats: Docker's table of running containers", r.stdout + r.stderr)
        p = subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "stats", "--format", "json", cid],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        try:
            docs = [json.loads(p.stdout.readline()) for _ in range(2)]
        except ValueError:
            docs = []
        finally:
            p.kill()
            p.wait()
        t.check(len(docs) == 2 and all(d.get("ID") == cid[:12] and d.get("PIDs") == "1" for d in docs),
                "swctr stats: a reading every second until interrupted", f"{docs}")
        r = self.sw("stats", "--no-stream", "no-such-container")
        t.check(r.returncode == 1 and "No such container: no-such-container" in r.stderr,
                "swctr stats: an unknown container is Docker's error", r.stderr)
        self.sw("exec", cid, "sh", "-c", "head -c 300000 /dev/zero > /blob")
        r = self.sw("ps", "-s", "--filter", f"id={cid}")
        t.check("SIZE" in r.stdout.splitlines()[0] and "300kB (virtual" in r.stdout,
                "swctr ps -s: the container's own size and with its image's", r.stdout + r.stderr)
        self.sw("rm", "-f", cid, timeout=120)

    def prune(self):
        t = self.tap
        keep, _ = self.sleeper()
        stopped = self.sw("create", "--cgroup-parent", f"/{self.cgroup}", self.image, "true").stdout.strip()
        dangling = self.sw("commit", stopped).stdout.strip()
        r = self.sw("system", "prune", input=b"n\n")
        t.check(r.returncode == 0 and self.sw("inspect", stopped).returncode == 0 and "[y/N]" in r.stdout,
                "swctr system prune: asks, and no keeps everything", r.stdout + r.stderr)
        r = self.sw("system", "prune", "-f")
        images = self.sw("images", "-q").stdout.split()
        t.check(r.returncode == 0 and stopped in r.stdout and self.sw("inspect", stopped).returncode == 1
                and self.status(keep) == "running" and dangling[7:19] not in images and len(images) >= 1
                and "Total reclaimed space" in r.stdout,
                "swctr system prune -f: stopped containers and untagged images go, running ones and their image stay",
                r.stdout + r.stderr + str(images))
        self.sw("rm", "-f", keep, timeout=120)

    def streams_and_debug(self):
        t, img = self.tap, self.image
        r = self.srun("--rm", "-a", "stdout", img, "sh", "-c", "echo out; echo err >&2")
        r2 = self.srun("--rm", "-a", "STDERR", img, "sh", "-c", "echo out; echo err >&2")
        t.check(r.stdout == "out\n" and r.stderr == "" and r2.stdout == "" and r2.stderr == "err\n",
                "swctr run -a: only the streams asked for", f"{r.stdout!r} {r.stderr!r} {r2.stdout!r} {r2.stderr!r}")
        r = self.srun("-d", "-a", "stdout", img, "true")
        r2 = self.srun("--rm", "-a", "stdnothing", img, "true")
        t.check(r.returncode == 125 and "Conflicting options" in r.stderr and r2.returncode == 125 and "stdnothing" in r2.stderr,
                "swctr run -a: with -d, or an unknown stream, is refused (125)", r.stderr + r2.stderr)
        r = self.sw("version")
        t.check(r.returncode == 0 and "swctr version" in r.stdout and "runtime: " in r.stdout and "swctr-monitor version" in r.stdout,
                "swctr version: swctr, the runtime and the monitor", r.stdout + r.stderr)
        r = self.sw("--log-level", "debug", "run", "--rm", "--cgroup-parent", f"/{self.cgroup}", img, "true")
        r2 = self.sw("--log-level", "loud", "ps")
        t.check(r.returncode == 0 and "DEBU running" in r.stderr and " delete --force " in r.stderr
                and r2.returncode != 0 and "loud" in r2.stderr,
                "swctr --log-level: debug shows the runtime's commands; a bad level is refused", r.stderr + r2.stderr)

    def oom(self):
        t = self.tap
        cid, r = self.sleeper("-m", "16m", "--memory-swap", "16m", cmd=("tail", "/dev/zero"))
        done = wait_for(lambda: self.status(cid) == "exited", timeout=60)
        state = self.inspect(cid).get("State", {})
        ps = self.sw("ps", "-a", "--filter", f"id={cid}", "--format", "{{.Status}}").stdout
        t.check(done and state.get("OOMKilled") is True and state.get("ExitCode") == 137 and ps.startswith("Exited (137)"),
                "swctr: an OOM kill shows OOMKilled true and exit code 137", f"{state} {ps} {r.stderr}")
        self.sw("rm", "-f", cid)

    def reboot(self):
        """As after a reboot: every process gone, the runtime's state and the mounts lost."""
        t = self.tap
        cid, r = self.sleeper()
        state = self.inspect(cid).get("State", {})
        init, mon = state.get("Pid", 0), self.monitor_pid(cid)
        if not t.check(init > 0 and mon > 0, "swctr reboot: pids recorded", r.stderr):
            return
        os.kill(mon, signal.SIGKILL)
        os.kill(init, signal.SIGKILL)
        self.monitor_gone(mon)
        wait_for(lambda: not os.path.exists(f"/proc/{init}/status") or "zombie" in open(f"/proc/{init}/status").read(), timeout=10)
        runtime_state = os.path.join(self.root, "swrunc", cid)
        subprocess.run(["rm", "-rf", runtime_state])
        for m in self.mounts_under_store():
            if cid in m:
                subprocess.run(["umount", "-l", m])
        status = self.sw("ps", "-a", "--filter", f"id={cid}", "--format", "{{.Status}}").stdout
        r = self.sw("start", cid)
        r2 = self.sw("exec", cid, "echo", "back")
        t.check(status.startswith("Exited") and r.returncode == 0 and r2.stdout == "back\n",
                "swctr: after a reboot ps shows the container exited, and start runs it again",
                f"{status!r} {r.stderr} {r2.stderr}")
        self.sw("rm", "-f", cid, timeout=120)

    def leftovers(self, ids):
        runtime = set(os.listdir(os.path.join(self.root, "swrunc"))) if os.path.isdir(os.path.join(self.root, "swrunc")) else set()
        return [m for m in self.mounts_under_store() if any(i in m for i in ids)] + [i for i in ids if i in runtime]

    def start_races(self):
        t, img = self.tap, self.image
        # A CLI killed at any point of `run -d`: ps still answers and rm -f leaves nothing.
        killed = []
        for delay in (0.02, 0.08, 0.15, 0.3, 0.6):
            name = unique("killed")
            p = subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "run", "-d", "--name", name,
                                  "--cgroup-parent", f"/{self.cgroup}", img, "sleep", "1000"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
            time.sleep(delay)
            p.kill()
            p.wait()
            killed.append(name)
        ps = self.sw("ps", "-a", "--format", "{{.ID}} {{.Names}} {{.State}}")
        ids = [l.split()[0] for l in ps.stdout.splitlines() if l.split()[1] in killed]
        full = [self.inspect(i).get("Id", "") for i in ids]
        r = self.sw("rm", "-f", *killed, timeout=120) if ids else None
        t.check(ps.returncode == 0 and (r is None or r.returncode in (0, 1)) and not self.leftovers(full)
                and not [n for n in killed if self.sw("inspect", n).returncode == 0],
                "swctr: a CLI killed during run -d leaves nothing rm -f cannot remove", f"{ps.stdout} {self.leftovers(full)}")
        # rm -f while start is under way: the container goes, with its mount and runtime state.
        cid = self.sw("create", "--cgroup-parent", f"/{self.cgroup}", img, "sleep", "1000").stdout.strip()
        p = subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "start", cid],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        time.sleep(0.05)
        r = self.sw("rm", "-f", cid, timeout=120)
        p.wait(timeout=60)
        t.check(r.returncode == 0 and self.sw("inspect", cid).returncode == 1 and not self.leftovers([cid]),
                "swctr rm -f during start: the container and everything it had go", f"{r.stderr} {self.leftovers([cid])}")
        # ps while 20 containers start at once: every listing works; all 20 end up running.
        names = [unique(f"many{i}") for i in range(20)]
        procs = [subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "run", "-d", "--name", n,
                                   "--cgroup-parent", f"/{self.cgroup}", img, "sleep", "1000"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL) for n in names]
        listings = []
        while any(p.poll() is None for p in procs):
            listings.append(self.sw("ps", "-a"))
        results = [p.communicate(timeout=120) for p in procs]
        up = set(self.sw("ps", "--format", "{{.Names}}").stdout.split())
        t.check(all(l.returncode == 0 and l.stdout.startswith("CONTAINER ID") for l in listings) and len(listings) > 0
                and all(p.returncode == 0 for p in procs) and set(names) <= up,
                "swctr ps while 20 containers start: every listing works, all 20 run",
                f"{len(listings)} listings, {[r[1][-200:] for r in results if r[1]]}, up {len(set(names) & up)}")
        self.sw("rm", "-f", *names, timeout=300)
