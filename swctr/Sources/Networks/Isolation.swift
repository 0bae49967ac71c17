import HostOS

/// Docker keeps its networks apart: a container reaches the containers of its own network,
/// not another's (by address; names already differ per network). The CNI plugins do not do
/// this, so swctr keeps one iptables chain, SWCTR-ISOLATION, jumped to first from FORWARD,
/// with a DROP for every ordered pair of its bridges; rebuilt whenever a network comes or
/// goes, removed with the last network.
public enum Isolation {
    public static let chain = "SWCTR-ISOLATION"
    static let iptables = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"].first { FileIO.exists($0) } ?? "iptables"

    @discardableResult
    static func run(_ args: [String]) -> Bool {
        (try? Spawn.capture([iptables, "-w"] + args))?.status == .exited(0)
    }

    public static func sync(bridges: [String]) {
        let exists = run(["-t", "filter", "-n", "-L", chain])
        if bridges.count < 2 {
            if exists {
                while run(["-t", "filter", "-D", "FORWARD", "-j", chain]) {}
                run(["-t", "filter", "-F", chain])
                run(["-t", "filter", "-X", chain])
            }
            return
        }
        if !exists { run(["-t", "filter", "-N", chain]) }
        run(["-t", "filter", "-F", chain])
        for a in bridges {
            for b in bridges where a != b {
                run(["-t", "filter", "-A", chain, "-i", a, "-o", b, "-j", "DROP"])
            }
        }
        if !run(["-t", "filter", "-C", "FORWARD", "-j", chain]) { run(["-t", "filter", "-I", "FORWARD", "1", "-j", chain]) }
    }
}
