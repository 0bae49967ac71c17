import Containers
import Database
import JSON
import Networks
import OCI
import Testing

@Suite("subnets, -p specs, conflists and CNI results")
struct NetworkTests {
    @Test func subnets() throws {
        let s = try Subnet(parsing: "10.89.3.0/24")
        #expect(s.description == "10.89.3.0/24" && Subnet.text(s.firstHost) == "10.89.3.1" && Subnet.text(s.lastHost) == "10.89.3.254")
        let wide = try Subnet(parsing: "10.89.0.0/16"), next = try Subnet(parsing: "10.89.4.0/24")
        #expect(s.overlaps(wide) && !s.overlaps(next))
        #expect(s.contains(Subnet.address("10.89.3.77") ?? 0) && !s.contains(Subnet.address("10.89.4.1") ?? 0))
        for bad in ["10.89.3.1/24", "10.89.3.0", "10.89.300.0/24", "10.0.0.0/31", "a.b.c.d/8", "10.0.0.0/x"] {
            #expect(throws: SwctrError.self, "\(bad)") { try Subnet(parsing: bad) }
        }
        let docker = try Subnet(parsing: "172.17.0.0/16")
        let free = try Subnet.free(avoiding: [docker])
        #expect(free.description != "172.17.0.0/16" && !Subnet.hostRoutes().contains { $0.overlaps(free) })
    }

    @Test func portSpecs() throws {
        #expect(try PortMapping.parse("8080:80") == [PortMapping(hostPort: 8080, containerPort: 80)])
        #expect(try PortMapping.parse("127.0.0.1:53:53/udp") == [PortMapping(hostIP: "127.0.0.1", hostPort: 53, containerPort: 53, proto: "udp")])
        #expect(try PortMapping.parse("80") == [PortMapping(hostPort: 0, containerPort: 80)])
        #expect(try PortMapping.parse("127.0.0.1::80") == [PortMapping(hostIP: "127.0.0.1", hostPort: 0, containerPort: 80)])
        let range = try PortMapping.parse("9000-9001:80-81")
        #expect(range.map(\.hostPort) == [9000, 9001] && range.map(\.containerPort) == [80, 81])
        for bad in ["80:99999", "a:80", "1.2.3:80:80", "80/icmp", "9000-9002:80-81", "", "1:2:3:4"] {
            #expect(throws: SwctrError.self, "\(bad)") { try PortMapping.parse(bad) }
        }
    }

