#!/usr/bin/env python3
"""OCI runtime conformance suite: runs every case against one runtime CLI and prints TAP.

Usage:
  run.py --runtime CMD [--only SUBSTR] [--json OUT]      one runtime (CMD may carry a wrapper)
  run.py --compare NAME=CMD ... --results FILE           several runtimes, side-by-side table
  run.py --selftest CMD                                  proves the suite fails a broken runtime

Each case names the spec section and the MUST/SHOULD it checks. Containers run for real, as root,
under a cgroup parent of the suite's own; everything a case makes is removed even when it fails.
"""
import argparse
import json
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
VALIDATOR = os.path.join(HERE, "build", "validator")
ANN = "org.swrunc.conformance."
NS_PROC = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts",
           "user": "user", "cgroup": "cgroup", "time": "time"}
APPLETS = ["sh", "true", "false", "sleep", "cat", "echo", "ls", "mkdir", "touch", "test", "kill"]


class Results:
    def __init__(self, echo=True, known=()):
        self.items = []  # (case, name, ref, status, diag)
        self.echo = echo
        # Deliberate deviations, reported as TAP TODO: still "not ok", not counted as failures.
        self.known = set(known)

    def add(self, case, name, ref, status, diag=""):
        if status == "fail" and f"{case}: {name}" in self.known:
            status = "todo"
        self.items.append((case, name, ref, status, diag))
        if self.echo:
            n = len(self.items)
            line = f"{'not ok' if status in ('fail', 'todo') else 'ok'} {n} - {case}: {name} [{ref}]"
            if status == "skip":
                line += f" # SKIP {diag}"
            if status == "todo":
                line += " # TODO known deviation (conformance/known-deviations.txt)"
            print(line, flush=True)
            if status in ("fail", "todo") and diag:
                for d in str(diag).splitlines()[:6]:
                    print(f"#   {d}", flush=True)

    def counts(self):
        c = {"pass": 0, "fail": 0, "skip": 0, "todo": 0}
        for it in self.items:
            c[it[3]] += 1
        return c


class Runtime:
    def __init__(self, cmd, root):
        self.cmd = cmd
        self.root = root

    def __call__(self, *args, timeout=60):
        # Output goes to files, not pipes: a created container keeps the runtime's stdio open, and
        # a pipe would never reach EOF while it lives.
        argv = self.cmd + ["--root", self.root] + list(args)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout)
                code = p.returncode
            except subprocess.TimeoutExpired:
                code = 124
            out.seek(0)
            err.seek(0)
            o, e = out.read().decode(errors="replace"), err.read().decode(errors="replace")
            if code == 124:
                e += f" (timed out after {timeout}s)"
            return subprocess.CompletedProcess(argv, code, o, e)

    def popen(self, *args, **kw):
        return subprocess.Popen(self.cmd + ["--root", self.root] + list(args), **kw)

    def state(self, cid):
        r = self("state", cid)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None


