"""swctr compose with real containers: the seeds' application — a backend built from a
Dockerfile (busybox httpd with a CGI script) reading a database service (busybox httpd serving a
named volume) over the project network by service name, the database health-checked and the
backend waiting for it to be healthy, one port published. up/down keep or drop the data,
scaling makes resolvable replicas, up is idempotent and recreates only what changed, and bad
input is a one-line error with nothing left running. Only loopback and addresses on the
project's own bridges are contacted."""
import json
import os
import subprocess
import time

from harness import Recorder, run, unique, remove_cgroup_tree, rmtree, mkdtemp, wait_for
from swctr_compose_bad_tests import ComposeBadInput
from swctr_network_tests import fetch, free_port

SWCTR_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "swctr")

APP = """\
services:
  db:
    image: busybox
    command: ["sh", "-c", "[ -f /data/value ] || echo 42 > /data/value; exec httpd -f -p 5432 -h /data"]
    init: true
    cgroup_parent: ${CG}
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:5432/value"]
      interval: 1s
      retries: 30
  backend:
    build: ./backend
    init: true
    cgroup_parent: ${CG}
    environment:
      - MODE=${MODE:-first}
    depends_on:
      db:
        condition: service_healthy
    ports: ["${BACKEND_PORTS}"]
  tools:
    image: busybox
    profiles: ["debug"]
    cgroup_parent: ${CG}
    command: ["sleep", "1000"]
volumes:
  data:
"""

CGI = """#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "db says: $(wget -qO- http://db:5432/value)"
"""


