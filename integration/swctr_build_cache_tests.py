"""swctr build: the layer cache (a rebuild with nothing changed, a changed file, build args,
--no-cache, builder prune), what buildah 1.28 cannot build (heredocs, ADD --checksum, RUN
--network), the CLI (-q, --iidfile, -f, a context or a Dockerfile on stdin, --label, --target,
history, run of the result) and bad input (a one-line error naming the line, nothing recorded).
A mixin of SwctrBuild (swctr_build_tests.py)."""
import hashlib
import json
import os
import subprocess

from harness import run, unique, wait_for
from swctr_build_cases import write

CACHED = r"""FROM busybox
ARG MODE=fast
COPY first.bin /first.bin
RUN echo "run one $MODE" > /one && cat /proc/sys/kernel/random/uuid > /one.id
COPY second.bin /second.bin
RUN cat /proc/sys/kernel/random/uuid > /two.id
CMD ["cat", "/one"]
"""

HEREDOCS = r"""# escape=`
FROM busybox
ARG WHO=world
COPY <<EOF /greeting.txt
hello ${WHO}
EOF
COPY <<-'RAW' <<NOTE /etc/app/
	literal $WHO
	RAW
note for $WHO
NOTE
RUN <<SCRIPT
set -e
echo "from a heredoc script: $WHO" > /script.out
SCRIPT
RUN <<PY
#!/bin/sh
echo "shebang $0" > /shebang.out
PY
RUN cat <<EOF > /cat.out && echo `
    continued >> /cat.out
inline heredoc
EOF
ADD --checksum={checksum} {url}/remote.txt /checked.txt
RUN --network=none ip -o link | grep -c . > /links.count
RUN --mount=type=cache,id=counter,target=/c echo x >> /c/n && wc -l < /c/n > /count
"""


