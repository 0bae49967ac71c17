"""What the swctr suites build and stand between swctr and the registry: tars, OCI layouts
(single- and multi-platform) and a proxy that drops, fails or slows responses."""
import gzip
import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
import threading
import time



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
    second and records how many were in flight at once, `refuse` answers every request that
    would write (POST, PUT, PATCH) with that HTTP status. Every request's method and path is
    recorded; bodies are passed on. One request per connection."""

    def __init__(self, upstream_port, drop=None, fail500=False, slow_blobs=False, refuse=None):
        self.upstream = upstream_port
        self.refuse = refuse
        self.drop = drop
        self.fail500 = fail500
        self.slow_blobs = slow_blobs
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.dropped = False
        self.ranges = []
        self.requests = []
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
            head, _, rest = head.partition(b"\r\n\r\n")
            text = head.decode(errors="replace") + "\r\n\r\n"
            method, path = text.split(" ", 2)[:2]
            with self.lock:
                self.requests.append((method, path))
            if self.refuse and method in ("POST", "PUT", "PATCH"):
                body = b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'
                c.sendall(f"HTTP/1.1 {self.refuse} Refused\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                          "Connection: close\r\n\r\n".encode() + body)
                return
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
            # The request's body (a push's upload) goes on as it comes.
            length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
            u.sendall(rest)
            left = length - len(rest)
            while left > 0:
                data = c.recv(min(left, 1 << 16))
                if not data:
                    break
                u.sendall(data)
                left -= len(data)
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
