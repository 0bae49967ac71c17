// Linux constants that Swift's Glibc module hides behind _GNU_SOURCE (values from the uapi
// headers; identical on every architecture swrunc builds for unless noted).
let CLONE_NEWNS: Int32 = 0x0002_0000
let CLONE_NEWCGROUP: Int32 = 0x0200_0000
let CLONE_NEWUTS: Int32 = 0x0400_0000
let CLONE_NEWIPC: Int32 = 0x0800_0000
let CLONE_NEWUSER: Int32 = 0x1000_0000
let CLONE_NEWPID: Int32 = 0x2000_0000
let CLONE_NEWNET: Int32 = 0x4000_0000
let CLONE_NEWTIME: Int32 = 0x80

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
