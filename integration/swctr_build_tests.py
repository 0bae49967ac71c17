"""swctr build against buildah (Debian's): the same Dockerfiles built by both, the images
exported as OCI layouts and unpacked by umoci, then compared — every file's name, type, mode,
owner, content and link target, and the config (Env, Cmd, Entrypoint, WorkingDir, User,
ExposedPorts, Volumes, Labels, Healthcheck, StopSignal). Base images are made offline: busybox
from busybox-static, and a Debian minbase from debootstrap (cached between runs). The cache, the
CLI and bad input are in swctr_build_cache_tests.py. Only loopback is contacted."""
import hashlib
import http.server
import json
import os
import stat
import subprocess
import tarfile
import threading

from harness import Recorder, run, unique, remove_cgroup_tree, rmtree, mkdtemp, unmount_under
from swctr_build_cases import CASES, DEBIAN, make_debian
from swctr_build_cache_tests import BuildCacheTests

SWCTR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swctr")
MINBASE_CACHE = "/var/cache/swctr-tests/debian-bookworm-minbase.tar"
# buildah's chroot isolation leaves the mount points of a RUN behind in the layer (empty files
# and a directory the base image lacks); they are buildah's, not the Dockerfile's.
BUILDAH_MOUNTPOINTS = {"etc/hosts", "etc/hostname", "etc/resolv.conf", "run"}
CONFIG_FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "Healthcheck", "StopSignal"]


