"""swctr's store: rootless use, save/load archives, image formats, a full disk, seccomp
profiles and signals to a foreground run."""
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import tarfile

from harness import busybox_layer, run, rmtree, mkdtemp
from swctr_fixtures import _tar, oci_layout


class StoreTests:
    """Mixed into Swctr (swctr_tests.py): uses its registry, store and helpers."""

    def rootless_tests(self):
        """swctr as an unprivileged user (uid 65534): the store goes under its home, layers take the
        rootless overlay form (0:0 whiteouts, user.overlay.opaque), a device node is refused and
        leaves nothing, run without swctr-monitor says how to fix that. As root the device node is kept, and overlay
        xattrs carried in a layer's tar are dropped in both modes."""
        t = self.tap
        dev = os.path.join(self.tmp, "devnode")
        oci_layout(dev, [busybox_layer(), _tar([("dev", "dir", None, 0o755), ("dev/evil", "chardev", (1, 3), 0o666)])])
        sneaky = os.path.join(self.tmp, "sneaky")
        oci_layout(sneaky, [busybox_layer(), _tar([("hidden", "dir", None, 0o755), ("hidden/f", "file", b"f\n", 0o644)]),
                            _tar([("hidden", "xattrdir", {"trusted.overlay.opaque": "y", "user.overlay.opaque": "y",
                                                          "user.note": "kept"}, 0o755)])])
        for layout, name in ((dev, "devnode:latest"), (sneaky, "sneaky:latest")):
            r = self.push(layout, name)
            if not t.check(r.returncode == 0, f"swctr rootless: skopeo pushes {name}", r.stderr):
                return
        home = mkdtemp("swrunc-it-rootless-")
        try:
            os.chmod(home, 0o755)
            os.chown(home, 65534, 65534)
            binary = os.path.join(home, "swctr")  # the checkout may not be reachable by uid 65534
            xdg = os.path.join(home, "run")  # its runtime directory, removed with the home
            os.makedirs(xdg, mode=0o700)
            os.chown(xdg, 65534, 65534)
            shutil.copy(self.bin, binary)

            def as_nobody(*args):
                return run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary, *args],
                           env={"HOME": home, "XDG_RUNTIME_DIR": xdg, "PATH": "/usr/bin:/bin"}, timeout=300)

            store = os.path.join(home, ".local", "share", "swctr")
            r = as_nobody("pull", "--tls-verify=false", f"{self.reg}/busybox:latest")
            owners = {os.lstat(os.path.join(d, f)).st_uid for d, _, fs in os.walk(os.path.join(store, "layers")) for f in fs}
            t.check(r.returncode == 0 and owners == {65534},
                    "swctr rootless: pull as an unprivileged user into ~/.local/share/swctr, files owned by the user",
                    f"{r.stderr} owners {owners}")
            r = as_nobody("pull", "--tls-verify=false", f"{self.reg}/multi:latest")
            whiteout = opaque = None
            for layer in os.listdir(os.path.join(store, "layers")):
                p = os.path.join(store, "layers", layer)
                if os.path.lexists(os.path.join(p, "etc", "old")):
                    st = os.lstat(os.path.join(p, "etc", "old"))
                    whiteout = (stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev))
                    try:
                        opaque = os.getxattr(os.path.join(p, "opq"), "user.overlay.opaque", follow_symlinks=False)
                    except OSError:
                        opaque = None
            t.check(r.returncode == 0 and whiteout == (True, 0, 0) and opaque == b"y",
                    "swctr rootless: whiteouts are 0:0 devices and opaque directories carry user.overlay.opaque",
                    f"{r.stderr} whiteout {whiteout} opaque {opaque}")
            layers = sorted(os.listdir(os.path.join(store, "layers")))
            blobs = sorted(os.listdir(os.path.join(store, "blobs", "sha256")))
            r = as_nobody("pull", "--tls-verify=false", f"{self.reg}/devnode:latest")
            t.check(r.returncode != 0 and "device node" in r.stderr and "dev/evil" in r.stderr
                    and len(r.stderr.strip().splitlines()) == 1
                    and sorted(os.listdir(os.path.join(store, "layers"))) == layers
                    and sorted(os.listdir(os.path.join(store, "blobs", "sha256"))) == blobs
                    and not os.listdir(os.path.join(store, "tmp"))
                    and len(as_nobody("images", "-q").stdout.split()) == 2,
                    "swctr rootless: a layer with a device node is a one-line error and leaves no blob, layer or record",
                    r.stderr)
            # Only swctr was copied: its containers need swctr-monitor (the namespace holder) too.
            r = as_nobody("run", "--rm", f"{self.reg}/busybox", "true")
            t.check(r.returncode != 0 and "swctr-monitor not found" in r.stderr and "make install" in r.stderr
                    and len(r.stderr.strip().splitlines()) == 1,
                    "swctr rootless: without swctr-monitor beside it, run says in one line how to fix that", r.stderr)
        finally:
            rmtree(home)
        root = os.path.join(self.tmp, "store-dev")
        r = run([self.bin, "pull", "--root", root, "--tls-verify=false", f"{self.reg}/devnode:latest"], timeout=300)
        found = [os.lstat(os.path.join(d, "evil")) for d, _, fs in os.walk(os.path.join(root, "layers")) if "evil" in fs]
        t.check(r.returncode == 0 and len(found) == 1 and stat.S_ISCHR(found[0].st_mode)
                and (os.major(found[0].st_rdev), os.minor(found[0].st_rdev)) == (1, 3),
                "swctr: as root a layer's device node is created", r.stderr)
        r = run([self.bin, "pull", "--root", root, "--tls-verify=false", f"{self.reg}/sneaky:latest"], timeout=300)
        xattrs = None
        for layer in os.listdir(os.path.join(root, "layers")):
            p = os.path.join(root, "layers", layer, "hidden")
            if os.path.isdir(p) and not os.path.exists(os.path.join(p, "f")):
                xattrs = sorted(os.listxattr(p))
        t.check(r.returncode == 0 and xattrs == ["user.note"],
                "swctr: overlay xattrs in a layer's tar are dropped (only OCI whiteouts make opaque directories)",
                f"{r.stderr} xattrs {xattrs}")

    def archive_tests(self):
        """save writes one tar that skopeo reads both as docker-archive and as OCI archive; load
        reads swctr's own tar and skopeo's docker-archive; loaded images run."""
        t = self.tap
        out = os.path.join(self.tmp, "saved.tar")
        r = self.swctr("save", "-o", out, f"{self.reg}/busybox:latest")
        t.check(r.returncode == 0 and os.path.getsize(out) > 0, "swctr: save", r.stderr)
        r1 = run(["skopeo", "inspect", f"docker-archive:{out}"], timeout=60)
        r2 = run(["skopeo", "inspect", f"oci-archive:{out}:latest"], timeout=60)
        t.check(r1.returncode == 0 and r2.returncode == 0, "swctr: skopeo reads the saved tar as docker-archive and OCI archive",
                r1.stderr + r2.stderr)
        root4 = os.path.join(self.tmp, "store-load")
        r = run([self.bin, "load", "--root", root4, "-i", out])
        r2 = self.srun(f"{self.reg}/busybox:latest", "echo", "loaded", root=root4)
        t.check(r.returncode == 0 and "Loaded image" in r.stdout and r2.stdout == "loaded\n",
                "swctr: load of a saved image into another store, then run", r.stdout + r.stderr + r2.stdout + r2.stderr)
        da = os.path.join(self.tmp, "docker-archive.tar")
        r = run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{self.reg}/busybox:latest",
                 f"docker-archive:{da}:example.com/fromskopeo:v1"], timeout=120)
        r1 = run([self.bin, "load", "--root", root4, "-i", da])
        r2 = self.srun("example.com/fromskopeo:v1", "echo", "docker-archive", root=root4)
        t.check(r.returncode == 0 and r1.returncode == 0 and r2.stdout == "docker-archive\n",
                "swctr: load of a docker-archive written by skopeo, then run", r.stderr + r1.stdout + r1.stderr + r2.stderr)
        # an OCI layout whose image is a multi-platform index (the one pushed above)
        ma = os.path.join(self.tmp, "multiarch.tar")
        with tarfile.open(ma, "w") as tar:
            for entry in sorted(os.listdir(os.path.join(self.tmp, "multiarch"))):
                tar.add(os.path.join(self.tmp, "multiarch", entry), arcname=entry)
        root5 = os.path.join(self.tmp, "store-load-ma")
        r = run([self.bin, "load", "--root", root5, "-i", ma])
        r2 = self.srun("localhost/loaded:latest", "cat", "/arch", root=root5)
        t.check(r.returncode == 0 and r2.stdout == "amd64\n",
                "swctr: load of a multi-platform OCI layout takes this machine's image", r.stdout + r.stderr + r2.stdout + r2.stderr)
        r = run([self.bin, "load", "--root", root5, "--platform", "linux/arm64", "-i", ma])
        r2 = run([self.bin, "inspect", "--root", root5, "localhost/loaded:latest"])
        try:
            arch = json.loads(r2.stdout)[0]["Architecture"]
        except (ValueError, IndexError, KeyError):
            arch = None
        t.check(r.returncode == 0 and arch == "arm64", "swctr: load --platform linux/arm64 takes the arm64 image",
                r.stderr + r2.stdout[:300] + r2.stderr)
        r = run([self.bin, "load", "--root", root5, "--platform", "linux/s390x", "-i", ma])
        t.check(r.returncode != 0 and "linux/s390x" in r.stderr and "linux/amd64" in r.stderr
                and len(r.stderr.strip().splitlines()) == 1 and not os.listdir(os.path.join(root5, "tmp")),
                "swctr: load of a platform the index lacks is a one-line error naming what it has", r.stderr)
        root6 = os.path.join(self.tmp, "store-load-dir")
        r = run([self.bin, "load", "--root", root6, "-i", os.path.join(self.tmp, "multiarch")])
        r2 = self.srun("localhost/loaded:latest", "cat", "/arch", root=root6)
        t.check(r.returncode == 0 and r2.stdout == "amd64\n", "swctr: load of an OCI layout directory",
                r.stdout + r.stderr + r2.stdout + r2.stderr)
        r = run([self.bin, "load", "--root", root6, "-i", os.path.join(self.tmp, "no-such-archive.tar")])
        t.check(r.returncode != 0 and "no-such-archive.tar" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                "swctr: load of a missing file names it", r.stderr)
        layout_dir = os.path.join(self.tmp, "saved-dir")
        r = self.swctr("save", "--format", "oci-dir", "-o", layout_dir, f"{self.reg}/busybox:latest")
        r1 = run(["skopeo", "inspect", f"oci:{layout_dir}:latest"], timeout=60)
        root7 = os.path.join(self.tmp, "store-load-saved-dir")
        r2 = run([self.bin, "load", "--root", root7, "-i", layout_dir])
        r3 = self.srun(f"{self.reg}/busybox:latest", "echo", "from-dir", root=root7)
        t.check(r.returncode == 0 and r1.returncode == 0 and r2.returncode == 0 and r3.stdout == "from-dir\n",
                "swctr: save --format oci-dir writes an OCI layout directory that skopeo reads and load takes back",
                r.stderr + r1.stderr + r2.stderr + r3.stdout + r3.stderr)
        busy = os.path.join(self.tmp, "not-empty")
        os.makedirs(busy)
        with open(os.path.join(busy, "keep"), "w") as f:
            f.write("mine")
        r = self.swctr("save", "--format", "oci-dir", "-o", busy, f"{self.reg}/busybox:latest")
        r2 = self.swctr("save", "--format", "tar.gz", "-o", os.path.join(self.tmp, "x"), f"{self.reg}/busybox:latest")
        t.check(r.returncode != 0 and "not an empty directory" in r.stderr and os.listdir(busy) == ["keep"]
                and r2.returncode != 0 and "--format" in r2.stderr and not os.path.exists(os.path.join(self.tmp, "x")),
                "swctr: save refuses a non-empty directory (untouched) and an unknown format", r.stderr + r2.stderr)
        bad = os.path.join(self.tmp, "bad.tar")
        with tarfile.open(bad, "w") as tar:
            info = tarfile.TarInfo("../escape")
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
        r = run([self.bin, "load", "--root", root4, "-i", bad])
        t.check(r.returncode != 0 and not os.path.exists(os.path.join(self.tmp, "escape")) and r.stderr.startswith("swctr: "),
                "swctr: load refuses an archive with '..' paths", r.stderr)

    def format_tests(self):
        """Docker schema2 manifests and manifest lists, zstd and plain layers; truncated and
        absolute-path layers refused; a full disk fails cleanly."""
        t = self.tap
        small = os.path.join(self.tmp, "small")
        r = run(["skopeo", "copy", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{small}",
                 f"docker://{self.reg}/schema2:latest"], timeout=120)
        m = run(["curl", "-fsS", "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json",
                 f"http://{self.reg}/v2/schema2/manifests/latest"]).stdout
        r2 = self.swctr("pull", "--tls-verify=false", f"{self.reg}/schema2:latest")
        r3 = self.srun(f"{self.reg}/schema2", "echo", "schema2")
        t.check(r.returncode == 0 and "docker.distribution.manifest.v2" in m and r2.returncode == 0 and r3.stdout == "schema2\n",
                "swctr: a Docker schema2 manifest", r.stderr + r2.stderr + r3.stderr)
        ma = os.path.join(self.tmp, "multiarch")
        r = run(["skopeo", "copy", "--all", "--format", "v2s2", "--dest-tls-verify=false", f"oci:{ma}",
                 f"docker://{self.reg}/dockerlist:latest"], timeout=120)
        m = run(["curl", "-fsS", "-H", "Accept: application/vnd.docker.distribution.manifest.list.v2+json",
                 f"http://{self.reg}/v2/dockerlist/manifests/latest"]).stdout
        r2 = self.swctr("pull", "--tls-verify=false", f"{self.reg}/dockerlist:latest")
        r3 = self.srun(f"{self.reg}/dockerlist", "cat", "/arch")
        t.check(r.returncode == 0 and "manifest.list.v2" in m and r3.stdout == "amd64\n",
                "swctr: a Docker manifest list resolves to linux/amd64", r.stderr + r2.stderr + r3.stderr)
        for comp in ["zstd", "none"]:
            d = os.path.join(self.tmp, f"comp-{comp}")
            oci_layout(d, [busybox_layer(), _tar([("comp", "file", comp.encode() + b"\n", 0o644)])], compression=comp)
            self.push(d, f"comp-{comp}:latest")
            r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/comp-{comp}:latest")
            r2 = self.srun(f"{self.reg}/comp-{comp}", "cat", "/comp")
            t.check(r.returncode == 0 and r2.stdout == f"{comp}\n", f"swctr: {comp} layers", r.stderr + r2.stderr)
        for name, layers, comp in [("truncated", [_tar([("f", "file", os.urandom(8192), 0o644)])], "truncated"),
                                   ("absolute", [_tar([("/abs-escape", "file", b"x", 0o644)])], "gzip")]:
            d = os.path.join(self.tmp, f"bad-{name}")
            oci_layout(d, layers, compression=comp)
            self.push(d, f"bad-{name}:latest")
            r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/bad-{name}:latest")
            t.check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and not os.path.exists("/abs-escape")
                    and not os.listdir(os.path.join(self.root, "tmp")),
                    f"swctr: a {name} layer is a one-line error and leaves nothing", r.stderr)

    def full_disk_test(self):
        t = self.tap
        # a full disk: the store on a 4 MiB tmpfs, the big image does not fit
        small_root = os.path.join(self.tmp, "tiny")
        os.makedirs(small_root)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small_root], check=True)
        try:
            r = run([self.bin, "pull", "--root", small_root, "--tls-verify=false", f"{self.reg}/big:latest"], timeout=300)
            left = os.listdir(os.path.join(small_root, "tmp")) + os.listdir(os.path.join(small_root, "layers"))
            t.check(r.returncode != 0 and "No space left" in r.stderr and not left,
                    "swctr: a full disk is a one-line error and leaves no partial blob or layer", f"{r.stderr} left {left}")
        finally:
            subprocess.run(["umount", small_root])

    def seccomp_tests(self):
        """Docker's defaults for confinement: its seccomp profile (podman's copy, in Docker's
        format, with rules chosen by the container's capabilities) and no no_new_privs; both can
        be changed with --security-opt, and a bad profile or option is a one-line error that
        leaves nothing."""
        t = self.tap
        img = f"{self.reg}/busybox:latest"
        # The profile mimics the kernel (EPERM for what capabilities gate), so its effect is read
        # from the config swctr hands to the runtime, and its presence from the kernel.
        keep = os.path.join(self.tmp, "seccomp-config.json")
        wrapper = os.path.join(self.tmp, "swrunc-keep-config")
        with open(wrapper, "w") as f:
            f.write(f'#!/bin/sh\nprev=\nfor a in "$@"; do [ "$prev" = --bundle ] && cp "$a/config.json" {keep}; prev=$a; done\n'
                    f'exec {self.rec.path} "$@"\n')
        os.chmod(wrapper, 0o755)
        probe = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\\t'"
        r = self.swctr("run", "--rm", "--runtime", wrapper, "--cgroup-parent", f"/{self.cgroup}", "--network", "none", img,
                       "sh", "-c", probe)
        try:
            cfg = json.load(open(keep))["linux"]["seccomp"]
        except (OSError, ValueError, KeyError):
            cfg = {"syscalls": []}
        profile = json.load(open("/usr/share/containers/seccomp.json"))

        def names(action):
            return {n for rule in cfg["syscalls"] if rule["action"] == action for n in rule["names"]}
        t.check(r.stdout.split() == ["NoNewPrivs:0", "Seccomp:2"] and cfg.get("defaultAction") == profile["defaultAction"]
                and cfg.get("defaultErrnoRet") == profile.get("defaultErrnoRet") and "SCMP_ARCH_X86_64" in cfg.get("architectures", [])
                and "sethostname" in names("SCMP_ACT_ERRNO") and "sethostname" not in names("SCMP_ACT_ALLOW")
                and "chroot" in names("SCMP_ACT_ALLOW") and "chroot" not in names("SCMP_ACT_ERRNO") and "reboot" in names("SCMP_ACT_ALLOW"),
                "swctr seccomp: podman's default profile applies, its rules chosen by Docker's capabilities (no CAP_SYS_ADMIN rules, "
                "CAP_SYS_CHROOT ones), no_new_privs off", r.stdout + r.stderr + json.dumps(cfg)[:300])
        r = self.srun("--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges", img, "sh", "-c", probe)
        t.check(r.stdout.split() == ["NoNewPrivs:1", "Seccomp:0"],
                "swctr seccomp: seccomp=unconfined and no-new-privileges", r.stdout + r.stderr)
        custom = os.path.join(self.tmp, "profile.json")
        with open(custom, "w") as f:
            json.dump({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
                {"names": ["chmod", "fchmodat"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "excludes": {"arches": ["amd64"]}}]}, f)
        r = self.srun("--security-opt", f"seccomp={custom}", img, "sh", "-c",
                      "mkdir /x 2>&1; touch /f && chmod 600 /f && echo chmod-ok")
        t.check("Permission denied" in r.stdout and "chmod-ok" in r.stdout,
                "swctr seccomp: a profile of one's own in Docker's format; rules for absent capabilities are left out",
                r.stdout + r.stderr)
        with open(custom, "w") as f:
            json.dump({"defaultAction": 5}, f)
        for opts, want in ((["--security-opt", f"seccomp={custom}"], "defaultAction"),
                           (["--security-opt", "seccomp=/no/such/profile.json"], "/no/such/profile.json"),
                           (["--security-opt", "apparmor=x"], "apparmor=x")):
            r = self.srun(*opts, img, "true")
            left = [l for l in open("/proc/self/mountinfo") if self.root in l] + os.listdir(os.path.join(self.root, "containers"))
            t.check(r.returncode != 0 and want in r.stderr and len(r.stderr.strip().splitlines()) == 1 and not left,
                    f"swctr seccomp: {' '.join(opts)} is a one-line error that leaves nothing", r.stderr + str(left))

    def signal_test(self):
        """A SIGTERM sent to `swctr run` reaches the container (through swrunc), and swctr still
        returns its exit status and cleans up."""
        t = self.tap
        p = subprocess.Popen(self.run_argv(f"{self.reg}/busybox:latest", "sh", "-c",
                                           'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done'),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready = p.stdout.readline()
            os.kill(p.pid, signal.SIGTERM)
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        left = [l for l in open("/proc/self/mountinfo") if self.root in l] + os.listdir(os.path.join(self.root, "containers"))
        t.check(ready == "ready\n" and out == "got-term\n" and p.returncode == 3 and not left,
                "swctr: SIGTERM to swctr run reaches the container; its exit status comes back and nothing is left",
                f"exit {p.returncode} out {out!r} err {err} left {left}")