    @Test func conflistAndResult() throws {
        let user = NetworkRecord(name: "shop", id: "x", bridge: "swctr3", subnet: "10.89.0.0/24", gateway: "10.89.0.1",
                                 isInternal: false, dns: true, created: 0)
        let list = JSONValue.object(Conflist.of(user)).serialized()
        #expect(list.contains(#""type":"bridge","bridge":"swctr3""#) && list.contains(#""ipMasq":false"#)
                && list.contains(#""subnet":"10.89.0.0/24","gateway":"10.89.0.1""#) && list.contains(#""type":"dnsname""#)
                && list.contains(#""capabilities":{"portMappings":true}"#))
        var quiet = user
        quiet.dns = false
        quiet.isInternal = true
        let q = JSONValue.object(Conflist.of(quiet)).serialized()
        #expect(!q.contains("dnsname") && q.contains(#""ipMasq":false"#) && q.contains(#""routes":[]"#))
        let result = try JSONParser.parse(Array(#"{"cniVersion":"0.4.0","interfaces":[{"name":"swctr3","mac":"aa"},{"name":"eth0","mac":"02:42:0a:59:00:02","sandbox":"/run/netns/x"}],"ips":[{"version":"4","interface":1,"address":"10.89.0.2/24","gateway":"10.89.0.1"}]}"#.utf8))
        let a = Conflist.address(in: result)
        #expect(a?.ip == "10.89.0.2" && a?.prefix == "24" && a?.gateway == "10.89.0.1" && a?.mac == "02:42:0a:59:00:02")
    }

    /// Removing a network's rules: those naming its bridge in INPUT and the isolation stages, its
    /// masquerade rule, not another bridge's; with the last network the plugins' shared chains,
    /// jumps first, unless a rule in them is still container-specific.
    @Test func bridgeRuleRemoval() {
        let n = NetworkRecord(name: "shop", id: "x", bridge: "swctr3", subnet: "10.89.0.0/24", gateway: "10.89.0.1",
                              isInternal: false, dns: true, created: 0)
        let dump = """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :CNI-FORWARD - [0:0]
            :CNI-ISOLATION-STAGE-1 - [0:0]
            :CNI-ISOLATION-STAGE-2 - [0:0]
            -A INPUT -i swctr3 -p udp -m udp --dport 53 -m comment --comment "dnsname \\"shop\\" rule" -j ACCEPT
            -A INPUT -i swctr30 -p udp -m udp --dport 53 -j ACCEPT
            -A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
            -A FORWARD -j CNI-ISOLATION-STAGE-1
            -A CNI-ISOLATION-STAGE-1 -i swctr3 ! -o swctr3 -j CNI-ISOLATION-STAGE-2
            -A CNI-ISOLATION-STAGE-1 -j RETURN
            -A CNI-ISOLATION-STAGE-2 -o swctr3 -j DROP
            -A CNI-ISOLATION-STAGE-2 -j RETURN
            COMMIT
            *nat
            :POSTROUTING ACCEPT [0:0]
            -A POSTROUTING -s 10.89.0.0/24 ! -d 224.0.0.0/4 ! -o swctr3 -j MASQUERADE
            -A POSTROUTING -s 10.89.1.0/24 ! -d 224.0.0.0/4 ! -o swctr4 -j MASQUERADE
            COMMIT

            """
        let one = BridgeRules.removal(of: n, last: false, dump: dump)
        #expect(one.map(\.table) == ["filter", "nat"])
        #expect(one[0].lines == [#"-D INPUT -i swctr3 -p udp -m udp --dport 53 -m comment --comment "dnsname \"shop\" rule" -j ACCEPT"#,
                                 "-D CNI-ISOLATION-STAGE-1 -i swctr3 ! -o swctr3 -j CNI-ISOLATION-STAGE-2",
                                 "-D CNI-ISOLATION-STAGE-2 -o swctr3 -j DROP"])
        #expect(one[1].lines == ["-D POSTROUTING -s 10.89.0.0/24 ! -d 224.0.0.0/4 ! -o swctr3 -j MASQUERADE"])
        let last = BridgeRules.removal(of: n, last: true, dump: dump)
        #expect(Array(last[0].lines.dropFirst(3)) == ["-D FORWARD -m comment --comment \"CNI firewall plugin rules\" -j CNI-FORWARD",
                                                      "-D FORWARD -j CNI-ISOLATION-STAGE-1",
                                                      "-F CNI-FORWARD", "-F CNI-ISOLATION-STAGE-1", "-F CNI-ISOLATION-STAGE-2",
                                                      "-X CNI-FORWARD", "-X CNI-ISOLATION-STAGE-1", "-X CNI-ISOLATION-STAGE-2"])
        // Another CNI user's container still has a rule in CNI-FORWARD: the shared chains stay.
        let inUse = dump.replacing("COMMIT\n*nat", with: "-A CNI-FORWARD -s 10.88.0.5/32 -j ACCEPT\nCOMMIT\n*nat")
        #expect(BridgeRules.removal(of: n, last: true, dump: inUse)[0].lines.count == 3)
    }

    /// The plugin types of a conflist, in order.
    func types(_ list: JSONObject) -> [String] {
        guard case .array(let plugins)? = list["plugins"] else { return [] }
        return plugins.compactMap { if case .object(let o) = $0, case .string(let t)? = o["type"] { t } else { nil } }
    }