def tree(root):
    """path → (type, mode, uid, gid, content digest or link target, link count)."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            extra = None
            if stat.S_ISREG(kind):
                with open(p, "rb") as f:
                    extra = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(kind):
                extra = os.readlink(p)
            out[os.path.relpath(p, root)] = (kind, oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, extra,
                                             st.st_nlink if stat.S_ISREG(kind) else None)
    return out


def layout_config(layout, ref):
    index = json.load(open(os.path.join(layout, "index.json")))
    m = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
    manifest = json.load(open(os.path.join(layout, "blobs", "sha256", m["digest"].split(":")[1])))
    return json.load(open(os.path.join(layout, "blobs", "sha256", manifest["config"]["digest"].split(":")[1])))


def expand_ports(ports):
    """buildah keeps `8000-8001/udp` as written; Docker (and swctr) list each port."""
    out = {}
    for key in ports or {}:
        num, _, proto = key.partition("/")
        low, _, high = num.partition("-")
        for p in range(int(low), int(high or low) + 1):
            out[f"{p}/{proto or 'tcp'}"] = {}
    return out or None


class FileServer:
    """Files for ADD URL on 127.0.0.1 (a port of its own), with Last-Modified."""

    def __init__(self, directory):
        handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=directory, **k)  # noqa: E731
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class SwctrBuild(BuildCacheTests):
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.archive = archive
        self.tmp = mkdtemp("swrunc-it-build-")
        cleanup.add("swctr build tmp", lambda: rmtree(self.tmp))
        self.bin = os.path.join(SWCTR_DIR, ".build", "release", "swctr")
        self.root = os.path.join(self.tmp, "store")
        self.cgroup = unique("swctr-build-it")
        cleanup.add("swctr build cgroups", lambda: remove_cgroup_tree(self.cgroup))
        self.rec = Recorder(self.tmp, swrunc, "swctr-build")
        self.broot = os.path.join(self.tmp, "buildah")
        cleanup.add("buildah", self.remove_buildah)
        self.files = os.path.join(self.tmp, "served")
        os.makedirs(self.files)
        with open(os.path.join(self.files, "remote.txt"), "w") as f:
            f.write("fetched over http\n")
        self.server = FileServer(self.files)
        cleanup.add("file server", self.server.close)

    def sw(self, *args, timeout=300, input=None, cwd=None):
        return run([self.bin, "--root", self.root, "--runtime", self.rec.path, *args], timeout=timeout, input=input)

    def build(self, ctx, *args, timeout=600, input=None):
        return self.sw("build", "--cgroup-parent", f"/{self.cgroup}", *args, ctx, timeout=timeout, input=input)

    def buildah(self, *args, timeout=600):
        return run(["buildah", "--root", self.broot, "--runroot", self.broot + "-run", "--storage-driver", "overlay", *args],
                   timeout=timeout)

    def remove_buildah(self):
        self.buildah("rm", "--all")
        self.buildah("rmi", "--all", "--force")
        unmount_under(self.broot)
        unmount_under(self.broot + "-run")

    def context(self, name, make, dockerfile):
        ctx = os.path.join(self.tmp, "ctx-" + name)
        if not os.path.isdir(ctx):
            os.makedirs(ctx)
            make(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(dockerfile.replace("{url}", self.server.url))
        return ctx

    def tests(self):
        t = self.tap
        if not t.check(os.access(self.bin, os.X_OK), "swctr build: built", self.bin):
            return
        r = self.sw("load", "-i", self.archive)
        r2 = self.buildah("pull", f"docker-archive:{self.archive}")
        if not t.check(r.returncode == 0 and r2.returncode == 0, "swctr build: the busybox base in swctr's and buildah's stores",
                       r.stderr + r2.stderr):
            return
        for name, make, dockerfile, opts in CASES:
            self.compare(name, self.context(name, make, dockerfile), opts)
        if self.load_minbase():
            self.compare("debian", self.context("debian", make_debian, DEBIAN), [])
        self.cache_tests()
        self.cli_tests()
        self.bad_input_tests()

    def compare(self, name, ctx, opts):
        """Builds `ctx` with both, exports both as OCI layouts, unpacks them with umoci and
        compares the trees and the config."""
        t = self.tap
        tag = f"cmp-{name}"
        r = self.build(ctx, "-t", tag, *opts)
        r2 = self.buildah("bud", "--format", "docker", "--layers", "--isolation", "chroot", "-t", tag, *opts, ctx)
        if not t.check(r.returncode == 0 and r2.returncode == 0, f"swctr build {name}: builds, as buildah builds it",
                       r.stderr[-2000:] + "\n--- buildah:\n" + r2.stderr[-2000:]):
            return
        s_oci, b_oci = os.path.join(self.tmp, f"oci-s-{name}"), os.path.join(self.tmp, f"oci-b-{name}")
        s_rootfs, b_rootfs = os.path.join(self.tmp, f"unpack-s-{name}"), os.path.join(self.tmp, f"unpack-b-{name}")
        r = self.sw("save", "--format", "oci-dir", "-o", s_oci, tag)
        r2 = self.buildah("push", tag, f"oci:{b_oci}:{tag}")
        r3 = run(["umoci", "unpack", "--image", f"{s_oci}:latest", s_rootfs], timeout=300)
        r4 = run(["umoci", "unpack", "--image", f"{b_oci}:{tag}", b_rootfs], timeout=300)
        if not t.check(all(x.returncode == 0 for x in (r, r2, r3, r4)), f"swctr build {name}: both images export and unpack",
                       r.stderr + r2.stderr + r3.stderr + r4.stderr):
            return
        ours, theirs = tree(os.path.join(s_rootfs, "rootfs")), tree(os.path.join(b_rootfs, "rootfs"))
        for p in BUILDAH_MOUNTPOINTS:
            if p not in ours and p in theirs:
                del theirs[p]
        diff = [f"{p}: swctr {ours.get(p)} buildah {theirs.get(p)}" for p in sorted(set(ours) | set(theirs)) if ours.get(p) != theirs.get(p)]
        t.check(not diff and len(ours) > 100, f"swctr build {name}: the same files as buildah's (names, types, modes, owners, contents, links; {len(ours)} entries)",
                "\n".join(diff[:40]))
        mine = layout_config(s_oci, "latest")["config"]
        info = json.loads(self.buildah("inspect", "--type", "image", tag).stdout or "{}")
        other = dict(info.get("Docker", {}).get("config", {}))
        other["Labels"] = {k: v for k, v in (other.get("Labels") or {}).items() if k != "io.buildah.version"} or None
        other["ExposedPorts"] = expand_ports(other.get("ExposedPorts"))
        cdiff = []
        for k in CONFIG_FIELDS:
            a, b = mine.get(k) or None, other.get(k) or None
            if a != b:
                cdiff.append(f"{k}: swctr {a} buildah {b}")
        t.check(not cdiff, f"swctr build {name}: the same config as buildah's ({', '.join(CONFIG_FIELDS)})", "\n".join(cdiff))

    def load_minbase(self):
        """debian-minbase from `debootstrap --variant=minbase bookworm`, its tar cached in
        /var/cache/swctr-tests; loaded into both stores."""
        t = self.tap
        if not os.path.exists(MINBASE_CACHE):
            os.makedirs(os.path.dirname(MINBASE_CACHE), exist_ok=True)
            target = os.path.join(self.tmp, "debootstrap")
            r = run(["debootstrap", "--variant=minbase", "bookworm", target, "http://deb.debian.org/debian"], timeout=1200)
            if not t.check(r.returncode == 0, "swctr build: debootstrap makes a Debian minbase (once; cached)", r.stderr[-2000:]):
                return False
            part = MINBASE_CACHE + ".part"
            r = run(["tar", "--numeric-owner", "--xattrs", "-C", target, "-cf", part, "."], timeout=600)
            if r.returncode != 0:
                return t.check(False, "swctr build: the minbase tar is written", r.stderr)
            os.rename(part, MINBASE_CACHE)
            rmtree(target)
        archive = os.path.join(self.tmp, "minbase-image.tar")
        image_archive(archive, MINBASE_CACHE, "debian-minbase")
        r = self.sw("load", "-i", archive, timeout=600)
        r2 = self.buildah("pull", f"docker-archive:{archive}", timeout=600)
        return t.check(r.returncode == 0 and r2.returncode == 0, "swctr build: the Debian minbase in both stores", r.stderr + r2.stderr)


def image_archive(path, layer_tar, name):
    """A docker-archive of one uncompressed layer (the layer file is streamed, not read whole)."""
    h = hashlib.sha256()
    with open(layer_tar, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    diff_id = "sha256:" + h.hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["bash"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "history": [{"created_by": "debootstrap --variant=minbase bookworm"}]}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [f"{name}:latest"], "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(path, "w") as tar:
        for n, data in ((config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(n)
            info.size = len(data)
            tar.addfile(info, __import__("io").BytesIO(data))
        tar.add(layer_tar, arcname="layer.tar")
