"""Shared plumbing for the client integration tests: TAP results, a cleanup stack that runs even
when a scenario fails, a busybox image built from busybox-static, throwaway daemons, and a wrapper
that records every swrunc command line a client sends."""
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import uuid

BUSYBOX = "/bin/busybox"


class TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.skipped = 0

    def check(self, ok, name, diag=""):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}", flush=True)
        if not ok:
            self.failed += 1
            for line in str(diag).strip().splitlines()[-12:]:
                print(f"#   {line}", flush=True)
        return ok

    def skip(self, name, why):
        self.n += 1
        self.skipped += 1
        print(f"ok {self.n} - {name} # SKIP {why}", flush=True)

    def note(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def summary(self):
        print(f"1..{self.n}")
        print(f"{self.n - self.failed - self.skipped} passed, {self.failed} failed, {self.skipped} skipped")


def run(argv, timeout=120, input=None, env=None, check=False):
    """Runs a command with output in files (a detached container may keep a pipe open forever)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL if input is None else None, input=input,
                               stdout=out, stderr=err, timeout=timeout, env=env)
            code = p.returncode
        except subprocess.TimeoutExpired:
            code = 124
        out.seek(0)
        err.seek(0)
        o = out.read().decode(errors="replace")
        e = err.read().decode(errors="replace") + (f"\n(timed out after {timeout}s)" if code == 124 else "")
    r = subprocess.CompletedProcess(argv, code, o, e)
    if check and code != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {code}: {e.strip()[-400:]}")
    return r


class Cleanup:
    def __init__(self):
        self.steps = []

    def add(self, what, fn):
        self.steps.append((what, fn))

    def run(self):
        while self.steps:
            what, fn = self.steps.pop()
            try:
                fn()
            except Exception as e:  # keep going: later steps free other resources
                print(f"# cleanup {what}: {e}", flush=True)


def stop_pid(pid, timeout=20):
    """SIGTERM, then SIGKILL, to a process this harness started."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def unmount_under(path):
    """Lazily unmounts everything mounted at or below `path` (overlay snapshots, shm, netns)."""
    path = os.path.realpath(path)
    points = []
    for line in open("/proc/self/mountinfo"):
        mp = line.split()[4].replace("\\040", " ")
        if mp == path or mp.startswith(path + "/"):
            points.append(mp)
    for mp in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)


def remove_cgroup_tree(name):
    """Removes /<name> (bottom-up) in every cgroup hierarchy; only trees this harness named."""
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        if f[f.index("-") + 1] not in ("cgroup", "cgroup2"):
            continue
        top = os.path.join(f[4], name.strip("/"))
        if not os.path.isdir(top):
            continue
        for d, _, _ in sorted(os.walk(top), key=lambda x: -len(x[0])):
            try:
                os.rmdir(d)
            except OSError:
                pass
    # conmon also writes <parent>/conmon/tasks under controllers the host lists but does not
    # mount (hugetlb here): plain tmpfs files beside the real hierarchies, named by this harness.
    for entry in os.listdir("/sys/fs/cgroup"):
        base = os.path.join("/sys/fs/cgroup", entry)
        top = os.path.join(base, name.strip("/"))
        if not os.path.ismount(base) and os.path.isdir(top):
            shutil.rmtree(top, ignore_errors=True)


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def busybox_layer():
    """An uncompressed layer tar: static busybox, a link per applet, passwd/group, a web root."""
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ["bin", "etc", "tmp", "root", "var", "var/www", "proc", "sys", "dev", "data"]:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if d == "tmp" else 0o755
            tar.addfile(info)
        tar.add(BUSYBOX, arcname="bin/busybox")
        for a in applets:
            if a == "busybox":
                continue
            info = tarfile.TarInfo(f"bin/{a}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        _add_bytes(tar, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        _add_bytes(tar, "etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        _add_bytes(tar, "var/www/index.html", b"hello from swrunc\n")
    return buf.getvalue()


def build_image_archive(path, name="busybox", tag="latest", cmd=("sh",)):
    """One tarball that is both an OCI image layout (ctr import, podman load) and a docker-archive
    (docker load reads manifest.json): the blobs are shared."""
    layer = busybox_layer()
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": list(cmd)},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "swrunc integration: busybox-static"}],
    }, sort_keys=True).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest,
                    "size": len(layer)}],
    }, sort_keys=True).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    full = f"docker.io/library/{name}:{tag}"
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": len(manifest),
                       "annotations": {"io.containerd.image.name": full, "org.opencontainers.image.ref.name": tag}}],
    }).encode()
    docker_manifest = json.dumps([{"Config": f"blobs/sha256/{config_digest[7:]}",
                                   "RepoTags": [f"{name}:{tag}"],
                                   "Layers": [f"blobs/sha256/{layer_digest[7:]}"]}]).encode()
    with tarfile.open(path, "w") as tar:
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_bytes(tar, "index.json", index)
        _add_bytes(tar, "manifest.json", docker_manifest)
        for digest, data in [(layer_digest, layer), (config_digest, config), (manifest_digest, manifest)]:
            _add_bytes(tar, f"blobs/sha256/{digest[7:]}", data)
    return full


class Recorder:
    """A wrapper in front of swrunc that appends each command line to a log, then execs swrunc:
    the clients' exact flags end up in the test output."""

    def __init__(self, tmp, swrunc, name, root=None):
        """`root`: a --root the wrapper puts first, for clients that pass none (podman), so the
        test's state stays in its temp dir instead of swrunc's default /run/swrunc."""
        self.log = os.path.join(tmp, f"{name}-argv.log")
        self.path = os.path.join(tmp, f"swrunc-{name}")
        first = f"--root {root} " if root else ""
        with open(self.path, "w") as f:
            f.write("#!/bin/sh\n"
                    f"printf '%s\\n' \"$*\" >> {self.log}\n"
                    f"exec {swrunc} {first}\"$@\"\n")
        os.chmod(self.path, 0o755)

    def lines(self):
        try:
            return [l.rstrip("\n") for l in open(self.log)]
        except OSError:
            return []

    def distinct(self):
        """Command lines with ids, paths and numbers folded, so each shape is listed once."""
        import re
        seen = []
        for l in self.lines():
            l = re.sub(r"/tmp/\S+", "<path>", l)
            l = re.sub(r"\b[0-9a-f]{12,}\b", "<id>", l)
            l = re.sub(r"\bit-[a-z0-9-]+\b", "<id>", l)
            if l not in seen:
                seen.append(l)
        return seen


def wait_for(pred, timeout=30, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception:
            pass
        time.sleep(step)
    return None


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def mkdtemp(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


def rmtree(path):
    unmount_under(path)
    shutil.rmtree(path, ignore_errors=True)
