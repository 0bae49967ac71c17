"""swctr networks: bridge networks through the real CNI plugins (bridge, host-local, portmap,
firewall, dnsname), name resolution, published ports on loopback, isolation between networks,
and nothing left behind. Only loopback and addresses on the test's own bridges are contacted.
A mixin of SwctrContainers (its store, image, cgroup and helpers)."""
import json
import os
import signal
import socket
import subprocess
import textwrap
import time

from harness import run, unique, wait_for

WEB = "mkdir -p /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www"


UDP_RECEIVER = textwrap.dedent("""
    #include <arpa/inet.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <sys/socket.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) return 1;
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n > 0) { fwrite(buf, 1, n, stdout); fflush(stdout); }
        return n > 0 ? 0 : 1;
    }
""")


def udp_receiver(directory):
    """A static UDP receiver (busybox's nc has no -u), built with the compiler the suite already uses."""
    src = os.path.join(directory, "udprecv.c")
    with open(src, "w") as f:
        f.write(UDP_RECEIVER)
    subprocess.run(["gcc", "-static", "-O2", "-o", os.path.join(directory, "udprecv"), src], check=True)
    return directory


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url, timeout=3):
    r = run(["curl", "-fsS", "--max-time", str(timeout), url], timeout=timeout + 5)
    return r.stdout if r.returncode == 0 else None


