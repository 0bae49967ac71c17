"""swctr push against real registries (Debian's docker-registry on loopback): tag + push, then
pull into an empty store gives the same digests; blobs the registry has are not sent again;
cross-repository mounts; a large layer goes up in chunks; Basic and token auth; a registry that
refuses (401, 404) or finds a digest mismatch. A mixin of Swctr (swctr_tests.py)."""
import hashlib
import json
import os
import shutil

from harness import run, stop_pid
from swctr_fixtures import FaultProxy
import token_server
from token_server import TokenServer


class PushTests:
    def sw_push(self, *args, root=None):
        return run([self.bin, "push", "--root", root or self.root, *args], timeout=300)

    def push_tests(self):
        t = self.tap
        src = f"{self.reg}/busybox:latest"
        dst = f"{self.reg}/pushed/busybox:v1"
        r = self.swctr("tag", src, dst)
        r2 = self.sw_push("--tls-verify=false", dst)
        local = json.loads(self.swctr("inspect", "--type", "image", dst).stdout or "[{}]")[0]
        t.check(r.returncode == 0 and r2.returncode == 0 and "Mounted from " in r2.stdout and "Pushed" not in r2.stdout
                and r2.stdout.strip().endswith(f"v1: digest: {local.get('Digest')}"),
                "swctr push: tag + push; layers another repository of the registry has are mounted, not uploaded",
                r.stderr + r2.stdout + r2.stderr)
        r = self.sw_push("--tls-verify=false", dst)
        t.check(r.returncode == 0 and "Layer already exists" in r.stdout and "Pushed" not in r.stdout,
                "swctr push: again, every blob is found by HEAD and none is sent", r.stdout + r.stderr)
        empty = os.path.join(self.tmp, "store-push-empty")
        r = run([self.bin, "pull", "--root", empty, "--tls-verify=false", dst], timeout=300)
        pulled = json.loads(run([self.bin, "inspect", "--root", empty, dst]).stdout or "[{}]")[0]
        t.check(r.returncode == 0 and pulled.get("Digest") == local.get("Digest") and pulled.get("Id") == local.get("Id"),
                "swctr push: pulled into an empty store, the image has the pushed digests (manifest and ID)",
                r.stderr + json.dumps(pulled)[:300])
        self.push_large()
        self.push_auth()
        self.push_refused()

    def push_large(self):
        """A 24 MiB layer (built here) goes up in PATCH chunks of 16 MiB."""
        t = self.tap
        ctx = os.path.join(self.tmp, "ctx-big")
        os.makedirs(ctx)
        data = os.urandom(24 << 20)
        with open(os.path.join(ctx, "big.bin"), "wb") as f:
            f.write(data)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write(f"FROM --platform=$BUILDPLATFORM {self.reg}/busybox:latest\nCOPY big.bin /big.bin\n")
        big = f"{self.reg}/big:v1"
        # --pull: the base comes from the registry again (plain HTTP by the registries config),
        # whatever the store has.
        conf = os.path.join(self.tmp, "registries-build.json")
        with open(conf, "w") as f:
            json.dump({"insecure-registries": [self.reg]}, f)
        r = run([self.bin, "build", "--root", self.root, "--runtime", self.rec.path, "--registries-conf", conf,
                 "--cgroup-parent", f"/{self.cgroup}", "--pull", "-t", big, ctx], timeout=300)
        proxy = FaultProxy(self.port)
        try:
            via = f"127.0.0.1:{proxy.port}/big:v1"
            self.swctr("tag", big, via)
            r2 = self.sw_push("--tls-verify=false", via)
            patches = [p for m, p in proxy.requests if m == "PATCH"]
        finally:
            proxy.close()
        empty = os.path.join(self.tmp, "store-push-big")
        r3 = run([self.bin, "pull", "--root", empty, "--tls-verify=false", big], timeout=300)
        got = run([self.bin, "run", "--root", empty, "--rm", "--runtime", self.rec.path, "--cgroup-parent", f"/{self.cgroup}",
                   "--network", "none", big, "sha256sum", "/big.bin"], timeout=120)
        t.check(r.returncode == 0 and "pulling" in r.stderr and r2.returncode == 0 and len(patches) >= 2 and r3.returncode == 0
                and got.stdout.split()[:1] == [hashlib.sha256(data).hexdigest()],
                "swctr push: a built image (build --pull, FROM --platform) with a 24 MiB layer is uploaded in chunks and pulls back whole",
                f"{r.stderr[-500:]}{r2.stdout}{r2.stderr} PATCH x{len(patches)} {r3.stderr} {got.stdout}{got.stderr}")

    def push_auth(self):
        """Basic auth: refused without credentials (one line, a login hint), pushed after login.
        Token auth: the token service is asked for pull,push."""
        t = self.tap
        pw = os.path.join(self.tmp, "htpasswd-push")
        with open(pw, "w") as f:
            f.write(run(["htpasswd", "-Bbn", "pusher", "s3cret"]).stdout)
        reg, proc = self.start_registry("registry-push-auth", auth=f"auth:\n  htpasswd:\n    realm: swctr-push\n    path: {pw}\n")
        authfile = os.path.join(self.tmp, "auth-push", "config.json")
        try:
            name = f"{reg}/private/busybox:v1"
            self.swctr("tag", f"{self.reg}/busybox:latest", name)
            r = self.sw_push("--authfile", authfile, "--tls-verify=false", name)
            t.check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "authentication required" in r.stderr,
                    "swctr push: without credentials a Basic-auth registry refuses; a one-line error", r.stderr)
            r = self.swctr("login", "--authfile", authfile, "--tls-verify=false", "-u", "pusher", "-p", "s3cret", reg)
            r2 = self.sw_push("--authfile", authfile, "--tls-verify=false", name)
            t.check(r.returncode == 0 and r2.returncode == 0 and "digest: sha256:" in r2.stdout,
                    "swctr push: after login the push goes through (Basic)", r.stderr + r2.stdout + r2.stderr)
        finally:
            stop_pid(proc.pid)
        ts = TokenServer(self.tmp)
        proc = None
        try:
            reg, proc = self.start_registry("registry-push-token", auth=ts.registry_auth_yaml())
            authfile = os.path.join(self.tmp, "auth-push-token", "config.json")
            name = f"{reg}/team/busybox:v1"
            self.swctr("tag", f"{self.reg}/busybox:latest", name)
            self.swctr("login", "--authfile", authfile, "--tls-verify=false", "-u", token_server.USER, "-p", token_server.PASSWORD, reg)
            seen = len(ts.requests)
            r = self.sw_push("--authfile", authfile, "--tls-verify=false", name)
            asked = ts.requests[seen:]
            scopes = [set(s.rpartition(":")[2].split(",")) for q in asked for s in q["query"].get("scope", [])]
            t.check(r.returncode == 0 and {"pull", "push"} in scopes,
                    "swctr push: a token registry is asked for the pull,push scope", r.stderr + str(asked))
        finally:
            if proc:
                stop_pid(proc.pid)
            ts.close()

    def push_refused(self):
        t = self.tap
        proxy = FaultProxy(self.port, refuse=404)
        try:
            name = f"127.0.0.1:{proxy.port}/refused:v1"
            self.swctr("tag", f"{self.reg}/busybox:latest", name)
            r = self.sw_push("--tls-verify=false", name)
        finally:
            proxy.close()
        t.check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "404" in r.stderr,
                "swctr push: a registry answering 404 to the upload: a one-line error naming it", r.stderr)
        # A store whose layer blob was damaged, pushed to a registry that has nothing yet (so the
        # blob is uploaded): the registry finds the digest wrong, no tag is made.
        damaged = os.path.join(self.tmp, "store-damaged")
        shutil.copytree(self.root, damaged, symlinks=True)
        reg, proc = self.start_registry("registry-damaged")
        try:
            name = f"{reg}/damaged/busybox:v1"
            run([self.bin, "tag", "--root", damaged, f"{self.reg}/busybox:latest", name])
            info = json.loads(run([self.bin, "inspect", "--root", damaged, name]).stdout or "[{}]")[0]
            manifest = json.load(open(os.path.join(damaged, "blobs", "sha256", info.get("Digest", ":").split(":")[1])))
            blob = os.path.join(damaged, "blobs", "sha256", manifest["layers"][0]["digest"].split(":")[1])
            with open(blob, "r+b") as f:
                f.seek(100)
                f.write(b"damage")
            r = self.sw_push("--tls-verify=false", name, root=damaged)
            listed = run(["curl", "-s", f"http://{reg}/v2/damaged/busybox/tags/list"]).stdout
        finally:
            stop_pid(proc.pid)
        t.check(r.returncode == 1 and "digest" in r.stderr.lower() and len(r.stderr.strip().splitlines()) == 1 and "v1" not in listed,
                "swctr push: a blob whose digest the registry finds wrong is refused; no tag is made", r.stderr + listed)
        r = self.sw_push("--tls-verify=false", f"{self.reg}/never/made:v1")
        t.check(r.returncode == 1 and "does not exist locally" in r.stderr, "swctr push: an image the store lacks", r.stderr)
