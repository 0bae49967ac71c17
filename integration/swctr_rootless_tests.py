"""swctr without root: a throwaway account with subordinate id ranges runs swctr on its own store
(~/.local/share/swctr). Every command joins the account's user and mount namespaces, held by
one process; the overlays live there, swrunc runs rootless inside, the default network is
slirp4netns with ports published on the host's loopback."""
import os
import socket
import stat
import urllib.request

from harness import run, unique, wait_for
from rootless_account import RootlessAccount

SWCTR_BIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swctr", ".build", "release")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


class SwctrRootless:
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.account = RootlessAccount(cleanup, prefix="swrs")
        # swctr finds swrunc and swctr-monitor next to itself: all three in one directory the
        # account owns.
        self.bin = os.path.join(self.account.home, "bin")
        os.makedirs(self.bin)
        for path in (swrunc, os.path.join(SWCTR_BIN, "swctr"), os.path.join(SWCTR_BIN, "swctr-monitor")):
            self.account.give(path, os.path.join("bin", os.path.basename(path)))
        os.chown(self.bin, self.account.uid, self.account.uid)
        self.archive = self.account.give(archive, "busybox.tar")
        self.store = os.path.join(self.account.home, ".local", "share", "swctr")
        # slirp4netns opens /dev/net/tun as the user: Debian's udev makes it 0666, this VM has
        # no udev (0600). Put back as found.
        self.tun_mode = stat.S_IMODE(os.stat("/dev/net/tun").st_mode)
        if self.tun_mode != 0o666:
            os.chmod("/dev/net/tun", 0o666)
            cleanup.add("/dev/net/tun mode", lambda: os.chmod("/dev/net/tun", self.tun_mode))
        cleanup.add("rootless swctr containers", self.remove_all)

    def sw(self, *args, timeout=120):
        return self.account.run(["swctr", *args], timeout=timeout, path_first=self.bin)

    def remove_all(self):
        ids = self.sw("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            self.sw("rm", "-f", *ids)

    def holder(self):
        try:
            with open(os.path.join(self.account.xdg, "swctr", "holder.pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def tests(self):
        t = self.tap
        acct = self.account
        r = self.sw("load", "-i", self.archive)
        if not t.check(r.returncode == 0, "swctr rootless: load into the account's store", r.stderr):
            return
        holder = self.holder()
        t.check(holder is not None and os.path.exists(f"/proc/{holder}"),
                "swctr rootless: the account's namespace holder runs, its pid under $XDG_RUNTIME_DIR/swctr", str(holder))
        subuid = acct.subordinate("/etc/subuid")
        layers = os.path.join(self.store, "layers")
        owners = {os.lstat(os.path.join(layers, d, "bin")).st_uid for d in os.listdir(layers)
                  if os.path.exists(os.path.join(layers, d, "bin"))}
        t.check(owners == {acct.uid}, "swctr rootless: layer files owned by root in the image belong to the account on the host",
                str(owners))

        r = self.sw("run", "--rm", "--network", "none", "busybox", "sh", "-c", "id -u; cat /proc/self/uid_map")
        rows = [line.split() for line in r.stdout.strip().splitlines()]
        t.check(r.returncode == 0 and rows == [["0"], ["0", str(acct.uid), "1"], ["1", str(subuid[0]), str(subuid[1])]],
                "swctr rootless: run --rm as the account's root, its subordinate range as the other ids",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        r = self.sw("run", "--rm", "--network", "none", "busybox", "sh", "-c", "exit 7")
        t.check(r.returncode == 7, "swctr rootless: the container's exit status", f"exit {r.returncode} {r.stderr}")
        t.check(self.holder() == holder, "swctr rootless: later commands join the same holder", f"{holder} → {self.holder()}")

        # A non-root user of the container writes as an id of the subordinate range.
        scratch = os.path.join(acct.home, "scratch")
        os.makedirs(scratch)
        os.chown(scratch, acct.uid, acct.uid)
        self.sw("run", "--rm", "--network", "none", "-v", f"{scratch}:/out", "busybox", "chmod", "777", "/out")
        r = self.sw("run", "--rm", "--network", "none", "-u", "1000:1000", "-v", f"{scratch}:/out", "busybox",
                    "touch", "/out/by-1000")
        made = os.path.join(scratch, "by-1000")
        owner = os.lstat(made).st_uid if os.path.exists(made) else None
        t.check(r.returncode == 0 and owner == subuid[0] + 999,
                "swctr rootless: a file the container's uid 1000 makes belongs to subordinate id start+999",
                f"exit {r.returncode} {r.stderr} owner {owner}")

        # Detached, on the default network (slirp4netns), a port published on loopback.
        port = free_port()
        name = unique("web")
        r = self.sw("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:80", "busybox", "sh", "-c",
                    "mkdir -p /www && echo rootless-answer > /www/index.html && exec httpd -f -p 80 -h /www")
        t.check(r.returncode == 0, "swctr rootless: run -d on the default network with -p", r.stderr)

        def fetch():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
                return resp.read().decode().strip()
        got = wait_for(fetch, timeout=20)
        t.check(got == "rootless-answer", "swctr rootless: the host reaches the container through the published port", str(got))
        inspect = self.sw("inspect", "-f", "{{.HostConfig.NetworkMode}}", name).stdout.strip()
        t.check(inspect == "slirp4netns", "swctr rootless: the default network is slirp4netns", inspect)
        r = self.sw("exec", name, "sh", "-c", "echo exec-ok $(id -u); ip -o -4 addr show tap0")
        t.check(r.returncode == 0 and r.stdout.startswith("exec-ok 0") and "10.0.2.100" in r.stdout,
                "swctr rootless: exec joins the container (tap0 at 10.0.2.100)", f"{r.stdout}\n{r.stderr}")
        r = self.sw("port", name)
        t.check(r.stdout.strip() == f"80/tcp -> 127.0.0.1:{port}", "swctr rootless: port", r.stdout + r.stderr)
        host_mounts = open("/proc/self/mountinfo").read()
        holder_mounts = open(f"/proc/{holder}/mountinfo").read() if holder else ""
        cid = self.sw("inspect", "-f", "{{.Id}}", name).stdout.strip()
        t.check(cid and cid in holder_mounts and cid not in host_mounts,
                "swctr rootless: the container's overlay is mounted in the account's namespace, not the host's",
                f"id {cid}")

        # As Docker: the container stays created; nothing of its network is left.
        other = unique("clash")
        r = self.sw("run", "-d", "--name", other, "-p", f"127.0.0.1:{port}:80", "busybox", "sleep", "60")
        st = self.sw("inspect", "-f", "{{.State.Status}}", other).stdout.strip()
        oid = self.sw("inspect", "-f", "{{.Id}}", other).stdout.strip()
        odir = os.path.join(self.store, "containers", oid)
        network_left = [f for f in ("netns", "slirp4netns.pid") if oid and os.path.exists(os.path.join(odir, f))]
        slirps = [p for p in acct.processes() if oid and oid in cmdline(p)]
        t.check(r.returncode == 125 and len(r.stderr.strip().splitlines()) == 1 and str(port) in r.stderr
                and st == "created" and not network_left and not slirps,
                "swctr rootless: a published port in use is one line, exit 125; the container stays created, no network left",
                f"exit {r.returncode} {r.stderr} status {st} left {network_left} {slirps}")
        self.sw("rm", other)
        r = self.sw("run", "--rm", "--network", "somenet", "busybox", "true")
        t.check(r.returncode == 125 and "rootless" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
                "swctr rootless: a network of its own is refused in one line", f"exit {r.returncode} {r.stderr}")

        r = self.sw("run", "--rm", "--network", "host", "busybox", "sh", "-c", "ls /sys/class/net")
        t.check(r.returncode == 0 and "lo" in r.stdout.split(), "swctr rootless: --network host (the host's /sys bound)",
                f"exit {r.returncode} {r.stdout} {r.stderr}")

        # A build: RUN's ownership changes survive into the layer as subordinate ids.
        ctx = os.path.join(acct.home, "ctx")
        os.makedirs(ctx)
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write("FROM busybox\nRUN echo built > /built && chown 1234:1234 /built\nCOPY note /note\nCMD cat /built /note\n")
        with open(os.path.join(ctx, "note"), "w") as f:
            f.write("copied\n")
        for p in (ctx, os.path.join(ctx, "Dockerfile"), os.path.join(ctx, "note")):
            os.chown(p, acct.uid, acct.uid)
        tag = unique("rlbuild")
        r = self.sw("build", "-q", "-t", tag, ctx)
        t.check(r.returncode == 0, "swctr rootless: build", r.stderr)
        r = self.sw("run", "--rm", "--pull", "never", "--network", "none", tag, "sh", "-c", "cat /built /note; stat -c %u /built")
        t.check(r.returncode == 0 and r.stdout.split() == ["built", "copied", "1234"],
                "swctr rootless: the built image runs, RUN's chown kept", f"{r.stdout}\n{r.stderr}")

        # A named volume keeps data across containers; cp and commit work on the rootless store.
        vol = unique("rlvol")
        r1 = self.sw("run", "--rm", "--network", "none", "-v", f"{vol}:/data", "busybox", "sh", "-c",
                     "echo kept > /data/f && chown 1000 /data/f")
        r2 = self.sw("run", "--rm", "--network", "none", "-v", f"{vol}:/data:ro", "busybox", "sh", "-c", "cat /data/f; stat -c %u /data/f")
        t.check(r1.returncode == 0 and r2.stdout.split() == ["kept", "1000"], "swctr rootless: a named volume",
                f"{r1.stderr} {r2.stdout} {r2.stderr}")
        self.sw("volume", "rm", vol)
        r = self.sw("exec", name, "sh", "-c", "echo changed > /www/index.html")
        out = os.path.join(acct.home, "copied")
        cp = self.sw("cp", f"{name}:/www/index.html", out)
        copied = open(out).read().strip() if os.path.exists(out) else ""
        committed = unique("rlcommit")
        c = self.sw("commit", name, committed)
        # --pull never: a failed commit must not send the test to a registry.
        shown = self.sw("run", "--rm", "--pull", "never", "--network", "none", committed, "cat", "/www/index.html")
        t.check(cp.returncode == 0 and copied == "changed" and c.returncode == 0 and shown.stdout.strip() == "changed",
                "swctr rootless: cp out of a container and commit it", f"{cp.stderr} {copied!r} {c.stderr} {shown.stdout} {shown.stderr}")

        # The holder dies (a kill, an OOM): the next command starts a new one; a container of the
        # old one (its overlay went with that namespace) can still be removed, nothing left.
        orphan = unique("orphan")
        r = self.sw("run", "-d", "--name", orphan, "--network", "none", "busybox", "sleep", "1000")
        old = self.holder()
        if old:
            os.kill(old, 9)
            wait_for(lambda: not os.path.exists(f"/proc/{old}"), timeout=10)
        ps = self.sw("ps", "-a", "--format", "{{.Names}}")
        new_holder = self.holder()
        rm = self.sw("rm", "-f", orphan)
        oid_left = [p for p in acct.processes() if "sleep 1000" in cmdline(p)]
        t.check(r.returncode == 0 and ps.returncode == 0 and orphan in ps.stdout.split() and new_holder not in (None, old)
                and rm.returncode == 0 and not oid_left and orphan not in self.sw("ps", "-a", "--format", "{{.Names}}").stdout.split(),
                "swctr rootless: after the holder is killed, a new one serves the next command and rm -f cleans up",
                f"{r.stderr} ps {ps.stdout} {ps.stderr} holder {old}→{new_holder} rm {rm.stderr} left {oid_left}")

        r = self.sw("stop", "-t", "1", name, timeout=60)
        st = self.sw("inspect", "-f", "{{.State.Status}}", name).stdout.strip()
        t.check(r.returncode == 0 and st == "exited", "swctr rootless: stop", f"{r.stderr} status {st}")
        r = self.sw("rm", name)
        slirps = [p for p in acct.processes() if "slirp4netns" in cmdline(p)]
        left = os.listdir(os.path.join(self.store, "containers"))
        t.check(r.returncode == 0 and not slirps and not left,
                "swctr rootless: rm leaves no slirp4netns and no container directory", f"{r.stderr} {slirps} {left}")
