// Linux constants that Swift's Glibc module hides behind _GNU_SOURCE (values from the uapi
// headers; identical on every architecture swrunc builds for unless noted).
// The CLONE_NEW* flags are HostOS's (CloneFlags.swift): swctr uses them too.

let O_PATH: Int32 = 0o10000000
let AT_EMPTY_PATH: Int32 = 0x1000

let PR_SET_DUMPABLE: Int32 = 4
let PR_SET_PDEATHSIG: Int32 = 1
let PR_SET_KEEPCAPS: Int32 = 8
let PR_SET_CHILD_SUBREAPER: Int32 = 36
let PR_SET_NO_NEW_PRIVS: Int32 = 38
let PR_CAP_AMBIENT: Int32 = 47
let PR_CAP_AMBIENT_RAISE: Int32 = 2
let PR_CAP_AMBIENT_CLEAR_ALL: Int32 = 4

// open_tree(2), mount_setattr(2), move_mount(2) (linux/mount.h, linux/fcntl.h).
let OPEN_TREE_CLONE: UInt32 = 1
let AT_RECURSIVE: UInt32 = 0x8000
let MOUNT_ATTR_IDMAP: UInt64 = 0x0010_0000
let MOVE_MOUNT_F_EMPTY_PATH: UInt32 = 0x4
let MOVE_MOUNT_T_EMPTY_PATH: UInt32 = 0x40