class BuildCacheTests:
    def cache_tests(self):
        t = self.tap
        ctx = os.path.join(self.tmp, "ctx-cache")
        write(ctx, "first.bin", os.urandom(2 << 20))
        write(ctx, "second.bin", os.urandom(2 << 20))
        write(ctx, "Dockerfile", CACHED)
        r = self.build(ctx, "-t", "cached:1")
        iid = self.image_id("cached:1")
        r2 = self.build(ctx, "-t", "cached:2")
        t.check(r.returncode == 0 and r2.returncode == 0 and r2.stderr.count("CACHED") == 4 and self.image_id("cached:2") == iid,
                "swctr build cache: a rebuild with nothing changed takes every step from the cache and gives the same image ID",
                r.stderr[-1500:] + r2.stderr[-1500:])
        one = self.cat("cached:2", "/one.id")
        two = self.cat("cached:2", "/two.id")
        write(ctx, "second.bin", os.urandom(2 << 20))
        r = self.build(ctx, "-t", "cached:3")
        t.check(r.returncode == 0 and r.stderr.count("CACHED") == 2 and self.cat("cached:3", "/one.id") == one
                and self.cat("cached:3", "/two.id") != two,
                "swctr build cache: a changed file re-runs its COPY and the steps after it only", r.stderr[-1500:])
        os.chmod(os.path.join(ctx, "first.bin"), 0o600)
        r = self.build(ctx, "-t", "cached:4")
        t.check(r.returncode == 0 and r.stderr.count("CACHED") == 0 and self.cat("cached:4", "/one.id") != one,
                "swctr build cache: a changed mode of a source is a changed source", r.stderr[-1500:])
        r = self.build(ctx, "-t", "cached:5", "--build-arg", "MODE=slow")
        t.check(r.returncode == 0 and r.stderr.count("CACHED") == 1 and self.cat("cached:5", "/one").strip() == "run one slow",
                "swctr build cache: a build arg a RUN sees re-runs it (the COPY before it stays cached)", r.stderr[-1500:])
        r = self.build(ctx, "-t", "cached:6", "--no-cache")
        t.check(r.returncode == 0 and "CACHED" not in r.stderr and self.cat("cached:6", "/one.id") != self.cat("cached:4", "/one.id"),
                "swctr build --no-cache: every step runs", r.stderr[-1500:])
        r = self.sw("history", "cached:6")
        t.check(r.returncode == 0 and "COPY second.bin /second.bin" in r.stdout and "2.1MB" in r.stdout and "0B" in r.stdout,
                "swctr history: each step of the build, with its layer's size", r.stdout)
        blobs = len(os.listdir(os.path.join(self.root, "blobs", "sha256")))
        self.sw("rmi", "cached:1", "cached:2", "cached:3", "cached:4", "cached:5")
        r = self.sw("builder", "prune", "-f")
        after = len(os.listdir(os.path.join(self.root, "blobs", "sha256")))
        r2 = self.build(ctx, "-t", "cached:7")
        t.check(r.returncode == 0 and "Deleted build cache objects:" in r.stdout and after < blobs
                and r2.returncode == 0 and "CACHED" not in r2.stderr,
                "swctr builder prune: the cache and the layers only it kept go; the next build runs every step",
                f"{r.stdout}{r.stderr} blobs {blobs} -> {after}\n{r2.stderr[-800:]}")
        self.heredoc_tests()

    def heredoc_tests(self):
        t = self.tap
        ctx = os.path.join(self.tmp, "ctx-heredoc")
        os.makedirs(ctx)
        checksum = "sha256:" + hashlib.sha256(open(os.path.join(self.files, "remote.txt"), "rb").read()).hexdigest()
        write(ctx, "Dockerfile", HEREDOCS.replace("{url}", self.server.url).replace("{checksum}", checksum))
        r = self.build(ctx, "-t", "heredocs", "--build-arg", "WHO=swctr")
        got = self.sw("run", "--rm", "--network", "none", "--cgroup-parent", f"/{self.cgroup}", "heredocs", "sh", "-c",
                      "cat /greeting.txt /etc/app/RAW /etc/app/NOTE /script.out /shebang.out /cat.out /checked.txt /links.count /count")
        want = ("hello swctr\nliteral $WHO\nnote for swctr\nfrom a heredoc script: swctr\nshebang /dev/pipes/PY\n"
                "inline heredoc\ncontinued\nfetched over http\n1\n1\n")
        t.check(r.returncode == 0 and got.stdout == want,
                "swctr build: heredocs (COPY, <<- and quoted, RUN scripts with and without #!), the escape directive, "
                "ADD --checksum, RUN --network=none (only lo)", r.stderr[-2000:] + "\n" + got.stdout + got.stderr)
        r = self.build(ctx, "-t", "heredocs2", "--no-cache", "--build-arg", "WHO=swctr")
        got = self.sw("run", "--rm", "--network", "none", "--cgroup-parent", f"/{self.cgroup}", "heredocs2", "cat", "/count")
        t.check(r.returncode == 0 and got.stdout == "2\n", "swctr build: a cache mount keeps its content from one build to the next",
                r.stderr[-800:] + got.stdout)
        bad = os.path.join(self.tmp, "ctx-badsum")
        write(bad, "Dockerfile", f"FROM busybox\nADD --checksum=sha256:{'0' * 64} {self.server.url}/remote.txt /x\n")
        r = self.build(bad, "-t", "badsum")
        t.check(r.returncode == 1 and "Dockerfile:2:" in r.stderr and "digest mismatch" in r.stderr and self.image_id("badsum") is None,
                "swctr build: ADD --checksum that does not match is refused", r.stderr[-500:])

    def image_id(self, ref):
        r = self.sw("inspect", "--type", "image", "-f", "{{.Id}}", ref)
        return r.stdout.strip() if r.returncode == 0 else None

    def cat(self, image, path):
        r = self.sw("run", "--rm", "--network", "none", "--cgroup-parent", f"/{self.cgroup}", image, "cat", path)
        return r.stdout

    def cli_tests(self):
        t = self.tap
        ctx = os.path.join(self.tmp, "ctx-cli")
        write(ctx, "Dockerfile", "FROM busybox\nCOPY hello /hello\nCMD [\"cat\", \"/hello\"]\n")
        write(ctx, "other.Dockerfile", "FROM busybox AS one\nRUN echo one > /which\nFROM busybox AS two\nRUN echo two > /which\n"
                                       "FROM one\nRUN exit 3\n")
        write(ctx, "hello", "hello from the context\n")
        iid = os.path.join(self.tmp, "iid")
        r = self.build(ctx, "-q", "--iidfile", iid, "-t", "cli:q", "--label", "built.by=swctr")
        labels = self.sw("inspect", "-f", "{{json .Config.Labels}}", "cli:q").stdout
        ran = self.sw("run", "--rm", "--network", "none", "--cgroup-parent", f"/{self.cgroup}", "cli:q")
        t.check(r.returncode == 0 and r.stdout.strip().startswith("sha256:") and len(r.stdout.split()) == 1
                and open(iid).read() == r.stdout.strip() and '"built.by":"swctr"' in labels.replace(" ", "")
                and ran.stdout == "hello from the context\n",
                "swctr build -q --iidfile --label: only the ID on stdout, the same ID in the file; the image runs",
                r.stdout + r.stderr + labels + ran.stderr)
        r = self.build(ctx, "-f", os.path.join(ctx, "other.Dockerfile"), "--target", "two", "-t", "cli:two")
        t.check(r.returncode == 0 and self.cat("cli:two", "/which") == "two\n" and "[one" not in r.stderr,
                "swctr build -f --target: the target stage only; stages it does not need are skipped", r.stderr[-1000:])
        tarred = subprocess.run(["tar", "-C", ctx, "-c", "."], capture_output=True).stdout
        r = self.build("-", "-t", "cli:stdin", input=tarred)
        t.check(r.returncode == 0 and self.cat("cli:stdin", "/hello") == "hello from the context\n",
                "swctr build -: a context tar on stdin", r.stderr[-800:])
        r = self.build("-", "-t", "cli:dockerfile", input=b"FROM busybox\nRUN echo no context > /note\n")
        t.check(r.returncode == 0 and self.cat("cli:dockerfile", "/note") == "no context\n",
                "swctr build - < Dockerfile: a Dockerfile on stdin, without a context", r.stderr[-800:])
        r = self.sw("images")
        t.check("cli" in r.stdout and "two" in r.stdout, "swctr images lists built images", r.stdout)
        # Set-id bits survive COPY, with --chown too (buildah 1.28 drops them there).
        write(ctx, "setid/tool", "#!/bin/sh\n", 0o4755)
        write(ctx, "setid/shared", "group\n", 0o2775)
        write(ctx, "setid.Dockerfile", "FROM busybox\nCOPY setid /plain/\nCOPY --chown=1:1 setid /chowned/\n")
        r = self.build(ctx, "-f", os.path.join(ctx, "setid.Dockerfile"), "-t", "cli:setid")
        got = self.sw("run", "--rm", "--network", "none", "--cgroup-parent", f"/{self.cgroup}", "cli:setid", "stat", "-c", "%a %u %n",
                      "/plain/tool", "/plain/shared", "/chowned/tool", "/chowned/shared")
        t.check(r.returncode == 0 and got.stdout.split("\n")[:4] == ["4755 0 /plain/tool", "2775 0 /plain/shared",
                                                                     "4755 1 /chowned/tool", "2775 1 /chowned/shared"],
                "swctr build: COPY keeps setuid and setgid bits, with and without --chown", r.stderr[-500:] + got.stdout + got.stderr)

    def bad_input_tests(self):
        t = self.tap
        before = self.sw("images", "-q").stdout.split()

        def refused(name, dockerfile, files, expect, what):
            ctx = os.path.join(self.tmp, "ctx-bad-" + name)
            for rel, data in files.items():
                write(ctx, rel, data)
            write(ctx, "Dockerfile", dockerfile)
            r = self.build(ctx, "-t", "bad-" + name)
            last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
            mounts = [l for l in open("/proc/self/mountinfo") if self.root in l]
            leftovers = os.listdir(os.path.join(self.root, "tmp"))
            t.check(r.returncode == 1 and all(e in last for e in expect) and last.startswith("swctr: ")
                    and self.image_id("bad-" + name) is None and not mounts and not leftovers,
                    f"swctr build: {what}: a one-line error naming it; no image, mount or temporary file left",
                    r.stderr[-1500:] + f"\nmounts {mounts}\ntmp {leftovers}")
            return r

        refused("syntax", "FROM busybox\nRUN true\n\n# comment\nENV A=b\nLABEL x=y\nRUNN echo\n", {},
                ["Dockerfile:7:", "unknown instruction: RUNN"], "a syntax error")
        refused("missing", "FROM busybox\nCOPY nothere /x\n", {}, ["Dockerfile:2:", "nothere", "not found"], "a missing COPY source")
        refused("escape", "FROM busybox\nCOPY ../../etc/passwd /x\n", {}, ["Dockerfile:2:", "outside the build context"],
                "a COPY source above the context")
        ctx = os.path.join(self.tmp, "ctx-bad-symlink")
        os.makedirs(ctx)
        os.symlink("/etc/passwd", os.path.join(ctx, "leak"))
        refused("symlink", "FROM busybox\nCOPY leak /x\n", {}, ["Dockerfile:2:", "outside the build context"],
                "a COPY source that is a symlink out of the context")
        # Not a stage, so an image: on a loopback port nothing listens on (nothing else is asked).
        refused("stage", "FROM busybox AS a\nFROM busybox\nCOPY --from=127.0.0.1:9/nosuchstage /x /y\n", {},
                ["Dockerfile:3:", "nosuchstage"], "an unknown stage or image in COPY --from")
        ctx = os.path.join(self.tmp, "ctx-bad-run")
        write(ctx, "Dockerfile", "FROM busybox\nRUN echo first > /first\nRUN echo going wrong; exit 3\n")
        r = self.build(ctx, "-t", "bad-run")
        r2 = self.build(ctx, "-t", "bad-run")
        t.check(r.returncode == 1 and "going wrong" in r.stderr and "exit code: 3" in r.stderr and "Dockerfile:3:" in r.stderr
                and self.image_id("bad-run") is None and r2.stderr.count("CACHED") == 1,
                "swctr build: a failing RUN shows its output and exit status, records no image, and the steps before it stay cached",
                r.stderr[-1500:] + r2.stderr[-800:])
        r = self.build(ctx, "-t", "bad-target", "--target", "nosuch")
        t.check(r.returncode == 1 and "nosuch" in r.stderr, "swctr build --target of an unknown stage", r.stderr)
        r = self.sw("build", os.path.join(self.tmp, "no-such-context"))
        t.check(r.returncode == 1 and "no-such-context" in r.stderr, "swctr build of a missing context", r.stderr)
        after = self.sw("images", "-q").stdout.split()
        t.check(sorted(before) == sorted(after), "swctr build: failed builds left no image behind", f"{before} {after}")
        self.killed_build()

    def killed_build(self):
        """SIGKILL of swctr while a RUN runs: the next commands unmount and sweep its step and
        delete its container; nothing of it is left."""
        t = self.tap
        ctx = os.path.join(self.tmp, "ctx-killed")
        write(ctx, "Dockerfile", "FROM busybox\nRUN echo started; sleep 60\n")
        log = open(os.path.join(self.tmp, "killed-build.log"), "w")
        p = subprocess.Popen([self.bin, "--root", self.root, "--runtime", self.rec.path, "build", "--cgroup-parent", f"/{self.cgroup}",
                              "-t", "killed", ctx], stdout=log, stderr=subprocess.STDOUT)
        runtime_root = os.path.join(self.root, "swrunc")
        steps = lambda: [n for n in os.listdir(runtime_root) if n.startswith("swctr-step-")] if os.path.isdir(runtime_root) else []  # noqa: E731
        started = wait_for(lambda: "started" in open(log.name).read(), timeout=60)
        p.kill()
        p.wait()
        left_running = steps()
        r = self.sw("images")
        r2 = self.build(os.path.join(self.tmp, "ctx-cli"), "-t", "after-kill")
        mounts = [l for l in open("/proc/self/mountinfo") if self.root in l]
        t.check(started and left_running and r.returncode == 0 and r2.returncode == 0 and not steps() and not mounts
                and not os.listdir(os.path.join(self.root, "tmp")) and self.image_id("killed") is None,
                "swctr build killed during a RUN: the next commands sweep its overlay and delete its container",
                f"running then {left_running}, after {steps()}, mounts {mounts}\n{r2.stderr[-500:]}")

