"""swctr compose: bad input (a YAML error with its line and column, an unknown key with its path,
a dependency cycle, a missing required variable, a build that fails, a port in use) is a one-line
error and leaves nothing of the project running; depends_on service_completed_successfully; -f
files merged in order, .env and -p. A mixin of SwctrCompose (swctr_compose_tests.py)."""
import os
import socket

BROKEN_BUILD = """\
services:
  db:
    image: busybox
    cgroup_parent: ${CG}
    command: ["sleep", "1000"]
  web:
    build: ./web
    cgroup_parent: ${CG}
    depends_on: [db]
"""

PORT_CLASH = """\
services:
  db:
    image: busybox
    cgroup_parent: ${CG}
    command: ["sleep", "1000"]
  web:
    image: busybox
    cgroup_parent: ${CG}
    command: ["sleep", "1000"]
    depends_on: [db]
    ports: ["127.0.0.1:${TAKEN}:80"]
"""

MIGRATE = """\
services:
  migrate:
    image: busybox
    cgroup_parent: ${CG}
    command: ["sh", "-c", "echo migrated > /data/m; exit ${MIGRATE_STATUS:-0}"]
    volumes: ["data:/data"]
  app:
    image: busybox
    cgroup_parent: ${CG}
    command: ["sh", "-c", "cat /data/m; sleep 1000"]
    volumes: ["data:/data"]
    depends_on:
      migrate:
        condition: service_completed_successfully
volumes:
  data:
"""

BASE = """\
name: ${NAME_FROM_ENV}
services:
  one:
    image: busybox
    cgroup_parent: ${CG}
    command: ["sleep", "1000"]
    environment:
      A: from-base
"""

OVERRIDE = """\
services:
  one:
    environment:
      B: from-override
    labels:
      layer: override
"""


class ComposeBadInput:
    def project_dir(self, name, files):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        for rel, text in files.items():
            path = os.path.join(d, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        return d

    def refused(self, name, files, expect, what, env=None):
        t = self.tap
        d = self.project_dir(name, files)
        r = self.compose("up", "-d", cwd=d, env=env)
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        left = self.ids(project=name)
        t.check(r.returncode != 0 and all(e in last for e in expect) and not left
                and not self.sw("network", "ls", "-q", "--filter", f"name={name}_default").stdout.split(),
                f"swctr compose up: {what}: a one-line error, nothing of the project left", r.stderr[-1500:] + str(left))

    def bad_input_tests(self):
        self.refused("badyaml", {"compose.yaml": "services:\n  web:\n    image: busybox\n   bad: x\n"},
                     ["compose.yaml", "line 4, column 4"], "a YAML syntax error names its line and column")
        self.refused("badkey", {"compose.yaml": "services:\n  web:\n    image: busybox\n    portz: [80]\n"},
                     ["services.web.portz", "unknown key"], "an unknown key names its path")
        self.refused("cycle", {"compose.yaml": "services:\n  a:\n    image: busybox\n    depends_on: [b]\n"
                                               "  b:\n    image: busybox\n    depends_on: [a]\n"},
                     ["dependency cycle", "a -> b -> a"], "a cycle in depends_on")
        self.refused("needvar", {"compose.yaml": "services:\n  a:\n    image: ${IMG:?set IMG to an image}\n"},
                     ["required variable IMG", "set IMG to an image"], "a missing required variable")
        self.refused("brokenbuild", {"compose.yaml": BROKEN_BUILD, "web/Dockerfile": "FROM busybox\nRUN echo breaking; exit 4\n"},
                     ["web", "exit code: 4"], "a build that fails")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            taken = s.getsockname()[1]
            self.refused("portclash", {"compose.yaml": PORT_CLASH}, [str(taken)], "a host port in use (db, started first, goes again)",
                         env=self.env(TAKEN=str(taken)))
        self.dependency_tests()

    def dependency_tests(self):
        t = self.tap
        d = self.project_dir("migrations", {"compose.yaml": MIGRATE})
        r = self.compose("up", "-d", cwd=d)
        app = self.ids(project="migrations", all=False)
        logs = self.compose("logs", "app", cwd=d)
        r2 = self.compose("down", "-v", cwd=d)
        t.check(r.returncode == 0 and len(app) == 1 and "migrated" in logs.stdout and r2.returncode == 0,
                "swctr compose: depends_on service_completed_successfully starts the app after the migration", r.stderr + logs.stdout)
        r = self.compose("up", "-d", cwd=d, env=self.env(MIGRATE_STATUS="2"))
        left = self.ids(project="migrations", all=False)
        self.compose("down", "-v", cwd=d)
        t.check(r.returncode != 0 and "didn't complete successfully: exit 2" in r.stderr and not left,
                "swctr compose: a dependency that fails stops up with its exit status", r.stderr + str(left))
        d = self.project_dir("layered", {"compose.yaml": BASE, "override.yaml": OVERRIDE, ".env": "NAME_FROM_ENV=fromdotenv\n"})
        r = self.compose("-f", "compose.yaml", "-f", "override.yaml", "config", cwd=d)
        r2 = self.compose("-f", "compose.yaml", "-f", "override.yaml", "-p", "explicit", "up", "-d", cwd=d)
        env = self.sw("inspect", "-f", "{{json .Config.Env}}", "explicit-one-1").stdout
        r3 = self.compose("-p", "explicit", "down", cwd=d)
        t.check(r.returncode == 0 and "name: fromdotenv" in r.stdout and "B: from-override" in r.stdout and "A: from-base" in r.stdout
                and r2.returncode == 0 and "from-base" in env and "from-override" in env and r3.returncode == 0
                and not self.ids(project="explicit"),
                "swctr compose: -f files merged in order, .env interpolation, -p names the project",
                r.stdout + r.stderr + r2.stderr + env)
