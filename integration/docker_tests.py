"""dockerd 20.10 with `--add-runtime swrunc=...`; containers run with `--runtime swrunc`."""
import json
import os
import socket
import subprocess

from harness import Recorder, run, stop_pid, unique, wait_for, remove_cgroup_tree, rmtree, mkdtemp

DOCKER = "/usr/bin/docker"  # Debian's client, the same release as dockerd


def free_port(preferred):
    for port in [preferred] + list(range(18080, 18180)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


class Docker:
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.tmp = mkdtemp("swrunc-it-docker-")
        cleanup.add("docker tmp", lambda: rmtree(self.tmp))
        self.sock = os.path.join(self.tmp, "docker.sock")
        self.rec = Recorder(self.tmp, swrunc, "docker")
        self.archive = archive
        self.cgroup_parent = unique("swrunc-it-docker")
        # Our own bridge, so dockerd neither creates docker0 nor touches iptables (the userland
        # proxy forwards published ports on loopback).
        self.bridge = "swit" + unique("b")[-8:]
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
        cleanup.add("docker bridge", lambda: subprocess.run(["ip", "link", "del", self.bridge], capture_output=True))
        subprocess.run(["ip", "addr", "add", "10.213.77.1/24", "dev", self.bridge], check=True)
        subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        self.log = open(os.path.join(self.tmp, "dockerd.log"), "w")
        argv = ["dockerd", "--data-root", f"{self.tmp}/data", "--exec-root", f"{self.tmp}/exec",
                "--pidfile", f"{self.tmp}/docker.pid", "-H", f"unix://{self.sock}",
                "--bridge", self.bridge, "--iptables=false", "--ip-masq=false", "--ip6tables=false",
                "--add-runtime", f"swrunc={self.rec.path}", "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--cgroup-parent", f"/{self.cgroup_parent}", "--storage-driver", "overlay2",
                "--default-ulimit", "nofile=4096:4096", "--default-ulimit", "nproc=4096:4096"]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        cleanup.add("dockerd", self.stop)
        cleanup.add("docker cgroups", lambda: remove_cgroup_tree(self.cgroup_parent))
        if not wait_for(lambda: run(self.docker("version"), timeout=5).returncode == 0, timeout=60):
            raise RuntimeError("dockerd did not come up: " + open(self.log.name).read()[-2000:])

    def stop(self):
        r = run(self.docker("ps", "-aq"), timeout=20)
        if r.stdout.split():
            run(self.docker("rm", "-f", *r.stdout.split()), timeout=60)
        # dockerd stops its managed containerd and shims when it exits cleanly.
        stop_pid(self.proc.pid, timeout=30)

    def docker(self, *args):
        return [DOCKER, "-H", f"unix://{self.sock}"] + list(args)

    def drun(self, *args, timeout=120):
        return run(self.docker("run", "--runtime", "swrunc", *args), timeout=timeout)

    def tests(self):
        t = self.tap
        r = run(self.docker("load", "-i", self.archive), timeout=120)
        if not t.check(r.returncode == 0, "docker: docker load of the busybox archive", r.stderr):
            return
        r = self.drun("--rm", "busybox", "echo", "hi")
        t.check(r.returncode == 0 and r.stdout.strip() == "hi", "docker: run --runtime swrunc --rm busybox echo hi",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")

        name = unique("it")
        r = self.drun("-d", "--name", name, "busybox", "sh", "-c", "echo started; exec sleep 600")
        t.check(r.returncode == 0, "docker: run -d", r.stderr)
        r = run(self.docker("exec", name, "sh", "-c", "echo exec-ok; cat /proc/1/cmdline | tr '\\0' ' '"))
        t.check(r.returncode == 0 and "exec-ok" in r.stdout and "sleep 600" in r.stdout, "docker: exec",
                f"{r.stdout}\n{r.stderr}")
        r = run(self.docker("logs", name))
        t.check(r.returncode == 0 and "started" in r.stdout, "docker: logs", f"{r.stdout}\n{r.stderr}")
        r = run(self.docker("update", "--memory", "96m", "--memory-swap", "-1", name))
        lim = run(self.docker("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")).stdout.strip()
        t.check(r.returncode == 0 and lim == str(96 << 20), "docker: update --memory (swrunc update --resources -)",
                f"{r.stderr} limit {lim}")
        r = run(self.docker("stop", "-t", "2", name), timeout=60)
        st = run(self.docker("inspect", "-f", "{{.State.Status}}", name)).stdout.strip()
        t.check(r.returncode == 0 and st == "exited", "docker: stop", f"{r.stderr} status {st}")
        r = run(self.docker("rm", name))
        t.check(r.returncode == 0, "docker: rm", r.stderr)

        r = run(["script", "-qec", " ".join(self.docker("run", "--runtime", "swrunc", "-it", "--rm", "busybox",
                                                         "sh", "-c", "'tty; echo tty-ok'")), "/dev/null"])
        t.check(r.returncode == 0 and "tty-ok" in r.stdout and "/dev/pts/" in r.stdout, "docker: run -it through a pty",
                f"{r.stdout}\n{r.stderr}")

        r = self.drun("--rm", "--memory", "64m", "--pids-limit", "20", "busybox", "sh", "-c",
                      "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max")
        lines = r.stdout.split()
        t.check(r.returncode == 0 and lines[:1] == [str(64 << 20)], "docker: --memory 64m is the cgroup limit",
                f"{r.stdout}\n{r.stderr}")
        t.check(r.returncode == 0 and lines[1:2] == ["20"], "docker: --pids-limit 20 is the cgroup limit",
                f"{r.stdout}\n{r.stderr}")
        r = self.drun("--rm", "--memory", "64m", "busybox", "sh", "-c",
                      "head -c 200m /dev/zero | tail > /dev/null && echo survived")
        t.check("survived" not in r.stdout, "docker: --memory is enforced", f"exit {r.returncode}\n{r.stdout}")

        r = self.drun("--rm", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "busybox", "sh", "-c",
                      "grep CapEff /proc/self/status")
        t.check(r.returncode == 0 and r.stdout.split()[-1:] == ["0000000000000400"],
                "docker: --cap-drop ALL --cap-add NET_BIND_SERVICE", f"{r.stdout}\n{r.stderr}")
        r = self.drun("--rm", "--read-only", "busybox", "sh", "-c", "touch /x && echo writable || echo read-only")
        t.check(r.stdout.strip() == "read-only", "docker: --read-only", f"{r.stdout}\n{r.stderr}")

        profile = os.path.join(self.tmp, "seccomp.json")
        with open(profile, "w") as f:
            json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                       "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}, f)
        r = self.drun("--rm", "--security-opt", f"seccomp={profile}", "busybox", "sh", "-c",
                      "mkdir /tmp/d 2>&1; echo done")
        t.check("Operation not permitted" in r.stdout and "done" in r.stdout,
                "docker: --security-opt seccomp=profile denies mkdir", f"{r.stdout}\n{r.stderr}")

        port = free_port(8080)
        name = unique("it")
        r = self.drun("-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "busybox", "httpd", "-f", "-p", "80",
                      "-h", "/var/www")
        body = wait_for(lambda: (lambda c: c.stdout if c.returncode == 0 else None)(
            run(["curl", "-fsS", "--max-time", "2", f"http://127.0.0.1:{port}/"], timeout=5)), timeout=20)
        t.check(r.returncode == 0 and body and "hello from swrunc" in body,
                f"docker: -p {port}:80 with busybox httpd reached with curl on 127.0.0.1",
                f"{r.stderr}\nbody: {body}\n{run(self.docker('logs', name)).stderr}")
        run(self.docker("rm", "-f", name), timeout=60)

        # bad input: the client's normal error, with swrunc's message, and nothing left running
        name = unique("it")
        r = self.drun("--name", name, "busybox", "/no/such/binary")
        st = run(self.docker("inspect", "-f", "{{.State.Status}}", name)).stdout.strip()
        t.check(r.returncode != 0 and "/no/such/binary" in r.stderr and st in ("created", "exited"),
                "docker: a missing binary fails with swrunc's message and leaves nothing running",
                f"exit {r.returncode} status {st}\n{r.stderr}")
        run(self.docker("rm", "-f", name))
        # a bad mount (a directory over a file of the image) fails in the runtime
        name = unique("it")
        d = os.path.join(self.tmp, "a-dir")
        os.makedirs(d, exist_ok=True)
        r = self.drun("--name", name, "-v", f"{d}:/etc/passwd", "busybox", "true")
        cg = os.path.join("/sys/fs/cgroup/memory", self.cgroup_parent)
        leftover = [x for x in os.listdir(cg) if os.path.isdir(os.path.join(cg, x))] if os.path.isdir(cg) else []
        t.check(r.returncode != 0 and "/etc/passwd" in r.stderr and not leftover,
                "docker: a bad mount fails with swrunc's message and leaves no cgroup",
                f"exit {r.returncode} cgroups left {leftover}\n{r.stderr}")
        run(self.docker("rm", "-f", name))
        r = run(["sh", "-c", f"ls {self.tmp}/exec/runtime-swrunc/moby 2>/dev/null | wc -l"])
        t.check(r.stdout.strip() == "0", "docker: no swrunc state left after rm", r.stdout)
