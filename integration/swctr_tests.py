"""swctr against a real registry (Debian's docker-registry on loopback), with images pushed by
skopeo from OCI layouts built here from busybox-static: pull, images, run, layer semantics
(whiteouts, opaque directories, hard links, symlinks), multi-arch indexes and bad input."""
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import socket
import subprocess
import tarfile
import threading
import time

import token_server
from token_server import TokenServer
from harness import Recorder, busybox_layer, run, stop_pid, unique, remove_cgroup_tree, rmtree, mkdtemp, wait_for

SWCTR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swctr")


def _tar(entries):
    """entries: (name, kind, data/target, mode). kind: file, dir, symlink, hardlink, chardev (data:
    (major, minor)), ownedfile (data: (bytes, uid, gid)), xattrdir (data: {xattr name: value}, as pax SCHILY.xattr records)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "xattrdir":
                info.type = tarfile.DIRTYPE
                info.pax_headers = {"SCHILY.xattr." + k: v for k, v in data.items()}
                tar.addfile(info)
            elif kind == "ownedfile":
                body, info.uid, info.gid = data
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
            elif kind == "chardev":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = data
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                tar.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def oci_layout(path, layers, cmd=("sh",), arch="amd64", write_index=True, compression="gzip", variant=None):
    """An OCI image layout with gzip layers; returns the manifest descriptor."""
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(path, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return "sha256:" + d

    diff_ids, descs = [], []
    for raw in layers:
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        if compression == "zstd":
            data = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
            media = "application/vnd.oci.image.layer.v1.tar+zstd"
        elif compression == "none":
            data, media = raw, "application/vnd.oci.image.layer.v1.tar"
        else:
            data, media = gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
        if compression == "truncated":
            data = data[: len(data) // 2]
        descs.append({"mediaType": media, "digest": blob(data), "size": len(data)})
    config = json.dumps({"architecture": arch, "os": "linux", **({"variant": variant} if variant else {}),
                         "config": {"Env": ["PATH=/bin", "FROM_IMAGE=yes"], "Cmd": list(cmd), "WorkingDir": "/data"},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": blob(config), "size": len(config)},
                           "layers": descs}).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifest),
            "size": len(manifest), "platform": {"os": "linux", "architecture": arch, **({"variant": variant} if variant else {})},
            "annotations": {"org.opencontainers.image.ref.name": "latest"}}
    if write_index:
        with open(os.path.join(path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [desc]}, f)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    return desc


def multiarch_layout(path, layers_by_arch):
    """A layout whose `latest` is an image index with one manifest per architecture ("arm/v7"
    names a variant too)."""
    descs = []
    for platform, layers in layers_by_arch.items():
        arch, _, variant = platform.partition("/")
        d = oci_layout(path, layers, arch=arch, write_index=False, variant=variant or None)
        d.pop("annotations")
        descs.append(d)
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": descs}).encode()
    digest = hashlib.sha256(index).hexdigest()
    with open(os.path.join(path, "blobs", "sha256", digest), "wb") as f:
        f.write(index)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + digest,
            "size": len(index), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, f)


class FaultProxy:
    """A loopback HTTP proxy in front of the registry that misbehaves on purpose: `drop` cuts the
    first download of one blob after 1 MiB of body (and records Range requests), `fail500`
    answers every manifest request with HTTP 500, `slow_blobs` holds each blob request for a
    second and records how many were in flight at once. One request per connection."""

    def __init__(self, upstream_port, drop=None, fail500=False, slow_blobs=False):
        self.upstream = upstream_port
        self.drop = drop
        self.fail500 = fail500
        self.slow_blobs = slow_blobs
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.dropped = False
        self.ranges = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def close(self):
        self.sock.close()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def handle(self, c):
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = c.recv(65536)
                if not chunk:
                    return
                head += chunk
            text = head.decode(errors="replace")
            path = text.split(" ", 2)[1]
            if self.fail500 and "/manifests/" in path:
                c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if self.drop and self.drop in path and "range:" in text.lower():
                self.ranges.append(path)
            slow = self.slow_blobs and "/blobs/" in path
            if slow:
                with self.lock:
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                time.sleep(1)
                with self.lock:
                    self.in_flight -= 1
            lines = [l for l in text.split("\r\n\r\n")[0].split("\r\n") if not l.lower().startswith("connection:")]
            u = socket.create_connection(("127.0.0.1", self.upstream))
            u.sendall(("\r\n".join(lines) + "\r\nConnection: close\r\n\r\n").encode())
            cut = self.drop and self.drop in path and not self.dropped
            sent = 0
            while True:
                data = u.recv(65536)
                if not data:
                    break
                c.sendall(data)
                sent += len(data)
                if cut and sent > (1 << 20):
                    self.dropped = True
                    break
            u.close()
        except OSError:
            pass
        finally:
            c.close()


class Swctr:
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
        (default: the suite's store)."""
        return [self.bin, "run", "--root", root or self.root, "--rm", "--runtime", self.rec.path,
                "--cgroup-parent", f"/{self.cgroup}", *args]

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
        t.check(len(info.get("Layers", [])) == 3 and info.get("Config", {}).get("config", {}).get("WorkingDir") == "/data",
                "swctr: inspect shows layers and config", r.stdout[:500] + r.stderr)
        r = self.swctr("history", img)
        t.check(r.returncode == 0 and r.stdout.startswith("CREATED"), "swctr: history", r.stdout + r.stderr)
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
            layers = json.loads(r2.stdout)[0]["Layers"]
        except (ValueError, IndexError, KeyError):
            layers = None
        t.check(r.returncode == 0 and layers == ["sha256:" + hashlib.sha256(v7).hexdigest()],
                "swctr: --platform linux/arm/v7 picks the v7 variant of an index", r.stderr + r2.stdout[:300])

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
        r = self.swctr("run", "--rm", "--runtime", wrapper, "--cgroup-parent", f"/{self.cgroup}", img, "sh", "-c", probe)
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

    def concurrency_test(self):
        """One store, several swctr processes: `images` and `rmi` while a pull is downloading
        neither sweep its temporary files nor collect the layers it has not recorded yet (the
        pulled image shares its base layer with the removed one), and three pulls of one image at
        once both succeed."""
        t = self.tap
        root = os.path.join(self.tmp, "store-concurrent")
        r = run([self.bin, "pull", "--root", root, "--tls-verify=false", f"{self.reg}/busybox:latest"], timeout=120)
        proxy = FaultProxy(self.port, slow_blobs=True)
        try:
            slow = subprocess.Popen([self.bin, "pull", "--root", root, "--tls-verify=false", f"127.0.0.1:{proxy.port}/multi:latest"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                # Two blob requests at once are the two layers the store lacks (the config comes
                # alone, before them): their downloads are in tmp/ and the base layer was found.
                wait_for(lambda: proxy.in_flight >= 2, timeout=30)
                during = run([self.bin, "images", "--root", root])
                rmi = run([self.bin, "rmi", "--root", root, f"{self.reg}/busybox:latest"], timeout=120)
                err = slow.communicate(timeout=120)[1]
            finally:
                if slow.poll() is None:
                    slow.kill()
                    slow.wait()
        finally:
            proxy.close()
        r2 = self.srun(f"127.0.0.1:{proxy.port}/multi:latest", "sh", "-c", "cat /keep/a; ls /bin/busybox", root=root)
        t.check(r.returncode == 0 and slow.returncode == 0 and during.returncode == 0 and rmi.returncode == 0
                and r2.stdout == "a\n/bin/busybox\n",
                "swctr: images and rmi during a pull leave its downloads and its shared base layer alone",
                f"pull: {err}\nimages: {during.stderr}\nrmi: {rmi.stderr}\nrun: {r2.stdout}{r2.stderr}")
        root2 = os.path.join(self.tmp, "store-concurrent2")
        pulls = [subprocess.Popen([self.bin, "pull", "--root", root2, "--tls-verify=false", f"{self.reg}/multi:latest"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        try:
            errs = [p.communicate(timeout=120)[1] for p in pulls]
        finally:
            for p in pulls:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        listed = run([self.bin, "images", "-q", "--root", root2]).stdout.split()
        t.check(all(p.returncode == 0 for p in pulls) and len(listed) == 1,
                "swctr: three pulls of one image into one store at once all succeed", "\n".join(errs))

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

    def parallel_test(self):
        """Layers of one image are downloaded in parallel: a proxy that holds each blob request
        for a second sees several at once (the three-layer image, into an empty store)."""
        t = self.tap
        proxy = FaultProxy(self.port, slow_blobs=True)
        try:
            r = run([self.bin, "pull", "--root", os.path.join(self.tmp, "store-parallel"), "--tls-verify=false",
                     f"127.0.0.1:{proxy.port}/multi:latest"], timeout=120)
            t.check(r.returncode == 0 and proxy.max_in_flight == 3,
                    "swctr: the three layers of an image are downloaded in parallel",
                    f"at most {proxy.max_in_flight} blob requests at once\n{r.stderr}")
        finally:
            proxy.close()

    def start_registry(self, name, auth="", tls=""):
        """Another docker-registry on loopback with its own storage and config (`auth` and `tls`
        are YAML fragments for its auth and http.tls sections); returns (host:port, process). The
        caller stops it; the storage goes with the suite's temp dir."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        reg = f"127.0.0.1:{port}"
        storage = os.path.join(self.tmp, name)
        os.makedirs(storage)
        cfg = os.path.join(self.tmp, name + ".yml")
        with open(cfg, "w") as f:
            f.write(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n"
                    f"http:\n  addr: {reg}\n{tls}{auth}")
        proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=self.log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        scheme = "https" if tls else "http"
        if not wait_for(lambda: run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", f"{scheme}://{reg}/v2/"],
                                    timeout=5).stdout in ("200", "401"), timeout=30):
            stop_pid(proc.pid)
            raise RuntimeError(f"docker-registry {name} did not come up: " + open(self.log.name).read()[-1000:])
        return reg, proc

    def auth_tests(self):
        """A second registry behind htpasswd (Basic challenge): pull fails without credentials,
        login checks them and saves them, pull works, logout forgets them."""
        t = self.tap
        pw = os.path.join(self.tmp, "htpasswd")
        r = run(["htpasswd", "-Bbn", "tester", "s3cret"])
        with open(pw, "w") as f:
            f.write(r.stdout)
        reg, proc = self.start_registry("registry-auth", auth=f"auth:\n  htpasswd:\n    realm: swctr-test\n    path: {pw}\n")
        try:
            small = os.path.join(self.tmp, "small")
            r = run(["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "tester:s3cret", f"oci:{small}",
                     f"docker://{reg}/private:latest"], timeout=300)
            t.check(r.returncode == 0, "swctr auth: skopeo pushes to the password-protected registry", r.stderr)
            authfile = os.path.join(self.tmp, "auth", "config.json")
            a = ["--authfile", authfile]
            r = self.swctr("pull", *a, "--tls-verify=false", f"{reg}/private:latest")
            t.check(r.returncode != 0 and "authentication required" in r.stderr,
                    "swctr auth: pull without credentials is refused with a hint to log in", r.stderr)
            r = self.swctr("login", *a, "--tls-verify=false", "-u", "tester", "-p", "wrong", reg)
            t.check(r.returncode != 0 and "unauthorized" in r.stderr and not os.path.exists(authfile),
                    "swctr auth: login with a wrong password fails and saves nothing", r.stderr)
            r = self.swctr("login", *a, "--tls-verify=false", "-u", "tester", "-p", "s3cret", reg)
            mode = os.stat(authfile).st_mode & 0o777 if os.path.exists(authfile) else None
            t.check(r.returncode == 0 and mode == 0o600 and reg in open(authfile).read(),
                    "swctr auth: login saves the credentials (0600 file)", r.stderr)
            r = self.swctr("pull", *a, "--tls-verify=false", f"{reg}/private:latest")
            t.check(r.returncode == 0, "swctr auth: pull with saved credentials (Basic auth)", r.stderr)
            r = self.swctr("logout", *a, reg)
            t.check(r.returncode == 0 and reg not in open(authfile).read(), "swctr auth: logout forgets them", r.stderr)
        finally:
            stop_pid(proc.pid)

    def token_tests(self):
        """A registry with token authentication (docker-registry's `auth: token`, which verifies
        the JWTs) and a token service: anonymous Bearer tokens for public repositories, tokens
        for credentials sent as Basic to the token service, the scope and service asked for."""
        t = self.tap
        ts = TokenServer(self.tmp)
        proc = None
        try:
            reg, proc = self.start_registry("registry-token", auth=ts.registry_auth_yaml())
            small = os.path.join(self.tmp, "small")
            pushed = all(run(["skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", "tester:s3cret", f"oci:{small}",
                              f"docker://{reg}/{repo}:latest"], timeout=300).returncode == 0
                         for repo in ("public/busybox", "private/busybox"))
            if not t.check(pushed, "swctr token: skopeo pushes through the token service"):
                return
            root = os.path.join(self.tmp, "store-token")
            authfile = os.path.join(self.tmp, "auth-token", "config.json")
            a = ["--root", root, "--authfile", authfile, "--tls-verify=false"]
            seen = len(ts.requests)
            r = run([self.bin, "pull", *a, f"{reg}/public/busybox:latest"], timeout=300)
            asked = ts.requests[seen:]
            t.check(r.returncode == 0 and any(q["query"].get("scope") == ["repository:public/busybox:pull"]
                                              and q["query"].get("service") == [token_server.SERVICE]
                                              and not q["basic"] for q in asked),
                    "swctr token: anonymous pull gets a Bearer token for the challenge's service and the repository's pull scope",
                    f"{r.stderr}\n{asked}")
            r = self.srun(f"{reg}/public/busybox", "echo", "via token", root=root)
            t.check(r.stdout == "via token\n", "swctr token: the image pulled with a token runs", r.stdout + r.stderr)
            r = run([self.bin, "pull", *a, f"{reg}/private/busybox:latest"], timeout=300)
            listed = run([self.bin, "images", "-q", "--root", root]).stdout.split()
            t.check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "access denied" in r.stderr
                    and "swctr login" in r.stderr and len(listed) == 1,
                    "swctr token: a token without access to a private repository is a one-line error with a login hint",
                    r.stderr)
            r = run([self.bin, "login", *a, "-u", "tester", "-p", "wrong", reg])
            t.check(r.returncode != 0 and "unauthorized" in r.stderr and not os.path.exists(authfile),
                    "swctr token: login with a wrong password (401 from the token service) saves nothing", r.stderr)
            seen = len(ts.requests)
            r = run([self.bin, "login", *a, "-u", "tester", "-p", "s3cret", reg])
            asked = ts.requests[seen:]
            t.check(r.returncode == 0 and os.path.exists(authfile)
                    and any(q["basic"] and q["query"].get("account") == ["tester"] and "scope" not in q["query"] for q in asked),
                    "swctr token: login asks the token service with the account and no repository scope", f"{r.stderr}\n{asked}")
            seen = len(ts.requests)
            r = run([self.bin, "pull", *a, f"{reg}/private/busybox:latest"], timeout=300)
            asked = ts.requests[seen:]
            t.check(r.returncode == 0 and any(q["basic"] and q["query"].get("scope") == ["repository:private/busybox:pull"]
                                              for q in asked),
                    "swctr token: with saved credentials the token service grants the private repository", f"{r.stderr}\n{asked}")
        finally:
            if proc:
                stop_pid(proc.pid)
            ts.close()

    def transport_tests(self):
        """Plain HTTP only when asked: --tls-verify=false or an insecure-registries entry in the
        registries config (Docker's daemon.json spelling); HTTPS without verification for a
        registry with a self-signed certificate."""
        t = self.tap
        root = os.path.join(self.tmp, "store-tls")
        conf = os.path.join(self.tmp, "registries.json")

        def pull(reg, *extra):
            return run([self.bin, "pull", "--root", root, "--registries-conf", conf, *extra, f"{reg}/busybox:latest"],
                       timeout=300)

        def write_conf(doc):
            with open(conf, "w") as f:
                f.write(doc if isinstance(doc, str) else json.dumps(doc))

        write_conf({})
        r = pull(self.reg)
        t.check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "speaks plain HTTP" in r.stderr
                and "--tls-verify=false" in r.stderr and "insecure-registries" in r.stderr,
                "swctr tls: a plain-HTTP registry is not used unless asked (one line that says so and names the ways to ask)",
                r.stderr)
        write_conf({"insecure-registries": [self.reg]})
        r = pull(self.reg)
        t.check(r.returncode == 0, "swctr tls: an insecure-registries entry host:port allows plain HTTP", r.stderr)
        write_conf({"insecure-registries": ["127.0.0.0/8"]})
        r = pull(self.reg)
        t.check(r.returncode == 0, "swctr tls: an insecure-registries CIDR range allows plain HTTP", r.stderr)
        write_conf({"insecure-registries": ["127.0.0.1:1"]})
        r = pull(self.reg)
        t.check(r.returncode != 0 and "TLS" in r.stderr, "swctr tls: an entry for another port does not", r.stderr)
        write_conf({"insecure-registries": [self.reg]})
        r = pull(self.reg, "--tls-verify=true")
        t.check(r.returncode != 0, "swctr tls: --tls-verify=true overrides the config", r.stderr)
        for doc, want in (({"insecure-registry": [self.reg]}, 'unknown key "insecure-registry"'),
                          ({"insecure-registries": ["10.0.0.0/33"]}, "insecure-registries[0]"),
                          ({"insecure-registries": "x"}, "insecure-registries"),
                          ("{not json", "not a JSON object")):
            write_conf(doc)
            r = pull(self.reg)
            t.check(r.returncode != 0 and conf in r.stderr and want in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                    f"swctr tls: a bad registries config is a one-line error naming {want}", r.stderr)
        os.unlink(conf)
        r = pull(self.reg)
        t.check(r.returncode != 0 and "no such file" in r.stderr, "swctr tls: a named registries config that is missing is an error",
                r.stderr)

        cert, key = os.path.join(self.tmp, "tls.crt"), os.path.join(self.tmp, "tls.key")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], check=True)
        reg, proc = self.start_registry("registry-tls", tls=f"  tls:\n    certificate: {cert}\n    key: {key}\n")
        try:
            small = os.path.join(self.tmp, "small")
            r = run(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{small}", f"docker://{reg}/busybox:latest"], timeout=300)
            t.check(r.returncode == 0, "swctr tls: skopeo pushes to an HTTPS registry with a self-signed certificate", r.stderr)
            write_conf({})
            r = pull(reg)
            t.check(r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "certificate" in r.stderr,
                    "swctr tls: a certificate that does not verify is refused (one line that says so)", r.stderr)
            r = pull(reg, "--tls-verify=false")
            t.check(r.returncode == 0, "swctr tls: --tls-verify=false pulls over HTTPS without verification", r.stderr)
        finally:
            stop_pid(proc.pid)

    def rootless_tests(self):
        """swctr as an unprivileged user (uid 65534): the store goes under its home, layers take the
        rootless overlay form (0:0 whiteouts, user.overlay.opaque), a device node is refused and
        leaves nothing, run says it needs root. As root the device node is kept, and overlay
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
            shutil.copy(self.bin, binary)

            def as_nobody(*args):
                return run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary, *args],
                           env={"HOME": home, "PATH": "/usr/bin:/bin"}, timeout=300)

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
            r = as_nobody("run", "--rm", f"{self.reg}/busybox", "true")
            t.check(r.returncode != 0 and "needs root" in r.stderr, "swctr rootless: run says it needs root", r.stderr)
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
            arch = json.loads(r2.stdout)[0]["Config"]["architecture"]
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
