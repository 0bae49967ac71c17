import Database
import HostOS

/// An IPv4 subnet (`10.89.0.0/24`) and the address arithmetic networks need.
public struct Subnet: Sendable, Equatable, CustomStringConvertible {
    public var network: UInt32
    public var prefix: Int

    public init(parsing text: String) throws(SwctrError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let ip = Self.address(String(parts[0])), let p = Int(parts[1]), (8...30).contains(p) else {
            throw SwctrError(.invalidArgument, "invalid subnet \(text): want an IPv4 CIDR such as 10.89.0.0/24 (prefix 8 to 30)")
        }
        prefix = p
        network = ip & Self.mask(p)
        guard network == ip else { throw SwctrError(.invalidArgument, "invalid subnet \(text): host bits are set (did you mean \(Self.text(network))/\(p)?)") }
    }

    public init(network: UInt32, prefix: Int) {
        self.network = network & Self.mask(prefix)
        self.prefix = prefix
    }

    public var description: String { "\(Self.text(network))/\(prefix)" }
    public var firstHost: UInt32 { network + 1 }
    public var lastHost: UInt32 { network | ~Self.mask(prefix) - 1 }

    public func contains(_ ip: UInt32) -> Bool { ip & Self.mask(prefix) == network }
    public func overlaps(_ other: Subnet) -> Bool {
        let p = min(prefix, other.prefix)
        return network & Self.mask(p) == other.network & Self.mask(p)
    }

    static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix) }

    public static func address(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard let n = UInt8(o), String(n) == o else { return nil }
            v = v << 8 | UInt32(n)
        }
        return v
    }

    public static func text(_ ip: UInt32) -> String { "\(ip >> 24).\(ip >> 16 & 0xff).\(ip >> 8 & 0xff).\(ip & 0xff)" }

    /// The host's IPv4 routes but the default one (/proc/net/route): a new network must not overlap them.
    public static func hostRoutes() -> [Subnet] {
        guard let table = try? FileIO.readString("/proc/net/route") else { return [] }
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard f.count > 7, let dest = UInt32(f[1], radix: 16), let mask = UInt32(f[7], radix: 16), mask != 0 else { return nil }
            // The file holds addresses in the host's (little-endian) byte order.
            return Subnet(network: dest.byteSwapped, prefix: mask.nonzeroBitCount)
        }
    }

    /// The first of Docker's private pools that overlaps neither `taken` nor a host route.
    public static func free(avoiding taken: [Subnet]) throws(SwctrError) -> Subnet {
        let routes = hostRoutes()
        var candidates = (17...31).map { Subnet(network: 172 << 24 | UInt32($0) << 16, prefix: 16) }
        candidates += (0...255).map { Subnet(network: 10 << 24 | 89 << 16 | UInt32($0) << 8, prefix: 24) }
        for c in candidates where !(taken + routes).contains(where: { $0.overlaps(c) }) { return c }
        throw SwctrError(.conflict, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")
    }
}