def base_config(args):
    """The default config `runc spec` writes, without a terminal: what every case starts from."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(caps) for k in ["bounding", "effective", "permitted", "ambient"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "conformance",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
             "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount"]],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


class Suite:
    def __init__(self, runtime_cmd, results, only=None):
        self.run_id = uuid.uuid4().hex[:8]
        self.tmp = tempfile.mkdtemp(prefix=f"conformance-{self.run_id}-")
        os.chmod(self.tmp, 0o755)  # user-namespaced containers must reach their rootfs
        self.rt = Runtime(runtime_cmd, os.path.join(self.tmp, "state"))
        self.results = results
        self.only = only
        self.cgroup_parent = f"conformance-{self.run_id}"
        self.ids = []
        self.cleanups = []
        self.host_ns = {}
        for t, p in NS_PROC.items():
            try:
                self.host_ns[t] = os.stat(f"/proc/self/ns/{p}").st_ino
            except OSError:
                pass
        self.template = os.path.join(self.tmp, "template")
        self._make_template()

    # ------------------------------------------------------------------ plumbing

    def _make_template(self):
        t = self.template
        for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "conformance", "shared"]:
            os.makedirs(os.path.join(t, d), exist_ok=True)
        shutil.copy2("/bin/busybox", os.path.join(t, "bin", "busybox"))
        for a in APPLETS:
            os.symlink("busybox", os.path.join(t, "bin", a))
        shutil.copy2(VALIDATOR, os.path.join(t, "conformance", "validator"))
        with open(os.path.join(t, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        os.chmod(os.path.join(t, "tmp"), 0o1777)

    def new_id(self, case):
        cid = f"conf-{case}-{uuid.uuid4().hex[:6]}"
        self.ids.append(cid)
        return cid

    def bundle(self, cid, config):
        """A bundle dir: rootfs hard-linked from the template, the config written twice — as the
        bundle's config.json and as /conformance/config.json for the validator to read."""
        b = os.path.join(self.tmp, "bundles", cid)
        os.makedirs(b)
        subprocess.run(["cp", "-al", self.template, os.path.join(b, "rootfs")], check=True)
        config.setdefault("linux", {})
        config["linux"].setdefault("cgroupsPath", f"/{self.cgroup_parent}/{cid}")
        ann = config.setdefault("annotations", {})
        for t, ino in self.host_ns.items():
            ann[ANN + "hostns." + t] = str(ino)
        # The validator's copy is a new file, not a hard link, so the bundle's stays independent.
        cpath = os.path.join(b, "rootfs", "conformance", "config.json")
        with open(cpath, "w") as f:
            json.dump(config, f, indent=1)
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(config, f, indent=1)
        return b

    def shared_dir(self, cid):
        d = os.path.join(self.tmp, "shared", cid)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o777)
        return d

    def check(self, case, ok, name, ref, diag=""):
        self.results.add(case, name, ref, "pass" if ok else "fail", diag)
        return ok

    def skip(self, case, name, ref, why):
        self.results.add(case, name, ref, "skip", why)

    def force_delete(self, cid):
        self.rt("delete", "--force", cid, timeout=30)

    def run_validator(self, case, config, via="run"):
        """Runs the validator as the container process and folds its TAP lines into the results."""
        cid = self.new_id(case)
        config["process"]["args"] = ["/conformance/validator", "arg with space", "--flag=1"]
        b = self.bundle(cid, config)
        r = self.rt("run", "--bundle", b, cid, timeout=60)
        self.force_delete(cid)
        self.fold_tap(case, r.stdout, f"exit {r.returncode}: {r.stderr.strip()}")

    def fold_tap(self, case, out, failure_diag):
        seen = False
        pending = None
        for line in out.splitlines():
            line = line.rstrip("\r")
            if line.startswith("#   ") and pending:
                pending[4] = (pending[4] + "\n" + line[4:]).strip()
                continue
            if pending:
                self.results.add(*pending)
                pending = None
            ok = line.startswith("ok - ")
            if not (ok or line.startswith("not ok - ")):
                continue
            seen = True
            body = line.split(" - ", 1)[1]
            status = "pass" if ok else "fail"
            diag = ""
            if " # SKIP " in body:
                body, diag = body.split(" # SKIP ", 1)
                status = "skip"
            name, _, ref = body.rpartition(" [")
            pending = [case, name, ref.rstrip("]"), status, diag]
        if pending:
            self.results.add(*pending)
        if not seen:
            self.check(case, False, "the container ran the validator", "config.md#process MUST", failure_diag)

    def cleanup(self):
        for cid in self.ids:
            self.force_delete(cid)
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # cleanup goes on; report what was left
                print(f"# cleanup: {e}", file=sys.stderr)
        remove_cgroup_parent(self.cgroup_parent)
        subprocess.run(["rm", "-rf", self.tmp])

    def cases(self):
        return [(n[5:], getattr(self, n)) for n in sorted(dir(self)) if n.startswith("case_")]

    def run_all(self):
        try:
            for name, fn in self.cases():
                if self.only and not any(o in name for o in self.only):
                    continue
                try:
                    fn(name)
                except Exception as e:
                    self.check(name, False, "case ran to completion", "harness", repr(e))
        finally:
            self.cleanup()

    # ------------------------------------------------------------------ validator cases

    def case_config_defaults(self, case):
        """The default config: default filesystems and devices, /dev links, masked and readonly
        paths, namespaces, read-only root, mounts in order with their options."""
        cfg = base_config([])
        cfg["annotations"] = {ANN + "checks": "defaults"}
        self.run_validator(case, cfg)

    def case_config_process(self, case):
        cfg = base_config([])
        p = cfg["process"]
        p["env"] += ["CONFORMANCE_A=1", "CONFORMANCE_B=value with = and spaces"]
        p["cwd"] = "/tmp"
        p["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100], "umask": 0o027}
        p["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1000},
                        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
                        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400}]
        p["capabilities"] = {
            "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SYS_CHROOT"],
            "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
            "inheritable": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
            "ambient": ["CAP_NET_BIND_SERVICE"],
        }
        p["noNewPrivileges"] = True
        p["oomScoreAdj"] = 123
        cfg["hostname"] = "conf-host"
        cfg["domainname"] = "conf.example"
        cfg["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "9000"}
        self.run_validator(case, cfg)

    def case_config_root_and_mounts(self, case):
        cfg = base_config([])
        cfg["root"]["readonly"] = False
        cfg["linux"]["rootfsPropagation"] = "slave"
        src = self.shared_dir("mounts-src")
        cfg["mounts"] += [
            {"destination": "/mnt/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "noexec", "mode=700", "size=1m"]},
            {"destination": "/mnt/bind-ro", "type": "bind", "source": src, "options": ["rbind", "ro", "rprivate"]},
            {"destination": "/mnt/bind-nosuid", "source": src, "options": ["bind", "nosuid", "noatime"]},
            {"destination": "/mnt/tmp/nested", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]},
        ]
        self.run_validator(case, cfg)

    def case_config_devices(self, case):
        cfg = base_config([])
        cfg["linux"]["devices"] = [
            {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666, "uid": 0, "gid": 0},
            {"path": "/dev/conf-loop", "type": "b", "major": 7, "minor": 200, "fileMode": 0o640, "uid": 1, "gid": 2},
            {"path": "/dev/conf-fifo", "type": "p", "fileMode": 0o600},
            {"path": "/conf-null", "type": "c", "major": 1, "minor": 3},
            {"path": "/dev/conf-denied", "type": "b", "major": 7, "minor": 201},
        ]
        cfg["linux"]["resources"]["devices"] += [
            {"allow": True, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
            {"allow": True, "type": "b", "major": 7, "minor": 201, "access": "rwm"},
            {"allow": False, "type": "b", "major": 7, "minor": 201, "access": "rwm"},
        ]
        self.run_validator(case, cfg)

    def case_config_masked_readonly(self, case):
        cfg = base_config([])
        cfg["root"]["readonly"] = False
        cfg["linux"]["maskedPaths"] += ["/secret-file", "/secret-dir"]
        cfg["linux"]["readonlyPaths"] += ["/ro-dir"]
        cid = self.new_id(case)
        cfg["process"]["args"] = ["/conformance/validator", "arg with space", "--flag=1"]
        b = self.bundle(cid, cfg)
        rootfs = os.path.join(b, "rootfs")
        with open(os.path.join(rootfs, "secret-file"), "w") as f:
            f.write("secret")
        os.makedirs(os.path.join(rootfs, "secret-dir"))
        with open(os.path.join(rootfs, "secret-dir", "inside"), "w") as f:
            f.write("secret")
        os.makedirs(os.path.join(rootfs, "ro-dir"))
        r = self.rt("run", "--bundle", b, cid)
        self.force_delete(cid)
        self.fold_tap(case, r.stdout, f"exit {r.returncode}: {r.stderr.strip()}")

    def case_config_namespaces_inherited(self, case):
        cfg = base_config([])
        cfg["linux"]["namespaces"] = [{"type": "mount"}, {"type": "pid"}]
        cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] not in ("/sys", "/sys/fs/cgroup", "/dev/mqueue")]
        cfg["linux"]["maskedPaths"] = []
        cfg["linux"]["readonlyPaths"] = []
        del cfg["hostname"]
        self.run_validator(case, cfg)

    def case_config_namespaces_new(self, case):
        cfg = base_config([])
        cfg["linux"]["namespaces"] = [{"type": t} for t in ["pid", "network", "ipc", "uts", "mount", "cgroup"]]
        cfg["linux"]["rootfsPropagation"] = "shared"
        self.run_validator(case, cfg)

    def case_config_namespaces_time(self, case):
        if not os.path.exists("/proc/self/ns/time"):
            self.skip(case, "new time namespace", "config-linux.md#namespaces MUST", "kernel without time namespaces")
            return
        cfg = base_config([])
        cfg["linux"]["namespaces"].append({"type": "time"})
        cfg["linux"]["timeOffsets"] = {"monotonic": {"secs": 86400, "nanosecs": 0},
                                       "boottime": {"secs": 3600, "nanosecs": 0}}
        self.run_validator(case, cfg)

    def case_config_namespaces_by_path(self, case):
        d = os.path.join(self.tmp, "nsfiles")
        os.makedirs(d)
        # unshare(1) binds namespace files only onto a mount that is not shared.
        subprocess.run(["mount", "--bind", d, d], check=True)
        self.cleanups.append(lambda: subprocess.run(["umount", "-R", d]))
        subprocess.run(["mount", "--make-private", d], check=True)
        kinds = {"network": "net", "ipc": "ipc", "uts": "uts"}
        for p in kinds.values():
            open(os.path.join(d, p), "w").close()
        r = subprocess.run(["unshare"] + [f"--{p}={d}/{p}" for p in kinds.values()] + ["true"],
                           capture_output=True, text=True)
        if not self.check(case, r.returncode == 0, "harness makes persistent namespaces", "harness", r.stderr):
            return
        cfg = base_config([])
        cfg["linux"]["namespaces"] = [{"type": "pid"}, {"type": "mount"}] + \
            [{"type": t, "path": f"{d}/{p}"} for t, p in kinds.items()]
        ann = {}
        for t, p in kinds.items():
            ann[ANN + "pathns." + t] = str(os.stat(f"{d}/{p}").st_ino)
        cfg["annotations"] = ann
        del cfg["hostname"]
        self.run_validator(case, cfg)

        # A path whose namespace is of another type MUST be an error.
        cfg = base_config(["true"])
        cfg["linux"]["namespaces"] = [{"type": "pid"}, {"type": "mount"}, {"type": "uts", "path": f"{d}/net"}]
        self.expect_create_error(case, cfg, "namespace path of the wrong type is an error",
                                 "config-linux.md#namespaces MUST")

    def case_config_userns(self, case):
        cfg = base_config([])
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
        cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] != "/sys/fs/cgroup"]
        self.run_validator(case, cfg)

    def case_config_seccomp(self, case):
        cfg = base_config([])
        cfg["root"]["readonly"] = False
        cfg["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["symlink"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["getppid"], "action": "SCMP_ACT_ALLOW"},
            ],
        }
        self.run_validator(case, cfg)

    def case_config_terminal(self, case):
        """process.terminal with --console-socket: the pty master arrives over the socket."""
        cfg = base_config([])
        cfg["process"]["terminal"] = True
        cfg["process"]["consoleSize"] = {"height": 33, "width": 101}
        cfg["process"]["args"] = ["/conformance/validator", "arg with space", "--flag=1"]
        cid = self.new_id(case)
        b = self.bundle(cid, cfg)
        sock_path = os.path.join(self.tmp, f"console-{cid}.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(sock_path)
        srv.listen(1)
        srv.settimeout(30)
        create = self.rt.popen("create", "--bundle", b, "--console-socket", sock_path, cid,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        master = None
        try:
            conn, _ = srv.accept()
            _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
            conn.close()
            master = fds[0] if fds else None
        except OSError as e:
            self.check(case, False, "the runtime sends the pty master over --console-socket",
                       "config.md#process MUST", repr(e))
        out, err = create.communicate(timeout=60)
        srv.close()
        if master is None or create.returncode != 0:
            self.check(case, False, "create with a terminal", "config.md#process MUST", err)
            return
        self.rt("start", cid)
        buf = b""
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break  # EIO: the last slave fd closed
            if not chunk:
                break
            buf += chunk
        os.close(master)
        self.force_delete(cid)
        self.fold_tap(case, buf.decode(errors="replace"), "no output on the pty")

    def case_config_cgroups_absolute(self, case):
        self.cgroup_case(case, f"/{self.cgroup_parent}/abs-{uuid.uuid4().hex[:6]}")

    def case_config_cgroups_relative(self, case):
        self.cgroup_case(case, f"{self.cgroup_parent}/rel-{uuid.uuid4().hex[:6]}")

    def cgroup_case(self, case, path):
        cfg = base_config([])
        cfg["linux"]["cgroupsPath"] = path
        res = cfg["linux"]["resources"]
        res["memory"] = {"limit": 64 << 20, "reservation": 32 << 20}
        res["cpu"] = {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"}
        res["pids"] = {"limit": 64}
        if path.startswith("/"):
            # The rest of what this machine's v1 controllers take, read back inside as well.
            res["memory"].update(swap=128 << 20, swappiness=30, disableOOMKiller=True)
            res["cpu"]["mems"] = "0"
            dev = os.stat("/").st_dev
            rule = {"major": os.major(dev), "minor": os.minor(dev)}
            if os.path.exists("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device"):
                res["blockIO"] = {"throttleReadBpsDevice": [dict(rule, rate=1 << 20)],
                                  "throttleWriteIOPSDevice": [dict(rule, rate=100)]}
        self.run_validator(case, cfg)
        if path.startswith("/"):
            # Relative to the cgroups mount point: read back from the host as well.
            f = f"/sys/fs/cgroup/memory{path}"
            self.check(case, not os.path.exists(f), "the container's cgroup is removed by delete",
                       "runtime.md#delete MUST", f"{f} still exists")

    # ------------------------------------------------------------------ lifecycle cases

    def lifecycle_bundle(self, case, script, hooks=None, extra=None):
        cid = self.new_id(case)
        shared = self.shared_dir(cid)
        cfg = base_config(["sh", "-c", script])
        cfg["root"]["readonly"] = False
        cfg["mounts"].append({"destination": "/shared", "type": "bind", "source": shared, "options": ["rbind"]})
        if hooks:
            cfg["hooks"] = hooks
        if extra:
            extra(cfg)
        return cid, self.bundle(cid, cfg), shared

    def wait_status(self, cid, want, timeout=10):
        deadline = time.time() + timeout
        st = None
        while time.time() < deadline:
            st = self.rt.state(cid)
            if st and st.get("status") == want:
                return st
            time.sleep(0.05)
        return st

    def expect_create_error(self, case, cfg, name, ref):
        cid = self.new_id(case)
        b = self.bundle(cid, cfg)
        r = self.rt("create", "--bundle", b, cid)
        left = self.rt.state(cid)
        self.check(case, r.returncode != 0 and left is None, name, ref,
                   f"exit {r.returncode}, state afterwards: {left}")
        self.force_delete(cid)

    def case_lifecycle_state_and_start(self, case):
        R = "runtime.md"
        r = self.rt("state", f"conf-missing-{self.run_id}")
        self.check(case, r.returncode != 0, "state of an unknown id is an error", f"{R}#query-state MUST")

        cid, b, shared = self.lifecycle_bundle(case, "echo started > /shared/marker; exec sleep 600")
        pidfile = os.path.join(self.tmp, f"{cid}.pid")
        r = self.rt("create", "--bundle", b, "--pid-file", pidfile, cid)
        if not self.check(case, r.returncode == 0, "create succeeds", f"{R}#create MUST", r.stderr):
            return
        st = self.rt.state(cid) or {}
        self.check(case, st.get("status") == "created", "status is created after create", f"{R}#state MUST", st)
        self.check(case, st.get("id") == cid, "state.id is the container's id", f"{R}#state MUST", st)
        self.check(case, isinstance(st.get("ociVersion"), str) and st["ociVersion"], "state.ociVersion is set",
                   f"{R}#state MUST", st)
        self.check(case, st.get("bundle") == b, "state.bundle is the absolute bundle path", f"{R}#state MUST", st)
        pid = st.get("pid", 0)
        self.check(case, isinstance(pid, int) and pid > 0 and os.path.exists(f"/proc/{pid}"),
                   "state.pid is the live container process", f"{R}#state MUST", st)
        ann = st.get("annotations") or {}
        self.check(case, ann.get(ANN + "hostns.pid") == str(self.host_ns.get("pid")),
                   "state.annotations are the config's annotations", f"{R}#state MUST", ann)
        try:
            filepid = int(open(pidfile).read().strip())
        except (OSError, ValueError):
            filepid = -1
        self.check(case, filepid == pid, "--pid-file holds the container pid", "runc-cli (create --pid-file)",
                   f"{filepid} vs {pid}")
        self.check(case, not os.path.exists(os.path.join(shared, "marker")),
                   "the user program does not run before start", f"{R}#create MUST")

        r = self.rt("create", "--bundle", b, cid)
        st2 = self.rt.state(cid) or {}
        self.check(case, r.returncode != 0 and st2.get("pid") == pid and st2.get("status") == "created",
                   "create with a duplicate id is an error and leaves the first container alone",
                   f"{R}#create MUST", f"exit {r.returncode}, state {st2}")

        r = self.rt("start", cid)
        self.check(case, r.returncode == 0, "start succeeds", f"{R}#start MUST", r.stderr)
        deadline = time.time() + 10
        while time.time() < deadline and not os.path.exists(os.path.join(shared, "marker")):
            time.sleep(0.05)
        self.check(case, os.path.exists(os.path.join(shared, "marker")), "start runs the user program",
                   f"{R}#start MUST")
        st = self.wait_status(cid, "running") or {}
        self.check(case, st.get("status") == "running", "status is running after start", f"{R}#state MUST", st)

        r = self.rt("start", cid)
        st = self.rt.state(cid) or {}
        self.check(case, r.returncode != 0 and st.get("status") == "running",
                   "start of a running container is an error without effect", f"{R}#start MUST", r.stderr)

        r = self.rt("delete", cid)
        st = self.rt.state(cid) or {}
        self.check(case, r.returncode != 0 and st.get("status") == "running",
                   "delete of a running container is an error without effect", f"{R}#delete MUST",
                   f"exit {r.returncode}, state {st}")

        r = self.rt("kill", cid, "KILL")
        self.check(case, r.returncode == 0, "kill sends SIGKILL to a running container", f"{R}#kill MUST", r.stderr)
        st = self.wait_status(cid, "stopped") or {}
        self.check(case, st.get("status") == "stopped", "status is stopped once the process exited",
                   f"{R}#state MUST", st)

        r = self.rt("start", cid)
        self.check(case, r.returncode != 0, "start of a stopped container is an error", f"{R}#start MUST")
        r = self.rt("kill", cid, "TERM")
        st = self.rt.state(cid) or {}
        self.check(case, r.returncode != 0 and st.get("status") == "stopped",
                   "kill of a stopped container is an error without effect", f"{R}#kill MUST", r.stderr)

        r = self.rt("delete", cid)
        self.check(case, r.returncode == 0 and self.rt.state(cid) is None,
                   "delete of a stopped container removes it", f"{R}#delete MUST", r.stderr)
        r = self.rt("delete", cid)
        self.check(case, r.returncode != 0, "delete of an unknown id is an error", f"{R}#delete MUST")

    def case_lifecycle_kill_signals(self, case):
        R = "runtime.md"
        script = "trap 'echo term > /shared/got; exit 42' TERM; echo ready > /shared/ready; while :; do sleep 0.1; done"
        cid, b, shared = self.lifecycle_bundle(case, script)
        self.rt("create", "--bundle", b, cid)
        self.rt("start", cid)
        deadline = time.time() + 10
        while time.time() < deadline and not os.path.exists(os.path.join(shared, "ready")):
            time.sleep(0.05)
        r = self.rt("kill", cid, "SIGTERM")
        st = self.wait_status(cid, "stopped") or {}
        got = os.path.exists(os.path.join(shared, "got"))
        self.check(case, r.returncode == 0 and got and st.get("status") == "stopped",
                   "kill delivers the named signal to the container process", f"{R}#kill MUST",
                   f"exit {r.returncode} {r.stderr.strip()}, handler ran: {got}, state {st}")

        cid, b, shared = self.lifecycle_bundle(case, "exec sleep 600")
        self.rt("create", "--bundle", b, cid)
        r = self.rt("kill", cid, "9")
        st = self.wait_status(cid, "stopped") or {}
        self.check(case, r.returncode == 0 and st.get("status") == "stopped",
                   "kill of a created container by number stops it", f"{R}#kill MUST", f"{r.stderr} {st}")

        cid, b, shared = self.lifecycle_bundle(case, "exec sleep 600")
        self.rt("create", "--bundle", b, cid)
        r = self.rt("delete", cid)
        st = self.rt.state(cid)
        self.check(case, r.returncode != 0 and st is not None and st.get("status") == "created",
                   "delete of a created (not stopped) container is an error without effect", f"{R}#delete MUST",
                   f"exit {r.returncode}, state afterwards {st}")

    def case_lifecycle_run_exit_status(self, case):
        cid, b, _ = self.lifecycle_bundle(case, "exit 7")
        r = self.rt("run", "--bundle", b, cid)
        self.check(case, r.returncode == 7, "run returns the container's exit status", "runc-cli (run)",
                   f"exit {r.returncode} {r.stderr}")
        cid, b, _ = self.lifecycle_bundle(case, "", extra=lambda c: c["process"].update(args=["/no/such/program"]))
        r1 = self.rt("create", "--bundle", b, cid)
        r2 = self.rt("start", cid) if r1.returncode == 0 else r1
        st = self.rt.state(cid) or {}
        self.check(case, r2.returncode != 0 and st.get("status") != "running",
                   "a program that cannot be executed is an error from create or start", "runtime.md#start MUST",
                   f"create {r1.returncode}, start {r2.returncode}, state {st}")

    def hook_entry(self, kind, log, shared_in_container=False, fail=False, env=True):
        script = os.path.join(self.tmp, "hook.sh")
        if not os.path.exists(script):
            with open(script, "w") as f:
                f.write('#!/bin/sh\n{ printf "%s %s " "$1" "${CONF_HOOK_ENV:-noenv}"; cat; echo; } >> "$2"\n'
                        '[ "$3" = fail ] && exit 3\nexit 0\n')
            os.chmod(script, 0o755)
        args = ["hook", kind, log] + (["fail"] if fail else [])
        entry = {"path": script, "args": args}
        if shared_in_container:
            entry["path"] = "/conformance/hook.sh"
        if env:
            entry["env"] = [f"CONF_HOOK_ENV=env-{kind}"]
        return entry

    def read_hook_log(self, log):
        out = []
        try:
            for line in open(log):
                parts = line.strip().split(" ", 2)
                if len(parts) == 3:
                    try:
                        out.append((parts[0], parts[1], json.loads(parts[2])))
                    except ValueError:
                        out.append((parts[0], parts[1], {}))
        except OSError:
            pass
        return out

    def case_lifecycle_hooks(self, case):
        C = "config.md#posix-platform-hooks"
        cid = self.new_id(case)
        shared = self.shared_dir(cid)
        log = os.path.join(shared, "hooks.log")
        inlog = "/shared/hooks.log"
        hooks = {
            "prestart": [self.hook_entry("prestart", log)],
            "createRuntime": [self.hook_entry("createRuntime", log), self.hook_entry("createRuntime2", log)],
            "createContainer": [self.hook_entry("createContainer", log)],
            "startContainer": [self.hook_entry("startContainer", inlog, shared_in_container=True)],
            "poststart": [self.hook_entry("poststart", log)],
            "poststop": [self.hook_entry("poststop", log)],
        }
        cfg = base_config(["sh", "-c", "echo program >> /shared/hooks.log; exec sleep 600"])
        cfg["root"]["readonly"] = False
        cfg["mounts"].append({"destination": "/shared", "type": "bind", "source": shared, "options": ["rbind"]})
        cfg["hooks"] = hooks
        b = self.bundle(cid, cfg)
        shutil.copy2(os.path.join(self.tmp, "hook.sh"), os.path.join(b, "rootfs", "conformance", "hook.sh"))
        r = self.rt("create", "--bundle", b, cid)
        self.check(case, r.returncode == 0, "create with hooks succeeds", "runtime.md#create MUST", r.stderr)
        after_create = [k for k, _, _ in self.read_hook_log(log)]
        self.check(case, "startContainer" not in after_create and "poststart" not in after_create,
                   "start hooks do not run during create", f"{C} MUST", after_create)
        self.rt("start", cid)
        self.rt("kill", cid, "KILL")
        self.wait_status(cid, "stopped")
        before_delete = [k for k, _, _ in self.read_hook_log(log)]
        self.check(case, "poststop" not in before_delete, "poststop does not run before delete", f"{C} MUST",
                   before_delete)
        r = self.rt("delete", cid)
        entries = self.read_hook_log(log)
        kinds = [k for k, _, _ in entries]
        order = ["prestart", "createRuntime", "createRuntime2", "createContainer", "startContainer", "poststart",
                 "poststop"]
        for k in order:
            self.check(case, k in kinds, f"{k} hook runs", f"{C} MUST", kinds)
        pos = [kinds.index(k) for k in order if k in kinds]
        self.check(case, pos == sorted(pos) and len(pos) == len(order),
                   "hooks run in lifecycle order (createRuntime, createContainer, startContainer, poststart, poststop)",
                   f"{C} MUST", kinds)
        self.check(case, "createRuntime" in kinds and "createRuntime2" in kinds and
                   kinds.index("createRuntime") < kinds.index("createRuntime2"),
                   "hooks of one kind run in the listed order", f"{C} MUST", kinds)
        if "program" in kinds and "startContainer" in kinds:
            self.check(case, kinds.index("startContainer") < kinds.index("program"),
                       "startContainer runs before the user program", f"{C} MUST", kinds)
        want = {"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
                "startContainer": "created", "poststart": "running", "poststop": "stopped"}
        for k, env, st in entries:
            if k not in want:
                continue
            ok = st.get("id") == cid and st.get("bundle") == b and "ociVersion" in st
            self.check(case, ok, f"{k} hook receives the container state on stdin", f"{C} MUST", st)
            self.check(case, st.get("status") == want[k], f"{k} hook sees status {want[k]}",
                       f"{C} + runtime.md#state MUST", st.get("status"))
            self.check(case, env == f"env-{k}", f"{k} hook gets its env", f"{C} MUST", env)
        self.check(case, r.returncode == 0 and self.rt.state(cid) is None, "delete with a poststop hook succeeds",
                   "runtime.md#delete MUST", r.stderr)

    def case_lifecycle_hook_failures(self, case):
        C = "config.md#posix-platform-hooks"
        for kind in ["createRuntime", "createContainer", "prestart"]:
            cid = self.new_id(case)
            shared = self.shared_dir(cid)
            log = os.path.join(shared, "hooks.log")
            cfg = base_config(["sh", "-c", "echo program >> /shared/hooks.log"])
            cfg["mounts"].append({"destination": "/shared", "type": "bind", "source": shared, "options": ["rbind"]})
            cfg["hooks"] = {kind: [self.hook_entry(kind, log, fail=True)],
                            "poststop": [self.hook_entry("poststop", log)]}
            b = self.bundle(cid, cfg)
            r = self.rt("create", "--bundle", b, cid)
            if r.returncode == 0:
                self.rt("start", cid)
            kinds = [k for k, _, _ in self.read_hook_log(log)]
            st = self.rt.state(cid)
            self.check(case, r.returncode != 0 and st is None and "program" not in kinds,
                       f"a failing {kind} hook fails create and stops the container", f"{C} MUST",
                       f"exit {r.returncode}, state {st}, log {kinds}")
            self.check(case, "poststop" in kinds, f"after a failing {kind} hook the poststop hooks run",
                       f"{C} MUST", kinds)
            self.force_delete(cid)

        cid = self.new_id(case)
        shared = self.shared_dir(cid)
        log = os.path.join(shared, "hooks.log")
        cfg = base_config(["sh", "-c", "exec sleep 600"])
        cfg["hooks"] = {"poststart": [self.hook_entry("poststart", log, fail=True), self.hook_entry("poststart2", log)],
                        "poststop": [self.hook_entry("poststop", log, fail=True), self.hook_entry("poststop2", log)]}
        b = self.bundle(cid, cfg)
        self.rt("create", "--bundle", b, cid)
        r = self.rt("start", cid)
        st = self.rt.state(cid) or {}
        kinds = [k for k, _, _ in self.read_hook_log(log)]
        self.check(case, st.get("status") == "running" and "poststart2" in kinds,
                   "a failing poststart hook is a warning: the container runs and later hooks run", f"{C} MUST",
                   f"start exit {r.returncode}, state {st}, log {kinds}")
        self.rt("kill", cid, "KILL")
        self.wait_status(cid, "stopped")
        r = self.rt("delete", cid)
        kinds = [k for k, _, _ in self.read_hook_log(log)]
        self.check(case, r.returncode == 0 and self.rt.state(cid) is None and "poststop2" in kinds,
                   "a failing poststop hook is a warning: delete completes and later hooks run", f"{C} MUST",
                   f"delete exit {r.returncode}, log {kinds}")

        cid = self.new_id(case)
        shared = self.shared_dir(cid)
        log = os.path.join(shared, "hooks.log")
        cfg = base_config(["sh", "-c", "echo program >> /shared/hooks.log; exec sleep 600"])
        cfg["root"]["readonly"] = False
        cfg["mounts"].append({"destination": "/shared", "type": "bind", "source": shared, "options": ["rbind"]})
        cfg["hooks"] = {"startContainer": [self.hook_entry("startContainer", "/shared/hooks.log", True, fail=True)],
                        "poststop": [self.hook_entry("poststop", log)]}
        b = self.bundle(cid, cfg)
        shutil.copy2(os.path.join(self.tmp, "hook.sh"), os.path.join(b, "rootfs", "conformance", "hook.sh"))
        self.rt("create", "--bundle", b, cid)
        r = self.rt("start", cid)
        time.sleep(0.2)
        st = self.rt.state(cid) or {}
        kinds = [k for k, _, _ in self.read_hook_log(log)]
        self.check(case, r.returncode != 0 and st.get("status") != "running" and "program" not in kinds,
                   "a failing startContainer hook fails start and stops the container", f"{C} MUST",
                   f"start exit {r.returncode}, state {st}, log {kinds}")

    def case_config_errors(self, case):
        """Configs the runtime MUST refuse, with nothing left behind."""
        cfg = base_config(["true"])
        cfg["linux"]["namespaces"].append({"type": "pid"})
        self.expect_create_error(case, cfg, "a duplicated namespace type is an error",
                                 "config-linux.md#namespaces MUST")
        cfg = base_config(["true"])
        cfg["root"]["path"] = "no-such-rootfs"
        self.expect_create_error(case, cfg, "a missing root.path is an error", "config.md#root MUST")
        cfg = base_config(["true"])
        cfg["root"]["readonly"] = False
        cfg["linux"]["devices"] = [{"path": "/etc/passwd", "type": "c", "major": 1, "minor": 3}]
        self.expect_create_error(case, cfg, "a device path holding a different file is an error",
                                 "config-linux.md#devices MUST")
        cfg = base_config(["true"])
        cfg["hooks"] = {"createRuntime": [{"path": "/no/such/hook"}]}
        self.expect_create_error(case, cfg, "a hook that cannot be run fails create", "config.md#posix-platform-hooks MUST")
        cfg = base_config(["true"])
        cfg["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "20"], "timeout": 1}]}
        self.expect_create_error(case, cfg, "a hook that outlives its timeout is aborted and fails create",
                                 "config.md#posix-platform-hooks MUST")
        cfg = base_config(["true"])
        cfg["process"]["rlimits"].append({"type": "RLIMIT_NO_SUCH_LIMIT", "soft": 1, "hard": 1})
        self.expect_create_error(case, cfg, "an rlimit type without a kernel interface is an error",
                                 "config.md#posix-process MUST")
        for op in ["start", "kill", "delete", "state"]:
            r = self.rt(op)
            self.check(case, r.returncode != 0, f"{op} without a container id is an error", f"runtime.md#{op} MUST")


def remove_cgroup_parent(parent):
    """rmdir the suite's cgroup parent (and whatever is left below it) in every hierarchy."""
    roots = []
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        fstype = f[f.index("-") + 1]
        if fstype in ("cgroup", "cgroup2"):
            roots.append(f[4])
    own = {}
    for line in open("/proc/self/cgroup"):
        _, ctrls, path = line.strip().split(":", 2)
        own[ctrls] = path
    for root in roots:
        candidates = [os.path.join(root, parent)]
        # Relative cgroupsPath lands below the runtime's own cgroup in some runtimes.
        for path in own.values():
            candidates.append(os.path.join(root + path, parent))
        for c in candidates:
            if os.path.isdir(c):
                for d, subdirs, _ in sorted(os.walk(c, topdown=False), key=lambda x: -len(x[0])):
                    try:
                        os.rmdir(d)
                    except OSError:
                        pass


def run_suite(cmd, only=None, echo=True, known=()):
    results = Results(echo, known)
    Suite(cmd, results, only).run_all()
    return results


def summary(results):
    c = results.counts()
    line = f"{c['pass']} passed, {c['fail']} failed, {c['skip']} skipped"
    if c["todo"]:
        line += f" ({c['todo']} known deviations not counted as failures)"
    return line


def write_compare(path, named):
    """Two side-by-side tables: per case (passed/failed/skipped for each runtime), then every
    check on which some runtime did not pass."""
    keys, table, cases = [], {}, []
    for name, res in named:
        for case, check, ref, status, diag in res.items:
            k = (case, check, ref)
            if k not in table:
                keys.append(k)
                table[k] = {}
            if case not in cases:
                cases.append(case)
            table[k][name] = status
    mark = {"pass": "pass", "fail": "**FAIL**", "skip": "skip", "todo": "**FAIL**", None: "n/a"}
    names = [n for n, _ in named]
    with open(path, "w") as f:
        f.write("# Conformance results\n\n")
        f.write(f"`make conformance-compare`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, kernel "
                f"{os.uname().release} ({os.uname().machine}), hybrid cgroups; crun runs through bench/wrap.sh "
                "(private mount namespace without /sys/fs/cgroup/unified, which crun 1.8 refuses).\n\n")
        for name, res in named:
            f.write(f"- **{name}** ({res.version}): {summary(res)}\n")
        f.write("\nSkips are checks this machine cannot exercise (masked or read-only paths the kernel does "
                "not have). A check a runtime never reached (its container failed before the validator ran) is "
                "left out of the second table; the case's 'the container ran the validator' row says why "
                "(`n/a` there means it ran).\n")
        f.write("\n## Per case (passed / failed / skipped)\n\n| case | " + " | ".join(names) + " |\n")
        f.write("|---|" + "---|" * len(names) + "\n")
        for case in cases:
            cells = []
            for n in names:
                st = [table[k].get(n) for k in keys if k[0] == case]
                cells.append(f"{st.count('pass')} / {st.count('fail') + st.count('todo')} / {st.count('skip')}")
            f.write(f"| {case} | " + " | ".join(cells) + " |\n")
        # Rows whose only gaps are "not run" are left out: the case's "ran the validator" row
        # already says why that runtime stopped.
        diffs = []
        for k in keys:
            ran = [table[k].get(n) for n in names if table[k].get(n) is not None]
            if any(st in ("fail", "todo") for st in ran) or len(set(ran)) > 1:
                diffs.append(k)
        f.write(f"\n## Checks not passed by every runtime ({len(diffs)})\n\n")
        f.write("| case | check | spec | " + " | ".join(names) + " |\n|---|---|---|" + "---|" * len(names) + "\n")
        for k in diffs:
            row = [mark[table[k].get(n)] for n in names]
            f.write(f"| {k[0]} | {k[1].replace('|', '/')} | {k[2]} | " + " | ".join(row) + " |\n")
        f.write(f"\n{len(keys)} checks in all; the TAP output of `make conformance RUNTIME=...` lists each one.\n")


def selftest(cmd):
    """Runs selected cases against a wrapper that strips maskedPaths and hooks from every config the
    runtime reads; the suite must report exactly those cases as failed."""
    tmp = tempfile.mkdtemp(prefix="conformance-selftest-")
    wrapper = os.path.join(tmp, "broken-runtime")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n# Drops linux.maskedPaths and hooks from the bundle's config, then runs the real runtime.\n"
                "bundle=.; prev=\nfor a in \"$@\"; do [ \"$prev\" = --bundle ] && bundle=$a; prev=$a; done\n"
                "if [ -f \"$bundle/config.json\" ]; then\n"
                "  jq 'del(.linux.maskedPaths) | del(.hooks)' \"$bundle/config.json\" > \"$bundle/config.json.tmp\" &&\n"
                "  mv \"$bundle/config.json.tmp\" \"$bundle/config.json\"\nfi\n"
                f"exec {' '.join(shlex.quote(c) for c in cmd)} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    try:
        res = run_suite([wrapper], only=["config_defaults", "lifecycle_hooks"], echo=False)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    failed = [(c, n) for c, n, _, s, _ in res.items if s == "fail"]
    masked = [n for c, n in failed if n.startswith("maskedPaths")]
    hooks = [n for c, n in failed if c == "lifecycle_hooks" and "hook runs" in n]
    unexpected = [(c, n) for c, n in failed if not (n.startswith("maskedPaths") or c == "lifecycle_hooks")]
    # /proc/keys, /proc/timer_list and /sys/firmware exist and have contents on any kernel this
    # suite runs on; unmasked, each must be reported.
    ok = len(masked) >= 3 and len(hooks) == 7 and not unexpected
    print(f"{'ok' if len(masked) >= 3 else 'not ok'} 1 - selftest: broken runtime fails {len(masked)} maskedPaths checks")
    print(f"{'ok' if len(hooks) == 7 else 'not ok'} 2 - selftest: broken runtime fails all 7 'hook runs' checks "
          f"({len(hooks)})")
    print(f"{'ok' if not unexpected else 'not ok'} 3 - selftest: nothing else fails {unexpected[:5]}")
    return 0 if ok else 1


def runtime_version(cmd):
    try:
        r = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=20)
        return r.stdout.splitlines()[0] if r.stdout else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main():
    if os.geteuid() != 0:
        sys.exit("conformance: must run as root (it runs real containers)")
    if not os.access(VALIDATOR, os.X_OK):
        sys.exit(f"conformance: {VALIDATOR} is missing; build it with `make conformance-validator`")
    ap = argparse.ArgumentParser()
    ap.add_argument("--runtime")
    ap.add_argument("--compare", nargs="*")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--selftest")
    ap.add_argument("--only", action="append")
    ap.add_argument("--known-deviations", help="file of 'case: check' lines reported as TODO")
    a = ap.parse_args()
    if a.selftest:
        sys.exit(selftest(shlex.split(a.selftest)))
    if a.compare:
        named = []
        for spec in a.compare:
            name, _, cmd = spec.partition("=")
            print(f"# {name}: {cmd}", flush=True)
            res = run_suite(shlex.split(cmd), a.only, echo=False)
            res.version = runtime_version(shlex.split(cmd))
            print(f"# {name}: {summary(res)}", flush=True)
            named.append((name, res))
        write_compare(a.results, named)
        print(f"# wrote {a.results}")
        return
    if not a.runtime:
        ap.error("--runtime, --compare or --selftest is required")
    known = []
    if a.known_deviations:
        known = [l.strip() for l in open(a.known_deviations) if l.strip() and not l.startswith("#")]
    res = run_suite(shlex.split(a.runtime), a.only, known=known)
    # A listed deviation that now passes must be taken off the list, so the list cannot go stale.
    passing = [k for k in known if any(f"{c}: {n}" == k and st == "pass" for c, n, _, st, _ in res.items)]
    for k in passing:
        print(f"not ok - {k} passes now: remove it from {a.known_deviations}")
    print(f"1..{len(res.items)}")
    print(summary(res))
    sys.exit(1 if res.counts()["fail"] or passing else 0)


if __name__ == "__main__":
    main()
