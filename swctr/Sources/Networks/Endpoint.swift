/// One network a container is on: the network, the container's other names there, and the
/// address and MAC it asked for (`--ip`, `--mac-address`, `network connect --alias --ip`).
public struct Endpoint: Codable, Sendable, Equatable {
    public var network: String
    public var aliases: [String]?
    public var ip: String?
    public var mac: String?

    public init(network: String, aliases: [String]? = nil, ip: String? = nil, mac: String? = nil) {
        self.network = network
        self.aliases = aliases
        self.ip = ip
        self.mac = mac
    }
}

/// A MAC address as `--mac-address` takes it: six hex pairs split by colons, unicast.
public enum MACAddress {
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && UInt8($0, radix: 16) != nil }) else { return false }
        return (UInt8(parts[0], radix: 16) ?? 1) & 1 == 0
    }
}
