"""swctr against registries: Basic and token auth, TLS and plain HTTP, dropped and failing
connections, concurrent and parallel pulls."""
import json
import os
import socket
import subprocess

import token_server
from token_server import TokenServer
from harness import run, stop_pid, wait_for
from swctr_fixtures import FaultProxy


class RegistryTests:
    """Mixed into Swctr (swctr_tests.py): uses its registry, store and helpers."""

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