class SwctrNetworks:
    def network_leftovers(self, net_ids, cids):
        """veths, bridges, netns, per-container firewall rules and IPAM records still there."""
        out = []
        links = run(["ip", "-o", "link", "show"]).stdout
        out += [f"bridge {b}" for b in self.bridges if f": {b}:" in links]
        netns = run(["ip", "netns", "list"]).stdout
        out += [f"netns {c[:12]}" for c in cids if f"swctr-{c[:12]}" in netns]
        rules = run(["iptables-save"]).stdout
        out += [f"rule for {c[:12]}" for c in cids if c in rules]
        out += [f"rule for bridge {b}" for b in self.bridges if f" {b} " in rules]
        if not self.sw("network", "ls", "-q").stdout.split():
            out += [line for line in rules.splitlines() if "CNI-" in line and "NETAVARK" not in line]
        for n in self.networks_made:
            d = f"/var/lib/cni/networks/{n}"
            if os.path.isdir(d) and [f for f in os.listdir(d) if f[0].isdigit()]:
                out.append(f"ipam {n}: {os.listdir(d)}")
        return out

    def cleanup_networks(self):
        ids = self.sw("ps", "-aq", "--no-trunc").stdout.split()
        if ids:
            self.sw("rm", "-f", *ids, timeout=120)
        for n in getattr(self, "networks_made", []):
            self.sw("network", "rm", n)

    def networks(self):
        t, img = self.tap, self.image
        self.networks_made, self.bridges = [], []
        self.cleanup_hooks.add("swctr networks", self.cleanup_networks)
        front, back = unique("front"), unique("back")
        bridge = "swit" + unique("n")[-8:]
        r = self.sw("network", "create", "--subnet", "10.231.77.0/24", "-o", f"com.docker.network.bridge.name={bridge}", front)
        r2 = self.sw("network", "create", back)
        self.networks_made += [front, back]
        self.bridges.append(bridge)
        info = self.sw("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}", front).stdout.strip()
        t.check(r.returncode == 0 and r2.returncode == 0 and info == "10.231.77.0/24 10.231.77.1"
                and front in self.sw("network", "ls").stdout, "swctr network create/ls/inspect", r.stderr + r2.stderr + info)
        r = self.sw("network", "create", "--subnet", "10.231.77.128/25", unique("overlap"))
        t.check(r.returncode == 1 and "overlaps" in r.stderr, "swctr network create: an overlapping subnet is refused", r.stderr)
        # Names: a container finds another by name and alias, also one started after it.
        port, port2, port_all = free_port(), free_port(), free_port()
        web = self.srun("-d", "--name", unique("web"), "--network", front, "--network-alias", "www",
                        "-p", f"127.0.0.1:{port}:80", "-p", f"127.0.0.2:{port2}:80", "-p", f"{port_all}:80", img,
                        "sh", "-c", WEB)
        wid = web.stdout.strip()
        wname = self.inspect(wid).get("Name", "/")[1:]
        up = wait_for(lambda: fetch(f"http://127.0.0.1:{port}/") is not None, timeout=20)
        r = self.srun("--rm", "--network", front, img, "sh", "-c", f"wget -qO- http://{wname}/ && wget -qO- http://www/")
        t.check(web.returncode == 0 and up and r.stdout.count("hello-") == 2,
                "swctr network: a container reaches another by name and by alias (dnsname)", web.stderr + r.stdout + r.stderr)
        t.check(fetch(f"http://127.0.0.1:{port}/", 3) is not None and fetch(f"http://127.0.0.2:{port2}/", 3) is not None
                and fetch(f"http://127.0.0.1:{port2}/", 2) is None,
                "swctr -p IP:HOST:CTR: answered on the address it names and not on another", "")
        ports = self.sw("port", wid).stdout
        ps = self.sw("ps", "--filter", f"id={wid}", "--format", "{{.Ports}}").stdout
        t.check(f"80/tcp -> 127.0.0.1:{port}" in ports and f"127.0.0.1:{port}->80/tcp" in ps, "swctr port and ps show the mappings", ports + ps)
        gateway = self.inspect(wid).get("NetworkSettings", {}).get("Gateway", "")
        r = self.srun("--rm", "--network", front, img, "timeout", "5", "wget", "-qO-", f"http://{gateway}:{port_all}/")
        t.check(r.returncode == 0 and "hello-" in r.stdout, "swctr -p: a container reaches another's published port (hairpin)",
                r.stdout + r.stderr)
        ip = self.inspect(wid).get("NetworkSettings", {}).get("IPAddress", "")
        r = self.srun("--rm", "--network", back, img, "sh", "-c", f"timeout 3 wget -qO- http://{ip}/ || echo unreachable; nslookup {wname} 2>&1 | tail -1")
        t.check(ip.startswith("10.231.77.") and "unreachable" in r.stdout and "hello-" not in r.stdout,
                "swctr network: a container on another network reaches neither the address nor the name", r.stdout + r.stderr)
        # UDP, and -P with the image's EXPOSE.
        udp = free_port()
        tools = os.path.join(self.tmp, unique("udp"))
        os.makedirs(tools)
        udp_receiver(tools)
        u = self.srun("-d", "--network", front, "-p", f"127.0.0.1:{udp}:9999/udp", "-v", f"{tools}:/tools:ro", img,
                      "/tools/udprecv", "9999")
        uid = u.stdout.strip()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(20):
                s.sendto(b"ping-udp\n", ("127.0.0.1", udp))
                if "ping-udp" in self.sw("logs", uid).stdout:
                    break
                time.sleep(0.25)
        got = self.sw("logs", uid).stdout
        t.check("ping-udp" in got, "swctr -p HOST:CTR/udp: a UDP mapping", got + u.stderr)
        tag = f"localhost/{unique('exposed')}:v1"
        self.sw("commit", "-c", "EXPOSE 80", wid, tag)
        pa = self.srun("-d", "--network", front, "-P", tag, "sh", "-c", WEB)
        mapped = self.sw("port", pa.stdout.strip(), "80").stdout.strip()
        hp = mapped.rsplit(":", 1)[-1]
        t.check(pa.returncode == 0 and hp.isdigit() and wait_for(lambda: fetch(f"http://127.0.0.1:{hp}/") is not None, timeout=20),
                "swctr -P: the image's EXPOSE ports on free host ports", pa.stderr + mapped)
        # Bad input: a taken port, an unknown network, a malformed -p; nothing half set up.
        before = run(["ip", "netns", "list"]).stdout
        r = self.srun("-d", "--network", front, "-p", f"127.0.0.1:{port}:80", img, "sleep", "100")
        r2 = self.srun("--rm", "--network", unique("nosuch"), img, "true")
        r3 = self.srun("--rm", "--network", front, "-p", "80:99999", img, "true")
        t.check(r.returncode == 125 and str(port) in r.stderr and r2.returncode == 125 and "not found" in r2.stderr
                and r3.returncode == 125 and "99999" in r3.stderr and run(["ip", "netns", "list"]).stdout == before,
                "swctr run: a taken host port, an unknown network, a bad -p are one-line errors leaving nothing",
                r.stderr + r2.stderr + r3.stderr)
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        r = self.srun("-d", "--network", front, "-p", f"127.0.0.1:{busy.getsockname()[1]}:80", img, "sleep", "100")
        busy.close()
        t.check(r.returncode == 125 and "in use" in r.stderr, "swctr -p: a port a host process listens on is refused", r.stderr)
        r = self.sw("network", "rm", front)
        t.check(r.returncode == 1 and "active endpoints" in r.stderr, "swctr network rm: a network in use is refused", r.stderr)
        # A removed container's name is gone from the network's DNS.
        self.sw("rm", "-f", wid)
        r = self.srun("--rm", "--network", front, img, "sh", "-c", f"timeout 3 wget -qO- http://{wname}/ || echo gone")
        t.check("gone" in r.stdout, "swctr network: a removed container's name no longer resolves", r.stdout + r.stderr)
        # The default network: an address, no name resolution, the host's resolvers.
        r = self.srun("--rm", "--network", "bridge", img, "sh", "-c", "ip addr show eth0; cat /etc/resolv.conf")
        t.check(r.returncode == 0 and "inet " in r.stdout and "dns.swctr" not in r.stdout,
                "swctr --network bridge: Docker's default network, made on first use, without name resolution", r.stdout + r.stderr)
        self.networks_made.append("bridge")
        r = self.srun("--rm", "--network", "bridge", "--add-host", "db.test:10.1.2.3", "--add-host", "gw.test:host-gateway",
                      "--dns", "198.51.100.7", "--dns-search", "corp.test", "--dns-option", "ndots:2", "-h", "named-host", img,
                      "sh", "-c", "cat /etc/hosts /etc/resolv.conf /etc/hostname")
        t.check("10.1.2.3\tdb.test" in r.stdout and "\tgw.test" in r.stdout and "nameserver 198.51.100.7" in r.stdout
                and "search corp.test" in r.stdout and "options ndots:2" in r.stdout and "named-host\n" in r.stdout,
                "swctr --add-host, --dns, --dns-search, --dns-option, -h: written into the container's files", r.stdout + r.stderr)
        # After SIGKILL of a monitor and its container: prune releases everything.
        k = self.srun("-d", "--network", front, "-p", f"127.0.0.1:{free_port()}:80", img, "sleep", "1000")
        kid = k.stdout.strip()
        mon, init = self.monitor_pid(kid), self.inspect(kid).get("State", {}).get("Pid", 0)
        if mon > 0 and init > 0:
            os.kill(mon, signal.SIGKILL)
            os.kill(init, signal.SIGKILL)
            self.monitor_gone(mon)
        cids = [wid, uid, kid, pa.stdout.strip()]
        self.sw("rm", "-f", pa.stdout.strip(), uid)
        self.bridges += [n["Options"]["com.docker.network.bridge.name"] for n in
                         json.loads(self.sw("network", "inspect", back, "bridge").stdout or "[]")]
        self.sw("container", "prune", "-f")
        r = self.sw("network", "prune", "-f")
        r2 = self.sw("network", "rm", "bridge")
        left = self.network_leftovers(self.networks_made, cids)
        t.check(r.returncode == 0 and front in r.stdout and back in r.stdout and r2.returncode == 0 and not left,
                "swctr: after rm, a killed monitor, container prune and network prune no veth, bridge, netns, rule or address is left",
                f"{left} {r.stdout} {r.stderr} {r2.stderr}")
        self.sw("rmi", tag)

    def masquerade(self):
        """Outbound masquerade is one rule per network (Docker's shape), not a chain per container:
        a container's request to a network outside the bridge (a veth into a namespace the test
        makes, 203.0.113.0/30) arrives from the host's address there; the rule is made once however
        many containers start, an internal network gets none, and `network rm` takes it away."""
        t, img = self.tap, self.image
        ns, veth = "swit" + unique("o")[-9:], "swm" + unique("h")[-9:]
        self.cleanup_hooks.add(f"netns {ns}", lambda: (run(["ip", "netns", "delete", ns]), run(["ip", "link", "delete", veth])))
        run(["ip", "netns", "add", ns], check=True)
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", veth + "p", "netns", ns], check=True)
        run(["ip", "addr", "add", "203.0.113.1/30", "dev", veth], check=True)
        run(["ip", "link", "set", veth, "up"], check=True)
        for cmd in (["addr", "add", "203.0.113.2/30", "dev", veth + "p"], ["link", "set", veth + "p", "up"], ["link", "set", "lo", "up"]):
            run(["ip", "-n", ns] + cmd, check=True)
        port = free_port()
        # Answers each request with the address it came from.
        server = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", textwrap.dedent(f"""
            import http.server
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = self.client_address[0].encode()
                    self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            http.server.HTTPServer(("203.0.113.2", {port}), H).serve_forever()
        """)])
        self.cleanup_hooks.add(f"masquerade server {server.pid}", lambda: (server.kill(), server.wait()))
        net, internal = unique("masq"), unique("inner")
        self.networks_made += [net, internal]
        self.sw("network", "create", net)
        self.sw("network", "create", "--internal", internal)
        subnet = self.sw("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", net).stdout.strip()
        inner = self.sw("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", internal).stdout.strip()
        bridge = self.sw("network", "inspect", "-f", '{{index .Options "com.docker.network.bridge.name"}}', net).stdout.strip()
        fetch_cmd = f"for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://203.0.113.2:{port}/ && exit; sleep 0.3; done"
        a = self.srun("--rm", "--network", net, img, "sh", "-c", fetch_cmd)
        b = self.srun("-d", "--network", net, img, "sleep", "100")
        c = self.srun("--rm", "--network", internal, img, "true")
        rules = run(["iptables-save", "-t", "nat"]).stdout.splitlines()
        mine = [r for r in rules if f"-s {subnet} " in r and "MASQUERADE" in r]
        bid = b.stdout.strip()
        t.check(a.returncode == 0 and a.stdout.strip() == "203.0.113.1" and len(mine) == 1 and f"! -o {bridge} " in mine[0]
                and c.returncode == 0 and not [r for r in rules if f"-s {inner} " in r]
                and not [r for r in rules if bid and bid[:12] in r],
                "swctr network: outbound traffic is masqueraded by one rule per network (none for --internal)",
                f"{a.stdout} {a.stderr} {mine} {c.stderr}")
        self.sw("rm", "-f", bid)
        r = self.sw("network", "rm", net, internal)
        left = [line for line in run(["iptables-save", "-t", "nat"]).stdout.splitlines() if f"-s {subnet} " in line]
        t.check(r.returncode == 0 and not left, "swctr network rm: the network's masquerade rule goes with it", f"{left} {r.stderr}")
