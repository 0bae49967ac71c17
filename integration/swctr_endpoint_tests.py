"""swctr network endpoints: the default network for `run`, --ip and --ip-range, --mac-address,
network connect/disconnect of running and stopped containers, --network container:ID, and the
macvlan and ipvlan drivers on dummy parents the test makes. Only addresses inside the test's own
networks are contacted. A mixin of SwctrContainers (store, image, cgroup, helpers)."""
import os

from harness import run, unique, wait_for
from swctr_network_tests import WEB


def ipv4(output):
    """The first inet address of `ip -o -4 addr` output."""
    for word in output.split():
        if word.count(".") == 3 and "/" in word:
            return word.split("/")[0]
    return ""


class SwctrEndpoints:
    def parent_link(self):
        """One end of a veth pair of the test's own as a macvlan/ipvlan parent (this kernel has
        no dummy links): the children reach each other, and nothing else is there to reach."""
        name = "swv" + unique("p")[-9:]
        run(["ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"], check=True)
        self.cleanup_hooks.add(f"veth {name}", lambda: run(["ip", "link", "delete", name]))
        for n in (name, name + "p"):
            run(["ip", "link", "set", n, "up"], check=True)
        return name

    @staticmethod
    def kernel_has(driver, parent):
        probe = "swk" + unique("k")[-9:]
        r = run(["ip", "link", "add", "link", parent, "name", probe, "type", driver])
        run(["ip", "link", "delete", probe])
        return r.returncode == 0

    def addr_in(self, cid, ifname="eth0"):
        return ipv4(self.sw("exec", cid, "ip", "-o", "-4", "addr", "show", ifname).stdout)

    def endpoints(self):
        t, img = self.tap, self.image
        if not hasattr(self, "networks_made"):
            self.networks_made, self.bridges = [], []
            self.cleanup_hooks.add("swctr networks", self.cleanup_networks)
        # run without --network joins Docker's default network.
        r = self.srun("--rm", img, "ip", "-o", "-4", "addr", "show", "eth0")
        t.check(r.returncode == 0 and ipv4(r.stdout) != "", "swctr run: without --network the container is on the default bridge network",
                r.stdout + r.stderr)
        a, b = unique("epa"), unique("epb")
        ra = self.sw("network", "create", "--subnet", "10.231.80.0/24", "--ip-range", "10.231.80.64/26", a)
        rb = self.sw("network", "create", "--subnet", "10.231.81.0/24", b)
        self.networks_made += [a, b, "bridge"]
        t.check(ra.returncode == 0 and rb.returncode == 0 and "10.231.80.64/26" in self.sw("network", "inspect", a).stdout,
                "swctr network create --ip-range", ra.stderr + rb.stderr)
        # --ip and --mac-address; --ip-range for the others.
        mac = "02:42:0a:e7:50:46"
        web = self.srun("-d", "--name", unique("epweb"), "--network", a, "--ip", "10.231.80.70", "--mac-address", mac, img, "sh", "-c", WEB)
        wid = web.stdout.strip()
        link = self.sw("exec", wid, "ip", "link", "show", "eth0").stdout
        settings = self.inspect(wid).get("NetworkSettings", {}).get("Networks", {}).get(a, {})
        t.check(web.returncode == 0 and self.addr_in(wid) == "10.231.80.70" and mac in link
                and settings.get("IPAddress") == "10.231.80.70" and settings.get("MacAddress") == mac,
                "swctr run --ip --mac-address: the interface has both, inspect shows them", web.stderr + link + str(settings))
        r = self.srun("--rm", "--network", a, img, "ip", "-o", "-4", "addr", "show", "eth0")
        last = ipv4(r.stdout).rsplit(".", 1)[-1]
        t.check(last.isdigit() and 64 <= int(last) <= 127, "swctr --ip-range: other containers get addresses from the range", r.stdout + r.stderr)
        r = self.srun("--rm", "--network", a, "--ip", "10.231.80.5", img, "true")
        r2 = self.srun("--rm", "--ip", "172.17.0.9", img, "true")
        r3 = self.srun("--rm", "--network", a, "--mac-address", "01:00:5e:00:00:01", img, "true")
        t.check(r.returncode == 125 and "does not belong" in r.stderr and r2.returncode == 125 and "user defined" in r2.stderr
                and r3.returncode == 125 and "MAC" in r3.stderr,
                "swctr --ip outside the range, --ip on the default network, a multicast --mac-address: refused", r.stderr + r2.stderr + r3.stderr)
        # network connect: a running container gets eth1 and answers by its alias on the new network.
        r = self.sw("network", "connect", "--alias", "shop", b, wid)
        second = self.addr_in(wid, "eth1")
        got = self.srun("--rm", "--network", b, img, "sh", "-c", "timeout 5 wget -qO- http://shop/")
        nets = sorted(self.inspect(wid).get("NetworkSettings", {}).get("Networks", {}))
        t.check(r.returncode == 0 and second.startswith("10.231.81.") and "hello-" in got.stdout and nets == sorted([a, b]),
                "swctr network connect --alias: a running container joins a second network, found there by its alias",
                r.stderr + second + got.stdout + got.stderr + str(nets))
        r = self.sw("network", "connect", b, wid)
        t.check(r.returncode == 1 and "already exists" in r.stderr, "swctr network connect: twice is refused", r.stderr)
        r = self.sw("network", "disconnect", b, wid)
        gone = self.sw("exec", wid, "ip", "link", "show", "eth1")
        got = self.srun("--rm", "--network", b, img, "sh", "-c", f"timeout 3 wget -qO- http://{second}/ || echo unreachable")
        rm = self.sw("network", "rm", b)
        self.networks_made.remove(b)
        t.check(r.returncode == 0 and gone.returncode != 0 and "unreachable" in got.stdout and rm.returncode == 0,
                "swctr network disconnect: the interface and the address go; the network can be removed", r.stderr + got.stdout + rm.stderr)
        r = self.sw("network", "disconnect", a + "x", wid)
        r2 = self.sw("network", "disconnect", "bridge", wid)
        t.check(r.returncode != 0 and r2.returncode == 1 and "not connected" in r2.stderr,
                "swctr network disconnect: an unknown network or one it is not on is an error", r.stderr + r2.stderr)
        # connect a created container: it starts on both networks.
        c = self.sw("create", "--cgroup-parent", f"/{self.cgroup}", "--network", "none", img, "sleep", "100")
        r = self.sw("network", "connect", a, c.stdout.strip())
        c2 = self.sw("create", "--cgroup-parent", f"/{self.cgroup}", "--network", a, img, "sleep", "100")
        cid = c2.stdout.strip()
        r2 = self.sw("network", "connect", "bridge", cid)
        self.sw("start", cid)
        t.check(r.returncode != 0 and r2.returncode == 0 and self.addr_in(cid).startswith("10.231.80.") and self.addr_in(cid, "eth1") != "",
                "swctr network connect on a created container: it starts on both networks (a --network none one is refused)",
                r.stderr + r2.stderr)
        self.sw("rm", "-f", cid, c.stdout.strip())
        # --network container:ID shares the other's namespace, name files and hostname.
        hostname = self.sw("exec", wid, "hostname").stdout.strip()
        r = self.srun("--rm", "--network", f"container:{wid}", img, "sh", "-c", "wget -qO- http://127.0.0.1/; hostname; ip -o -4 addr show eth0")
        t.check(r.returncode == 0 and "hello-" in r.stdout and hostname in r.stdout and "10.231.80.70" in r.stdout,
                "swctr --network container:ID: the other container's network namespace and hostname", r.stdout + r.stderr)
        stopped = self.sw("create", "--cgroup-parent", f"/{self.cgroup}", img, "true").stdout.strip()
        r = self.srun("--rm", "--network", f"container:{stopped}", img, "true")
        r2 = self.srun("--rm", "--network", f"container:{wid}", "-p", "8080:80", img, "true")
        t.check(r.returncode == 125 and "non running" in r.stderr and r2.returncode == 125 and "conflicting" in r2.stderr,
                "swctr --network container: a stopped container, or with -p: refused", r.stderr + r2.stderr)
        self.sw("rm", "-f", stopped, wid)
        self.macvlan_ipvlan()

    def macvlan_ipvlan(self):
        t, img = self.tap, self.image
        for driver, subnet in (("macvlan", "10.231.82.0/24"), ("ipvlan", "10.231.83.0/24")):
            parent = self.parent_link()
            name = unique(driver[:4])
            r = self.sw("network", "create", "-d", driver, "-o", f"parent={parent}", "--subnet", subnet, name)
            self.networks_made.append(name)
            if not self.kernel_has(driver, parent):
                # This kernel has no such link type: the run fails in one line naming the plugin, leaving no namespace.
                before = run(["ip", "netns", "list"]).stdout
                got = self.srun("-d", "--network", name, img, "true")
                t.check(r.returncode == 0 and got.returncode == 125 and f"CNI {driver} ADD" in got.stderr
                        and len(got.stderr.strip().splitlines()) == 1 and run(["ip", "netns", "list"]).stdout == before,
                        f"swctr {driver} on a kernel without {driver}: a one-line error naming the plugin, no namespace left", got.stderr)
            else:
                srv = self.srun("-d", "--network", name, img, "sh", "-c", WEB)
                sid = srv.stdout.strip()
                ip = self.inspect(sid).get("NetworkSettings", {}).get("IPAddress", "")
                up = wait_for(lambda: self.sw("exec", sid, "sh", "-c", "netstat -ltn | grep -q :80").returncode == 0, timeout=10)
                got = self.srun("--rm", "--network", name, img, "sh", "-c", f"timeout 5 wget -qO- http://{ip}/")
                t.check(r.returncode == 0 and srv.returncode == 0 and up and ip.startswith(subnet[:9]) and "hello-" in got.stdout,
                        f"swctr network create -d {driver} -o parent=: two containers on the parent talk",
                        r.stderr + srv.stderr + got.stdout + got.stderr)
                self.sw("rm", "-f", sid)
            for cid in self.sw("ps", "-aq", "--no-trunc", "--filter", f"network={name}").stdout.split():
                self.sw("rm", "-f", cid)
            rm = self.sw("network", "rm", name)
            self.networks_made.remove(name)
            t.check(rm.returncode == 0 and not os.path.isdir(f"/var/lib/cni/networks/{name}"),
                    f"swctr {driver}: after rm and network rm no address record is left", rm.stderr)
        r = self.sw("network", "create", "-d", "macvlan", unique("noparent"))
        r2 = self.sw("network", "create", "-d", "macvlan", "-o", "parent=swnosuch0", unique("badparent"))
        r3 = self.sw("network", "create", "-d", "overlay", unique("overlay"))
        t.check(r.returncode == 1 and "parent" in r.stderr and r2.returncode == 1 and "no such" in r2.stderr
                and r3.returncode == 1 and "overlay" in r3.stderr,
                "swctr network create: macvlan without or with an unknown parent, an unknown driver: refused", r.stderr + r2.stderr + r3.stderr)
