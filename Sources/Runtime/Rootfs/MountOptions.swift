import Glibc

/// A spec mount's `options` split into what each kernel interface takes: mount(2) flags,
/// propagation changes applied afterwards, recursive attributes for mount_setattr(2), and the
/// rest as the filesystem's data string.
public struct MountOptions: Equatable, Sendable {
    public var flags: UInt = 0
    /// Flags that were explicitly cleared (`rw`, `suid`, …): they matter for remounts.
    public var clearedFlags: UInt = 0
    public var propagation: [UInt] = []
    public var recursiveSet: UInt64 = 0
    public var recursiveClear: UInt64 = 0
    public var data: [String] = []
    /// runc extension: copy the existing content of the target into a new tmpfs.
    public var tmpcopyup = false
    /// runtime-spec 1.2: `idmap` maps the mount's own ids only, `ridmap` its submounts' too.
    public var idmap: IDMapScope?

    public enum IDMapScope: Sendable { case mountOnly, recursive }

    public var isBind: Bool { flags & UInt(MS_BIND) != 0 }

    static let flagTable: [String: (clear: Bool, flag: UInt)] = [
        "defaults": (false, 0), "ro": (false, UInt(MS_RDONLY)), "rw": (true, UInt(MS_RDONLY)),
        "suid": (true, UInt(MS_NOSUID)), "nosuid": (false, UInt(MS_NOSUID)),
        "dev": (true, UInt(MS_NODEV)), "nodev": (false, UInt(MS_NODEV)),
        "exec": (true, UInt(MS_NOEXEC)), "noexec": (false, UInt(MS_NOEXEC)),
        "sync": (false, UInt(MS_SYNCHRONOUS)), "async": (true, UInt(MS_SYNCHRONOUS)),
        "dirsync": (false, UInt(MS_DIRSYNC)), "remount": (false, UInt(MS_REMOUNT)),
        "mand": (false, UInt(MS_MANDLOCK)), "nomand": (true, UInt(MS_MANDLOCK)),
        "atime": (true, UInt(MS_NOATIME)), "noatime": (false, UInt(MS_NOATIME)),
        "diratime": (true, UInt(MS_NODIRATIME)), "nodiratime": (false, UInt(MS_NODIRATIME)),
        "relatime": (false, UInt(MS_RELATIME)), "norelatime": (true, UInt(MS_RELATIME)),
        "strictatime": (false, UInt(MS_STRICTATIME)), "nostrictatime": (true, UInt(MS_STRICTATIME)),
        "bind": (false, UInt(MS_BIND)), "rbind": (false, UInt(MS_BIND) | UInt(MS_REC)),
        "silent": (false, UInt(MS_SILENT)), "loud": (true, UInt(MS_SILENT)),
        "lazytime": (false, UInt(MS_LAZYTIME)), "nolazytime": (true, UInt(MS_LAZYTIME)),
        "iversion": (false, UInt(MS_I_VERSION)), "noiversion": (true, UInt(MS_I_VERSION)),
    ]

    static let propagationTable: [String: UInt] = [
        "private": UInt(MS_PRIVATE), "rprivate": UInt(MS_PRIVATE) | UInt(MS_REC),
        "shared": UInt(MS_SHARED), "rshared": UInt(MS_SHARED) | UInt(MS_REC),
        "slave": UInt(MS_SLAVE), "rslave": UInt(MS_SLAVE) | UInt(MS_REC),
        "unbindable": UInt(MS_UNBINDABLE), "runbindable": UInt(MS_UNBINDABLE) | UInt(MS_REC),
    ]

    // MOUNT_ATTR_* from linux/mount.h.
    static let attrRdonly: UInt64 = 0x1, attrNosuid: UInt64 = 0x2, attrNodev: UInt64 = 0x4,
               attrNoexec: UInt64 = 0x8, attrAtimeMask: UInt64 = 0x70, attrRelatime: UInt64 = 0,
               attrNoatime: UInt64 = 0x10, attrStrictatime: UInt64 = 0x20, attrNodiratime: UInt64 = 0x80,
               attrNosymfollow: UInt64 = 0x200000

    static let recursiveTable: [String: (clear: Bool, attr: UInt64)] = [
        "rro": (false, attrRdonly), "rrw": (true, attrRdonly),
        "rnosuid": (false, attrNosuid), "rsuid": (true, attrNosuid),
        "rnodev": (false, attrNodev), "rdev": (true, attrNodev),
        "rnoexec": (false, attrNoexec), "rexec": (true, attrNoexec),
        "rnodiratime": (false, attrNodiratime), "rdiratime": (true, attrNodiratime),
        "rnosymfollow": (false, attrNosymfollow), "rsymfollow": (true, attrNosymfollow),
    ]

    public static let knownNames: [String] =
        (Array(flagTable.keys) + Array(propagationTable.keys) + Array(recursiveTable.keys)
            + ["rnoatime", "ratime", "rrelatime", "rnorelatime", "rstrictatime", "rnostrictatime", "tmpcopyup",
               "idmap", "ridmap"]).sorted()

    public init(_ options: [String]) {
        for option in options {
            if let entry = Self.flagTable[option] {
                if entry.clear {
                    flags &= ~entry.flag
                    clearedFlags |= entry.flag
                } else {
                    flags |= entry.flag
                }
            } else if let p = Self.propagationTable[option] {
                propagation.append(p)
            } else if let r = Self.recursiveTable[option] {
                if r.clear { recursiveClear |= r.attr } else { recursiveSet |= r.attr }
            } else if option == "rnoatime" || option == "rstrictatime" || option == "rrelatime" || option == "ratime" {
                recursiveClear |= Self.attrAtimeMask
                if option == "rnoatime" { recursiveSet |= Self.attrNoatime }
                if option == "rstrictatime" { recursiveSet |= Self.attrStrictatime }
            } else if option == "rnorelatime" || option == "rnostrictatime" {
                recursiveClear |= Self.attrAtimeMask
            } else if option == "tmpcopyup" {
                tmpcopyup = true
            } else if option == "idmap" {
                idmap = .mountOnly
            } else if option == "ridmap" {
                idmap = .recursive
            } else {
                data.append(option)
            }
        }
    }

    /// Flags that a bind mount only gets through a second, remounting mount(2) call.
    public var bindRemountFlags: UInt {
        flags & ~(UInt(MS_BIND) | UInt(MS_REC) | UInt(MS_REMOUNT))
    }
}
