import HostOS
import CShim
import JSON
import OCI
import Glibc

/// A child's uid_map and gid_map, written by the parent through HostOS's IDMaps; errors name
/// the config field.
enum IDMapFiles {
    static func write(pid: Int32, uid: [IDMapping], gid: [IDMapping], prefix: String) throws(RuntimeError) {
        func ranges(_ maps: [IDMapping]) -> [IDRange] {
            maps.map { IDRange(inside: $0.containerID, outside: $0.hostID, count: $0.size) }
        }
        do {
            try IDMaps.write(pid: pid, uid: ranges(uid), gid: ranges(gid), names: (prefix + "uidMappings", prefix + "gidMappings"))
        } catch {
            throw RuntimeError(error.message, errno: error.errno)
        }
    }
}