class SwctrCompose(ComposeBadInput):
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.archive = archive
        self.tmp = mkdtemp("swrunc-it-compose-")
        cleanup.add("swctr compose tmp", lambda: rmtree(self.tmp))
        self.bin = os.path.join(SWCTR_DIR, ".build", "release", "swctr")
        self.root = os.path.join(self.tmp, "store")
        self.cgroup = unique("swctr-compose-it")
        cleanup.add("swctr compose cgroups", lambda: remove_cgroup_tree(self.cgroup))
        cleanup.add("swctr compose projects", self.remove_all)
        self.rec = Recorder(self.tmp, swrunc, "swctr-compose")
        self.port = free_port()
        self.project = unique("shop")
        self.app = os.path.join(self.tmp, self.project)
        os.makedirs(os.path.join(self.app, "backend", "cgi-bin"))
        with open(os.path.join(self.app, "compose.yaml"), "w") as f:
            f.write(APP)
        with open(os.path.join(self.app, "backend", "Dockerfile"), "w") as f:
            f.write('FROM busybox\nCOPY cgi-bin /www/cgi-bin\nCMD ["httpd", "-f", "-p", "80", "-h", "/www"]\n')
        cgi = os.path.join(self.app, "backend", "cgi-bin", "value")
        with open(cgi, "w") as f:
            f.write(CGI)
        os.chmod(cgi, 0o755)

    def env(self, **extra):
        e = dict(os.environ, CG=f"/{self.cgroup}", BACKEND_PORTS=f"127.0.0.1:{self.port}:80")
        e.update(extra)
        return e

    def compose(self, *args, cwd=None, env=None, timeout=300):
        """swctr compose in the project's directory (the project's name is the directory's)."""
        argv = [self.bin, "--root", self.root, "--runtime", self.rec.path, "compose", *args]
        with open(os.path.join(self.tmp, "compose.out"), "w+") as out, open(os.path.join(self.tmp, "compose.err"), "w+") as err:
            try:
                p = subprocess.run(argv, cwd=cwd or self.app, env=env or self.env(), stdout=out, stderr=err, timeout=timeout,
                                   stdin=subprocess.DEVNULL)
                code = p.returncode
            except subprocess.TimeoutExpired:
                code = 124
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(argv, code, out.read(), err.read())

    def sw(self, *args):
        return run([self.bin, "--root", self.root, "--runtime", self.rec.path, *args])

    def ids(self, project=None, all=True):
        return self.sw("ps", *(["-a"] if all else []), "-q", "--no-trunc", "--filter",
                       f"label=com.docker.compose.project={project or self.project}").stdout.split()

    def service_ids(self, service):
        return self.sw("ps", "-aq", "--no-trunc", "--filter", f"label=com.docker.compose.project={self.project}",
                       "--filter", f"label=com.docker.compose.service={service}").stdout.split()

    def remove_all(self):
        ids = self.sw("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            self.sw("rm", "-f", "-v", *ids)
        for n in self.sw("network", "ls", "-q").stdout.split():
            self.sw("network", "rm", n)

    def tests(self):
        t = self.tap
        if not t.check(os.access(self.bin, os.X_OK), "swctr compose: built", self.bin):
            return
        r = self.sw("load", "-i", self.archive)
        if not t.check(r.returncode == 0, "swctr compose: the busybox image loaded", r.stderr):
            return
        url = f"http://127.0.0.1:{self.port}/cgi-bin/value"
        r = self.compose("config")
        t.check(r.returncode == 0 and f"name: {self.project}" in r.stdout and "backend:" in r.stdout and "tools:" not in r.stdout,
                "swctr compose config: the normalised model (the profile's service left out)", r.stdout + r.stderr)
        started = time.monotonic()
        r = self.compose("up", "-d")
        answer = fetch(url)
        took = time.monotonic() - started
        net = json.loads(self.sw("network", "inspect", f"{self.project}_default").stdout or "[{}]")[0]
        t.check(r.returncode == 0 and answer == "db says: 42\n" and len(self.ids(all=False)) == 2
                and net.get("Labels", {}).get("com.docker.compose.project") == self.project
                and self.sw("volume", "inspect", f"{self.project}_data").returncode == 0,
                f"swctr compose up -d: the backend answers through its port with the database's value, by service name ({took:.1f} s)",
                r.stdout + r.stderr + str(answer))
        before = sorted(self.ids())
        r = self.compose("up", "-d")
        t.check(r.returncode == 0 and sorted(self.ids()) == before and "Created" not in r.stderr and "Running" in r.stderr,
                "swctr compose up: with nothing changed nothing is recreated", r.stderr)
        db, backend = self.service_ids("db"), self.service_ids("backend")
        r = self.compose("up", "-d", env=self.env(MODE="second"))
        t.check(r.returncode == 0 and self.service_ids("db") == db and self.service_ids("backend") != backend
                and wait_for(lambda: fetch(url) == "db says: 42\n", timeout=10),
                "swctr compose up: a changed service (config hash) is recreated alone", r.stderr)
        self.data_tests(url)
        self.scale_tests()
        self.run_tests()
        r = self.compose("down", "-v")
        leftovers = self.ids() + [n for n in self.sw("network", "ls", "-q", "--filter", f"name={self.project}").stdout.split()]
        vols = self.sw("volume", "ls", "-q").stdout.split()
        links = run(["ip", "-o", "link"]).stdout
        t.check(r.returncode == 0 and not leftovers and f"{self.project}_data" not in vols and fetch(url) is None
                and not [l for l in run(["ip", "netns", "list"]).stdout.splitlines() if "swctr-" in l],
                "swctr compose down -v: no container, network, volume or namespace of the project is left",
                r.stderr + str(leftovers) + str(vols))
        self.bad_input_tests()

    def data_tests(self, url):
        t = self.tap
        r = self.compose("exec", "-T", "db", "sh", "-c", "echo 43 > /data/value")
        r2 = self.compose("down")
        gone = not self.ids()
        r3 = self.compose("up", "-d")
        t.check(r.returncode == 0 and r2.returncode == 0 and gone and r3.returncode == 0 and fetch(url) == "db says: 43\n",
                "swctr compose exec, down, up -d: the named volume keeps the data", r.stderr + r2.stderr + r3.stderr)
        r = self.compose("logs", "db")
        r2 = self.compose("logs", "--tail", "1", "--no-log-prefix", "backend")
        t.check(r.returncode == 0 and r2.returncode == 0 and all(line.startswith(f"{self.project}-db-1") for line in r.stdout.splitlines()),
                "swctr compose logs: each line prefixed by its container", r.stdout[-500:] + r.stderr)
        r = self.compose("stop", "backend")
        stopped = self.compose("ps", "-a", "--format", "{{.Name}} {{.State}}").stdout
        r2 = self.compose("start", "backend")
        t.check(r.returncode == 0 and f"{self.project}-backend-1 exited" in stopped and r2.returncode == 0
                and wait_for(lambda: fetch(url) == "db says: 43\n", timeout=10),
                "swctr compose stop/start", stopped + r.stderr + r2.stderr)
        r = self.compose("ps", "-q")
        r2 = self.sw("ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}")
        t.check(sorted(r.stdout.split()) == sorted(x for x in self.ids(all=False)) and len(r2.stdout.split()) == 2,
                "swctr compose ps -q; swctr ps --filter label=com.docker.compose.project=…", r.stdout + r2.stdout)

    def scale_tests(self):
        t = self.tap
        env = self.env(BACKEND_PORTS="127.0.0.1::80")
        r = self.compose("up", "-d", "--scale", "backend=3", env=env)
        names = self.compose("ps", "--format", "{{.Name}}", env=env).stdout.split()
        look = self.compose("run", "--rm", "--no-deps", "db", "nslookup", "backend", env=env)
        addrs = [l.split()[-1] for l in look.stdout.splitlines() if l.startswith("Address") and ":53" not in l]
        t.check(r.returncode == 0 and sorted(n for n in names if "backend" in n) == [f"{self.project}-backend-{i}" for i in (1, 2, 3)]
                and len(set(addrs)) == 3,
                "swctr compose up --scale backend=3: three replicas, each resolvable by the service's name",
                r.stderr[-800:] + str(names) + look.stdout + look.stderr)
        r = self.compose("up", "-d", "--scale", "backend=1", env=env)
        t.check(r.returncode == 0 and len(self.service_ids("backend")) == 1, "swctr compose up --scale backend=1: the surplus goes", r.stderr)
        r = self.compose("up", "-d")
        t.check(r.returncode == 0, "swctr compose up: back to the published port", r.stderr)

    def run_tests(self):
        t = self.tap
        r = self.compose("run", "--rm", "db", "cat", "/data/value")
        r2 = self.compose("run", "--rm", "--no-deps", "db", "sh", "-c", "exit 3")
        others = [i for i in self.sw("ps", "-aq", "--no-trunc").stdout.split() if i not in self.ids()]
        t.check(r.returncode == 0 and r.stdout == "43\n" and r2.returncode == 3 and not others,
                "swctr compose run --rm: a one-off container with the service's volumes; its exit status; removed after",
                r.stdout + r.stderr + r2.stderr)
        r = self.compose("--profile", "debug", "up", "-d")
        tools = self.service_ids("tools")
        r2 = self.compose("--profile", "debug", "stop", "tools")
        self.compose("--profile", "debug", "rm", "-f", "tools")
        t.check(r.returncode == 0 and len(tools) == 1 and r2.returncode == 0 and not self.service_ids("tools"),
                "swctr compose --profile: a profile's service starts only when its profile is enabled", r.stderr + r2.stderr)
        r = self.compose("top", "db")
        r2 = self.compose("port", "backend", "80")
        r3 = self.compose("images")
        t.check(r.returncode == 0 and "httpd" in r.stdout and r2.stdout.strip() == f"127.0.0.1:{self.port}"
                and f"{self.project}-backend" in r3.stdout,
                "swctr compose top, port, images", r.stdout + r2.stdout + r2.stderr + r3.stdout)
