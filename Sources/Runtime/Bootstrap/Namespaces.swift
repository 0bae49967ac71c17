import Glibc
import HostOS
import OCI

/// The namespace part of a config, resolved once: what to join by path, what to create.
struct NamespacePlan: Sendable {
    /// Namespaces to join, user namespace first (so later joins happen with its privileges).
    var joins: [(type: NamespaceType, path: String)] = []
    /// clone/unshare flags for the namespaces to create.
    var newFlags: Int32 = 0

    var newUser: Bool { newFlags & CLONE_NEWUSER != 0 }
    var newPid: Bool { newFlags & CLONE_NEWPID != 0 }
    var newTime: Bool { newFlags & CLONE_NEWTIME != 0 }
    var newMount: Bool { newFlags & CLONE_NEWNS != 0 }
    var newCgroup: Bool { newFlags & CLONE_NEWCGROUP != 0 }
    var newNetwork: Bool { newFlags & CLONE_NEWNET != 0 }
    func has(_ type: NamespaceType) -> Bool {
        newFlags & type.cloneFlag != 0 || joins.contains { $0.type == type }
    }
    var joinsPid: Bool { joins.contains { $0.type == .pid } }
    var userNamespace: Bool { has(.user) }

    init(_ namespaces: [OCI.Namespace]) {
        for ns in namespaces {
            guard let type = NamespaceType(rawValue: ns.type) else { continue }
            if let path = ns.path, !path.isEmpty {
                joins.append((type, path))
            } else {
                newFlags |= type.cloneFlag
            }
        }
        joins.sort { a, b in a.type == .user && b.type != .user }
    }
}

extension NamespaceType {
    var cloneFlag: Int32 {
        switch self {
        case .pid: CLONE_NEWPID
        case .network: CLONE_NEWNET
        case .mount: CLONE_NEWNS
        case .ipc: CLONE_NEWIPC
        case .uts: CLONE_NEWUTS
        case .user: CLONE_NEWUSER
        case .cgroup: CLONE_NEWCGROUP
        case .time: CLONE_NEWTIME
        }
    }

    /// The name under /proc/<pid>/ns/.
    var procName: String {
        switch self {
        case .network: "net"
        case .mount: "mnt"
        default: rawValue
        }
    }
}

