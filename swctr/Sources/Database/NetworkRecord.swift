import GRDB

/// A network: a Linux bridge (or a macvlan/ipvlan parent) with one subnet, set up per container
/// by the CNI plugins from the conflist swctr generates for it.
public struct NetworkRecord: Codable, Sendable, FetchableRecord, PersistableRecord, Equatable {
    public static let databaseTableName = "network"
    public var name: String
    /// 64 hex digits, as Docker's network IDs.
    public var id: String
    /// bridge, macvlan or ipvlan.
    public var driver: String
    /// The Linux bridge (`-o com.docker.network.bridge.name=`, else swctr<N>); for macvlan and
    /// ipvlan a unique placeholder (the column is unique), the parent is in `options`.
    public var bridge: String
    public var subnet: String
    public var gateway: String
    /// No masquerading out of the subnet (`--internal`).
    public var isInternal: Bool
    /// Names resolve through the dnsname plugin (user-defined networks; not the default bridge).
    public var dns: Bool
    public var labels: String
    public var created: Double
    /// `--ip-range`: the part of the subnet containers get addresses from ("" for all of it).
    public var ipRange: String
    /// The driver's `-o` options as a JSON object (parent, macvlan_mode, ipvlan_mode).
    public var options: String

    public init(name: String, id: String, driver: String = "bridge", bridge: String, subnet: String, gateway: String,
                isInternal: Bool, dns: Bool, labels: String = "{}", created: Double, ipRange: String = "", options: String = "{}") {
        self.name = name
        self.id = id
        self.driver = driver
        self.bridge = bridge
        self.subnet = subnet
        self.gateway = gateway
        self.isInternal = isInternal
        self.dns = dns
        self.labels = labels
        self.created = created
        self.ipRange = ipRange
        self.options = options
    }

    public var isBridge: Bool { driver == "bridge" }
}

extension StoreDatabase {
    public func networks() throws -> [NetworkRecord] {
        try queue.read { db in try NetworkRecord.order(Column("created")).fetchAll(db) }
    }

    /// Inserts a network; a name or bridge taken is `.conflict`.
    public func insertNetwork(_ n: NetworkRecord) throws {
        do {
            try queue.write { db in try n.insert(db) }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw SwctrError(.conflict, "network with name \(n.name) already exists")
        }
    }

    public func deleteNetwork(_ name: String) throws {
        _ = try queue.write { db in try NetworkRecord.deleteOne(db, key: name) }
    }
}
