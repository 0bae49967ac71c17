"""swctr volumes: named, anonymous, bind and tmpfs mounts through swrunc, copy-up, --volumes-from,
and the volume verbs. A mixin of SwctrContainers (its store, image, cgroup and helpers)."""
import json
import os

from harness import unique, wait_for


class SwctrVolumes:
    def volumes(self):
        t, img = self.tap, self.image
        vol = unique("data")
        r = self.srun("--rm", "-v", f"{vol}:/data", img, "sh", "-c", "echo kept > /data/f")
        r2 = self.srun("--rm", "-v", f"{vol}:/data:ro", img, "sh", "-c", "cat /data/f; touch /data/g 2>&1 || echo refused")
        t.check(r.returncode == 0 and r2.stdout.startswith("kept\n") and "refused" in r2.stdout,
                "swctr -v NAME:/path: data outlives the container; :ro refuses writes", r.stderr + r2.stdout + r2.stderr)
        mountpoint = json.loads(self.sw("volume", "inspect", vol).stdout or "[{}]")[0].get("Mountpoint", "")
        t.check(os.path.exists(os.path.join(mountpoint, "f")) and vol in self.sw("volume", "ls", "-q").stdout.split(),
                "swctr volume ls/inspect: the volume and its mountpoint", mountpoint)
        # Copy-up: a new volume over an image directory starts with its files, owner and mode.
        seed = self.srun("-d", img, "sh", "-c", "mkdir /seed && echo seeded > /seed/f && chown 1234:5678 /seed && chmod 750 /seed; sleep 1000")
        sid = seed.stdout.strip()
        wait_for(lambda: self.sw("exec", sid, "test", "-f", "/seed/f").returncode == 0, timeout=20)
        tag = f"localhost/{unique('seeded')}:v1"
        self.sw("commit", sid, tag)
        self.sw("rm", "-f", sid)
        fresh = unique("fresh")
        r = self.srun("--rm", "-v", f"{fresh}:/seed", tag, "sh", "-c", "stat -c '%u %g %a' /seed; cat /seed/f")
        r2 = self.srun("--rm", "--mount", f"type=volume,source={fresh}-nc,target=/seed,volume-nocopy", tag, "ls", "/seed")
        t.check(r.stdout == "1234 5678 750\nseeded\n" and r2.returncode == 0 and r2.stdout == "",
                "swctr: a new volume gets the image directory's files, owner and mode; volume-nocopy keeps it empty",
                r.stdout + r.stderr + r2.stdout + r2.stderr)
        # Binds: a missing host directory is created (-v); files are shared both ways.
        host = os.path.join(self.tmp, unique("bind"), "sub")
        r = self.srun("--rm", "-v", f"{host}:/b", img, "sh", "-c", "echo from-container > /b/out")
        t.check(r.returncode == 0 and open(os.path.join(host, "out")).read() == "from-container\n",
                "swctr -v /host:/path: a bind mount, the missing host directory created", r.stderr)
        r = self.srun("--rm", "--mount", f"type=bind,source={host}-missing,target=/b", img, "true")
        t.check(r.returncode == 125 and "does not exist" in r.stderr and not os.path.exists(host + "-missing"),
                "swctr --mount type=bind: a missing source is refused (125)", r.stderr)
        # tmpfs: fresh on every start.
        cid = self.srun("-d", "--tmpfs", "/t:size=1m", img, "sleep", "1000").stdout.strip()
        self.sw("exec", cid, "sh", "-c", "echo x > /t/x")
        df = self.sw("exec", cid, "df", "/t").stdout
        self.sw("restart", "-t", "0", cid)
        r = self.sw("exec", cid, "ls", "/t")
        t.check(" 1024 " in df and r.returncode == 0 and r.stdout == "",
                "swctr --tmpfs /path:size=1m: a sized tmpfs, empty again after a restart", df + r.stdout + r.stderr)
        self.sw("rm", "-f", cid)
        # Anonymous volumes go with rm -v and --rm; named ones stay; --volumes-from shares them.
        owner = self.srun("-d", "-v", "/anon", "-v", f"{vol}:/named", img, "sh", "-c", "echo a > /anon/a; sleep 1000").stdout.strip()
        wait_for(lambda: self.sw("exec", owner, "test", "-f", "/anon/a").returncode == 0, timeout=20)
        anon = [m["Name"] for m in self.inspect(owner).get("Mounts", []) if m.get("Destination") == "/anon"]
        r = self.srun("--rm", "--volumes-from", f"{owner}:ro", img, "sh", "-c", "cat /anon/a /named/f; touch /anon/b 2>/dev/null || echo ro")
        t.check(r.stdout == "a\nkept\nro\n", "swctr --volumes-from C:ro: the other container's volumes, read-only", r.stdout + r.stderr)
        r = self.sw("volume", "rm", vol)
        t.check(r.returncode == 1 and "in use" in r.stderr, "swctr volume rm: a volume in use is refused", r.stderr)
        self.sw("rm", "-f", "-v", owner)
        left = self.sw("volume", "ls", "-q").stdout.split()
        t.check(len(anon) == 1 and anon[0] not in left and vol in left,
                "swctr rm -v: the anonymous volume goes, the named one stays", f"{anon} {left}")
        before = set(self.sw("volume", "ls", "-q").stdout.split())
        r = self.srun("--rm", "-v", "/tmp-anon", img, "true")
        t.check(set(self.sw("volume", "ls", "-q").stdout.split()) == before, "swctr run --rm: its anonymous volumes go too", r.stderr)
        # Bad input: Docker's message, 125, nothing made.
        for spec, words in ((f"{vol}!:/x", "invalid characters"), ("./rel:/x", "absolute path"), (f"{vol}:rel", "absolute"),
                            ("/a:/b:sideways", "invalid mode")):
            r = self.srun("--rm", "-v", spec, img, "true")
            t.check(r.returncode == 125 and words in r.stderr and set(self.sw("volume", "ls", "-q").stdout.split()) == before,
                    f"swctr -v {spec}: refused in one line, nothing left", r.stderr)
        r = self.sw("volume", "ls", "--filter", "dangling=true", "-q")
        r2 = self.sw("system", "df")
        t.check(vol in r.stdout.split() and "Local Volumes" in r2.stdout, "swctr volume ls --filter dangling=true; system df counts volumes",
                r.stdout + r2.stdout)
        # A volume with the local driver's options: a tmpfs of a size, and a bind of a host directory.
        tv, bv = unique("tmpvol"), unique("bindvol")
        src = os.path.join(self.tmp, unique("voldev"))
        os.makedirs(src)
        r = self.sw("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m", tv)
        r2 = self.sw("volume", "create", "-o", "type=none", "-o", f"device={src}", "-o", "o=bind", bv)
        got = self.srun("--rm", "-v", f"{tv}:/t", "-v", f"{bv}:/b", img, "sh", "-c", "df /t | tail -1; echo via-volume > /b/f")
        t.check(r.returncode == 0 and r2.returncode == 0 and got.returncode == 0 and " 2048 " in got.stdout
                and open(os.path.join(src, "f")).read() == "via-volume\n",
                "swctr volume create -o type=tmpfs / -o type=none,o=bind: the driver's mount options are used", r.stderr + r2.stderr + got.stdout + got.stderr)
        r = self.sw("volume", "create", "-o", "type=tmpfs", unique("nodevice"))
        r2 = self.sw("volume", "create", "-o", "color=red", unique("badopt"))
        t.check(r.returncode == 1 and "device" in r.stderr and r2.returncode == 1 and "color" in r2.stderr,
                "swctr volume create -o: a type without device, an unknown option: refused", r.stderr + r2.stderr)
        self.sw("volume", "rm", tv, bv)
        r = self.sw("volume", "prune", "-f", "-a")
        t.check(r.returncode == 0 and vol in r.stdout and vol not in self.sw("volume", "ls", "-q").stdout.split(),
                "swctr volume prune -a: unused volumes go", r.stdout + r.stderr)
        self.sw("rmi", tag)