    @Test func driversRangesAndMAC() {
        var n = NetworkRecord(name: "shop", id: "x", bridge: "swctr3", subnet: "10.89.0.0/24", gateway: "10.89.0.1",
                              isInternal: false, dns: true, created: 0, ipRange: "10.89.0.64/26")
        #expect(types(Conflist.of(n, ports: false)) == ["bridge", "firewall", "dnsname"])
        #expect(types(Conflist.of(n, ports: true, mac: true)) == ["bridge", "tuning", "portmap", "firewall", "dnsname"])
        #expect(JSONValue.object(Conflist.of(n)).serialized().contains(#""rangeStart":"10.89.0.65","rangeEnd":"10.89.0.126""#))
        n.driver = "macvlan"
        n.dns = false
        n.options = #"{"parent":"dummy0"}"#
        let mv = Conflist.of(n, ports: true)
        #expect(types(mv) == ["macvlan"] && JSONValue.object(mv).serialized().contains(#""master":"dummy0","mode":"bridge""#))
        n.driver = "ipvlan"
        n.options = #"{"ipvlan_mode":"l3","parent":"dummy1"}"#
        #expect(JSONValue.object(Conflist.of(n)).serialized().contains(#""master":"dummy1","mode":"l3""#))
        #expect(MACAddress.isValid("02:42:0a:e7:50:46") && !MACAddress.isValid("01:00:5e:00:00:01")
                && !MACAddress.isValid("02:42:0a:e7:50") && !MACAddress.isValid("02:42:0a:e7:50:zz"))
    }

    @Test func networkModes() throws {
        var o = ContainerConfig()
        #expect(o.attachedNetworks.isEmpty && !o.ownsNetworkNamespace)
        // A row from before endpoints: its mode's network with its aliases.
        o.network = "shop"
        o.networkAliases = ["www"]
        #expect(o.attachedNetworks == [Endpoint(network: "shop", aliases: ["www"])] && o.ownsNetworkNamespace)
        o.endpoints = [Endpoint(network: "shop"), Endpoint(network: "back", ip: "10.1.0.5")]
        #expect(o.attachedNetworks.map(\.network) == ["shop", "back"])
        o.network = "container:abc"
        #expect(!o.ownsNetworkNamespace && NetworkMode.container(o.network) == "abc" && NetworkMode.container("host") == nil)
        // slirp4netns: a namespace of the container's own, but no network record to attach.
        o.network = NetworkMode.slirp
        o.endpoints = nil
        #expect(o.ownsNetworkNamespace && o.attachedNetworks.isEmpty && !NetworkMode.isNamed(o.network))
    }

    /// Rootless on the host's network, sysfs cannot be mounted (the network namespace is not
    /// the user's): the host's /sys is bound read-only in its place; as root sysfs stays.
    @Test func rootlessHostNetworkBindsSys() throws {
        var o = ContainerConfig()
        o.network = "host"
        o.cmd = ["true"]
        var builder = SpecBuilder(id: "c1", rootfs: "/tmp/none", image: nil, options: o)
        func sys(_ b: SpecBuilder) throws -> Mount? { try b.build().mounts?.first { $0.destination == "/sys" } }
        #expect(try sys(builder)?.type == "sysfs")
        builder.rootless = true
        let bound = try sys(builder)
        #expect(bound?.type == "bind" && bound?.source == "/sys" && bound?.options?.contains("ro") == true
                && bound?.options?.contains("rbind") == true)
        o.network = "none"
        builder = SpecBuilder(id: "c1", rootfs: "/tmp/none", image: nil, options: o)
        builder.rootless = true
        #expect(try sys(builder)?.type == "sysfs")
    }
}

@Suite("/etc/hosts and /etc/resolv.conf as Docker writes them")
struct NameFileTests {
    let host = "domain example.test\nnameserver 127.0.0.53\nnameserver 192.0.2.53\noptions edns0\n"

    @Test func hosts() {
        let h = ContainerManager.hostsFile(hostname: "web", addresses: ["10.89.0.2"], extra: ["db:10.89.0.9", "gw:host-gateway"], gateway: "10.89.0.1")
        #expect(h.hasPrefix("127.0.0.1\tlocalhost\n") && h.contains("10.89.0.9\tdb\n") && h.contains("10.89.0.1\tgw\n")
                && h.hasSuffix("10.89.0.2\tweb\n"))
    }

    @Test func resolvers() {
        var o = ContainerConfig()
        // The default network: the host's resolvers without loopback ones.
        #expect(ContainerManager.resolvConf(o, networks: [], host: host) == "search example.test\nnameserver 192.0.2.53\noptions edns0\n")
        o.dns = ["198.51.100.1"]
        o.dnsSearch = ["corp.test"]
        o.dnsOptions = ["ndots:2"]
        #expect(ContainerManager.resolvConf(o, networks: [], host: host) == "search corp.test\nnameserver 198.51.100.1\noptions ndots:2\n")
        // A network with names: its dnsmasq first.
        let n = NetworkRecord(name: "shop", id: "x", bridge: "b", subnet: "10.89.0.0/24", gateway: "10.89.0.1", isInternal: false, dns: true, created: 0)
        #expect(ContainerManager.resolvConf(o, networks: [n], host: host)
                == "search dns.swctr corp.test\nnameserver 10.89.0.1\nnameserver 198.51.100.1\noptions ndots:2\n")
    }
}
