"""swctr against a real registry (Debian's docker-registry on loopback), with images pushed by
skopeo from OCI layouts built here from busybox-static: pull, images, run, layer semantics
(whiteouts, opaque directories, hard links, symlinks), multi-arch indexes and bad input."""
import hashlib
import json
import os
import re
import subprocess
import time

from harness import Recorder, busybox_layer, run, stop_pid, unique, remove_cgroup_tree, rmtree, mkdtemp, wait_for

SWCTR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swctr")

from swctr_fixtures import _tar, oci_layout, multiarch_layout, FaultProxy
from swctr_registry_tests import RegistryTests
from swctr_store_tests import StoreTests
from swctr_push_tests import PushTests


class Swctr(RegistryTests, StoreTests, PushTests):
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.tmp = mkdtemp("swrunc-it-swctr-")
        cleanup.add("swctr tmp", lambda: rmtree(self.tmp))
        self.bin = os.path.join(SWCTR_DIR, ".build", "release", "swctr")
        self.root = os.path.join(self.tmp, "store")
        self.cgroup = unique("swctr-it")
        cleanup.add("swctr cgroups", lambda: remove_cgroup_tree(self.cgroup))
        self.log = open(os.path.join(self.tmp, "registry.log"), "w")
        self.reg, self.proc = self.start_registry("registry")
        cleanup.add("docker-registry", lambda: stop_pid(self.proc.pid))
        self.port = int(self.reg.rsplit(":", 1)[1])
        self.storage = os.path.join(self.tmp, "registry")
        self.rec = Recorder(self.tmp, swrunc, "swctr")

    def swctr(self, *args, timeout=300):
        return run([self.bin, *args[:1], "--root", self.root, *args[1:]], timeout=timeout)

    def push(self, layout, name):
        return run(["skopeo", "copy", "--all", "--dest-tls-verify=false", f"oci:{layout}", f"docker://{self.reg}/{name}"],
                   timeout=300)

    def run_argv(self, *args, root=None):
        """`swctr run --rm` through the recording wrapper, in this suite's cgroup, on `root`
        (default: the suite's store); without a network, which the containers suite covers."""
        return [self.bin, "run", "--root", root or self.root, "--rm", "--runtime", self.rec.path,
                "--cgroup-parent", f"/{self.cgroup}", "--network", "none", *args]

    def srun(self, *args, root=None):
        return run(self.run_argv(*args, root=root), timeout=300)

    def tests(self):
        t = self.tap
        if not t.check(os.access(self.bin, os.X_OK), "swctr: built", self.bin):
            return
        small = os.path.join(self.tmp, "small")
        oci_layout(small, [busybox_layer()])
        r = self.push(small, "busybox:latest")
        if not t.check(r.returncode == 0, "swctr: skopeo pushes the busybox image to the registry", r.stderr):
            return
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/busybox:latest")
        t.check(r.returncode == 0 and "Digest: sha256:" in r.stdout, "swctr: pull --tls-verify=false",
                f"{r.stdout}\n{r.stderr}")
        r = self.srun(f"{self.reg}/busybox", "echo", "hi")
        t.check(r.returncode == 0 and r.stdout == "hi\n", "swctr: run --rm IMAGE echo hi prints hi",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        r = self.srun("-e", "X=1", "-w", "/tmp", "-u", "nobody", f"{self.reg}/busybox", "sh", "-c",
                      'echo "$X $FROM_IMAGE $(pwd) $(id -u)"')
        t.check(r.stdout.strip() == "1 yes /tmp 65534", "swctr: run -e -w -u (user from the image's /etc/passwd)",
                f"{r.stdout}\n{r.stderr}")
        r = self.srun(f"{self.reg}/busybox", "sh", "-c", "exit 7")
        t.check(r.returncode == 7, "swctr: run returns the container's exit status", f"exit {r.returncode}")
        r = self.srun("--entrypoint", "/bin/echo", f"{self.reg}/busybox", "from", "entrypoint")
        t.check(r.stdout == "from entrypoint\n", "swctr: --entrypoint", r.stdout + r.stderr)
        r = self.swctr("images")
        t.check(r.returncode == 0 and f"{self.reg}/busybox" in r.stdout and "latest" in r.stdout,
                "swctr: images lists the pulled image", r.stdout + r.stderr)
        r = self.swctr("images", "--format", "json")
        try:
            rows = json.loads(r.stdout)
        except ValueError:
            rows = []
        t.check(len(rows) == 1 and rows[0]["Tag"] == "latest", "swctr: images --format json", r.stdout)
        mounts = [l for l in open("/proc/self/mountinfo") if self.root in l]
        t.check(not mounts and not os.listdir(os.path.join(self.root, "containers")),
                "swctr: run --rm leaves no mount or container directory", mounts)

        r = self.srun("-u", "nosuchuser", f"{self.reg}/busybox", "true")
        mounts = [l for l in open("/proc/self/mountinfo") if self.root in l]
        t.check(r.returncode != 0 and "nosuchuser" in r.stderr and not mounts
                and not os.listdir(os.path.join(self.root, "containers")),
                "swctr: a run that fails before start (unknown user) is a one-line error and leaves nothing", r.stderr)

        # layers: whiteouts, opaque directories, hard links, symlinks, shared layers
        base = busybox_layer()
        l2 = _tar([("etc/old", "file", b"old\n", 0o644), ("keep", "dir", None, 0o755), ("keep/a", "file", b"a\n", 0o644),
                   ("opq", "dir", None, 0o755), ("opq/gone", "file", b"gone\n", 0o644)])
        l3 = _tar([("etc/.wh.old", "file", b"", 0o644), ("opq/.wh..wh..opq", "file", b"", 0o644),
                   ("opq/new", "file", b"new\n", 0o644), ("data/f", "file", b"linked\n", 0o600),
                   ("data/hard", "hardlink", "data/f", 0o600), ("data/sym", "symlink", "f", 0o777)])
        multi = os.path.join(self.tmp, "multi")
        oci_layout(multi, [base, l2, l3])
        self.push(multi, "multi:latest")
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/multi:latest")
        t.check(r.returncode == 0 and "Already exists" in r.stdout, "swctr: a layer shared with another image is not fetched again",
                r.stdout + r.stderr)
        r = self.srun(f"{self.reg}/multi", "sh", "-c",
                      "ls /etc/old 2>&1; ls /opq; cat /keep/a; stat -c '%h %a' /data/f; readlink /data/sym; cat /data/sym")
        want = "ls: /etc/old: No such file or directory\nnew\na\n2 600\nf\nlinked\n"
        t.check(r.stdout == want, "swctr: whiteouts, opaque directories, hard links, modes and symlinks",
                f"got {r.stdout!r}\n{r.stderr}")

        # multi-arch index: this machine's entry is chosen
        ma = os.path.join(self.tmp, "multiarch")
        multiarch_layout(ma, {"arm64": [_tar([("arch", "file", b"arm64\n", 0o644)])],
                              "amd64": [busybox_layer(), _tar([("arch", "file", b"amd64\n", 0o644)])]})
        r0 = self.push(ma, "multiarch:latest")
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/multiarch:latest")
        r2 = self.srun(f"{self.reg}/multiarch", "cat", "/arch")
        t.check(r0.returncode == 0 and r.returncode == 0 and r2.stdout == "amd64\n",
                "swctr: a multi-arch index resolves to linux/amd64", f"{r0.stderr}\n{r.stderr}\n{r2.stdout}{r2.stderr}")

        # an arm64-only image is refused clearly
        arm = os.path.join(self.tmp, "armonly")
        oci_layout(arm, [busybox_layer()], arch="arm64")
        self.push(arm, "armonly:latest")
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/armonly:latest")
        t.check(r.returncode != 0 and "linux/arm64" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                "swctr: an image for another platform only is a one-line error", r.stderr)
        r = self.swctr("pull", "--tls-verify=false", "--platform", "linux/arm64", f"{self.reg}/armonly:latest")
        t.check(r.returncode == 0, "swctr: --platform linux/arm64 pulls it", r.stderr)

        # bad input
        before = sorted(os.listdir(os.path.join(self.root, "blobs", "sha256")))
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/busybox:nosuchtag")
        t.check(r.returncode != 0 and "not found" in r.stderr and "404" in r.stderr,
                "swctr: a missing tag is a one-line 404 error", r.stderr)
        r = self.swctr("pull", "--tls-verify=false", f"127.0.0.1:1/busybox:latest")
        t.check(r.returncode != 0 and r.stderr.startswith("swctr: ") and len(r.stderr.strip().splitlines()) == 1,
                "swctr: an unreachable registry is a one-line error", r.stderr)
        evil = os.path.join(self.tmp, "evil")
        oci_layout(evil, [_tar([("../escaped", "file", b"x", 0o644)])])
        self.push(evil, "evil:latest")
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/evil:latest")
        escaped = os.path.exists(os.path.join(self.root, "layers", "escaped")) or os.path.exists(
            os.path.join(self.root, "escaped"))
        t.check(r.returncode != 0 and not escaped and not os.listdir(os.path.join(self.root, "tmp")),
                "swctr: a layer with '..' paths is refused and nothing is left", r.stderr)
        evil2 = os.path.join(self.tmp, "evil2")
        target = os.path.join(self.tmp, "outside")
        os.makedirs(target)
        oci_layout(evil2, [_tar([("link", "symlink", target, 0o777), ("link/pwned", "file", b"x", 0o644)])])
        self.push(evil2, "evil2:latest")
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/evil2:latest")
        t.check(r.returncode != 0 and not os.listdir(target),
                "swctr: a write through a symlink out of the layer is refused", r.stderr)
        # corrupt a blob inside the registry's storage: the digest check catches it
        corrupt = os.path.join(self.tmp, "corrupt")
        desc = oci_layout(corrupt, [_tar([("c", "file", os.urandom(4096), 0o644)])])
        self.push(corrupt, "corrupt:latest")
        man = json.load(open(os.path.join(corrupt, "blobs", "sha256", desc["digest"][7:])))
        layer_hex = man["layers"][0]["digest"][7:]
        stored = os.path.join(self.storage, "docker", "registry", "v2", "blobs", "sha256", layer_hex[:2], layer_hex, "data")
        with open(stored, "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xff\xff\xff")
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/corrupt:latest")
        t.check(r.returncode != 0 and "digest mismatch" in r.stderr and not os.path.exists(
            os.path.join(self.root, "blobs", "sha256", layer_hex)),
            "swctr: a blob whose content does not match its digest is refused and not stored", r.stderr)
        after = sorted(os.listdir(os.path.join(self.root, "blobs", "sha256")))
        t.check(set(before) <= set(after) and not os.listdir(os.path.join(self.root, "tmp")),
                "swctr: the store is consistent after the failed pulls (no partial blob or layer)")
        r = self.swctr("images", "-q")
        t.check(r.returncode == 0 and len(r.stdout.split()) == 4, "swctr: only the good images are recorded",
                r.stdout + r.stderr)

        self.format_tests()
        self.archive_tests()
        self.management_tests()
        self.auth_tests()
        self.token_tests()
        self.push_tests()
        self.transport_tests()
        self.parallel_test()
        self.concurrency_test()
        self.seccomp_tests()
        self.signal_test()
        self.details_tests()
        self.rootless_tests()

        # the large image: pull+unpack next to skopeo copy + umoci unpack of the same image
        big = os.path.join(self.tmp, "big")
        oci_layout(big, [busybox_layer(), _tar([("random.bin", "file", os.urandom(64 << 20), 0o644)])])
        self.push(big, "big:latest")
        start = time.time()
        r = self.swctr("pull", "--tls-verify=false", f"{self.reg}/big:latest")
        swctr_s = time.time() - start
        t.check(r.returncode == 0, "swctr: pull of a 64 MiB random-data layer", r.stderr)
        self.full_disk_test()
        start = time.time()
        r1 = run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{self.reg}/big:latest",
                  f"oci:{self.tmp}/skopeo-big:latest"], timeout=300)
        r2 = run(["umoci", "unpack", "--image", f"{self.tmp}/skopeo-big:latest", f"{self.tmp}/umoci-bundle"], timeout=300)
        peer_s = time.time() - start
        t.check(r1.returncode == 0 and r2.returncode == 0, "swctr: skopeo copy + umoci unpack of the same image (for comparison)",
                r1.stderr + r2.stderr)
        t.note(f"pull+unpack of the 64 MiB image: swctr {swctr_s:.2f} s, skopeo copy + umoci unpack {peer_s:.2f} s")

        # on a terminal, pull redraws a progress line per layer in place
        cmd = f"{self.bin} pull --root {self.tmp}/store-tty --tls-verify=false {self.reg}/big:latest"
        r = run(["script", "-qec", cmd, "/dev/null"], timeout=300)
        t.check(r.returncode == 0 and "\x1b[" in r.stdout and "Downloading [" in r.stdout and "Pull complete" in r.stdout,
                "swctr: pull on a terminal shows live per-layer progress", r.stdout[-300:] + r.stderr)

        # a dropped connection mid-blob is resumed with a Range request; a 500 is a clear error
        man = json.load(open(os.path.join(big, "index.json")))["manifests"][0]["digest"][7:]
        layer = json.load(open(os.path.join(big, "blobs", "sha256", man)))["layers"][1]["digest"]
        proxy = FaultProxy(self.port, drop=layer)
        try:
            root2 = os.path.join(self.tmp, "store2")
            r = run([self.bin, "pull", "--root", root2, "--tls-verify=false", f"127.0.0.1:{proxy.port}/big:latest"],
                    timeout=300)
            t.check(r.returncode == 0 and proxy.dropped and proxy.ranges,
                    "swctr: a connection dropped mid-layer is resumed with HTTP Range and the digest still verifies",
                    f"dropped {proxy.dropped} ranges {proxy.ranges}\n{r.stderr}")
        finally:
            proxy.close()
        proxy = FaultProxy(self.port, fail500=True)
        try:
            r = run([self.bin, "pull", "--root", os.path.join(self.tmp, "store3"), "--tls-verify=false",
                     f"127.0.0.1:{proxy.port}/busybox:latest"], timeout=120)
            t.check(r.returncode != 0 and "HTTP 500" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                    "swctr: an HTTP 500 from the registry is a one-line error", r.stderr)
        finally:
            proxy.close()

    def management_tests(self):
        t = self.tap
        img = f"{self.reg}/multi:latest"
        r = self.swctr("tag", img, f"{self.reg}/multi:v2")
        r2 = self.swctr("images")
        t.check(r.returncode == 0 and "v2" in r2.stdout, "swctr: tag adds a second name", r.stderr + r2.stdout)
        r = self.swctr("inspect", f"{self.reg}/multi:v2")
        try:
            info = json.loads(r.stdout)[0]
        except (ValueError, IndexError, KeyError):
            info = {}
        t.check(len(info.get("RootFS", {}).get("Layers", [])) == 3 and info.get("Config", {}).get("WorkingDir") == "/data",
                "swctr: inspect shows layers and config", r.stdout[:500] + r.stderr)
        r = self.swctr("history", img)
        t.check(r.returncode == 0 and r.stdout.startswith("IMAGE") and "CREATED BY" in r.stdout and len(r.stdout.splitlines()) >= 2,
                "swctr: history", r.stdout + r.stderr)
        r = run([self.bin, "system", "df", "--root", self.root])
        t.check(r.returncode == 0 and "Layers" in r.stdout, "swctr: system df", r.stdout + r.stderr)
        layers_before = len(os.listdir(os.path.join(self.root, "layers")))
        r = self.swctr("rmi", f"{self.reg}/multi:v2")
        layers_mid = len(os.listdir(os.path.join(self.root, "layers")))
        t.check(r.returncode == 0 and layers_mid == layers_before, "swctr: rmi of one name keeps layers the other name uses",
                r.stderr)
        # an image a running container uses is refused without -f
        p = subprocess.Popen(self.run_argv(img, "sleep", "5"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.listdir(os.path.join(self.root, "containers")), timeout=10)
        r = self.swctr("rmi", img)
        t.check(r.returncode != 0 and "used by a running container" in r.stderr, "swctr: rmi refuses an image in use", r.stderr)
        p.wait(timeout=30)
        r = self.swctr("rmi", img)
        layers_after = len(os.listdir(os.path.join(self.root, "layers")))
        t.check(r.returncode == 0 and layers_after == layers_before - 2,
                "swctr: rmi removes the layers no other image uses (the shared base stays)",
                f"{layers_before} -> {layers_after}\n{r.stderr}")
        r = self.swctr("rmi", "nosuchimage")
        t.check(r.returncode != 0 and "image not found" in r.stderr, "swctr: rmi of an unknown image is an error", r.stderr)

    def details_tests(self):
        """Ownership and setuid bits survive unpacking; a container gets Docker's capabilities,
        mounts and a hostname of its own; images are found by digest and by image ID; a
        platform variant is honoured."""
        t = self.tap
        root = os.path.join(self.tmp, "store-details")

        def sw(*args):
            return run([self.bin, args[0], "--root", root, *args[1:]], timeout=300)

        def srun(*args):
            return self.srun(*args, root=root)

        owned = os.path.join(self.tmp, "owned")
        oci_layout(owned, [busybox_layer(), _tar([("srv", "dir", None, 0o755), ("srv/owned", "ownedfile", (b"x\n", 1000, 1001), 0o640),
                                                  ("srv/suid", "file", b"#!/bin/sh\n", 0o4755)])])
        self.push(owned, "owned:latest")
        img = f"{self.reg}/owned:latest"
        r = sw("pull", "--tls-verify=false", img)
        r2 = srun(img, "stat", "-c", "%u:%g %a", "/srv/owned", "/srv/suid")
        t.check(r.returncode == 0 and r2.stdout == "1000:1001 640\n0:0 4755\n",
                "swctr: file owners and setuid bits are kept", r.stderr + r2.stdout + r2.stderr)
        r = srun(img, "sh", "-c", "grep CapEff /proc/self/status; hostname; awk '{print $2, $3}' /proc/mounts")
        lines = r.stdout.splitlines()
        want_mounts = {"/proc proc", "/dev tmpfs", "/dev/pts devpts", "/dev/shm tmpfs", "/dev/mqueue mqueue", "/sys sysfs"}
        t.check(r.returncode == 0 and len(lines) > 2 and lines[0] == "CapEff:\t00000000a80425fb"
                and len(lines[1]) == 12 and want_mounts <= set(lines[2:]),
                "swctr: a container gets Docker's default capabilities, mounts and its id as hostname", r.stdout + r.stderr)

        m = re.search(r"Digest: (sha256:[0-9a-f]{64})", r.stdout + run([self.bin, "pull", "--root", root, "--tls-verify=false", img]).stdout)
        digest = m.group(1) if m else "sha256:" + "0" * 64
        by_digest = f"{self.reg}/owned@{digest}"
        r = sw("pull", "--tls-verify=false", by_digest)
        r2 = srun(by_digest, "cat", "/srv/owned")
        t.check(r.returncode == 0 and r2.stdout == "x\n", "swctr: pull and run by digest", r.stderr + r2.stdout + r2.stderr)
        r = sw("pull", "--tls-verify=false", f"{self.reg}/owned@sha256:" + "0" * 64)
        t.check(r.returncode != 0 and "404" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                "swctr: a digest the registry does not have is a one-line 404 error", r.stderr)
        image_id = sw("images", "-q").stdout.split()[0]
        r = srun(image_id, "cat", "/srv/owned")
        t.check(r.stdout == "x\n", "swctr: run by the image ID that images -q prints", image_id + r.stderr)

        va = os.path.join(self.tmp, "variants")
        v7 = _tar([("arch", "file", b"arm/v7\n", 0o644)])
        multiarch_layout(va, {"arm/v6": [_tar([("arch", "file", b"arm/v6\n", 0o644)])], "arm/v7": [v7],
                              "amd64": [busybox_layer()]})
        self.push(va, "variants:latest")
        r = sw("pull", "--tls-verify=false", "--platform", "linux/arm/v7", f"{self.reg}/variants:latest")
        r2 = sw("inspect", f"{self.reg}/variants:latest")
        try:
            layers = json.loads(r2.stdout)[0]["RootFS"]["Layers"]
        except (ValueError, IndexError, KeyError):
            layers = None
        t.check(r.returncode == 0 and layers == ["sha256:" + hashlib.sha256(v7).hexdigest()],
                "swctr: --platform linux/arm/v7 picks the v7 variant of an index", r.stderr + r2.stdout[:300])
