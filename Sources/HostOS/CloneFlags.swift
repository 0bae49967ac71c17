// The namespace flags of clone(2)/unshare(2)/setns(2), which Swift's Glibc module hides behind
// _GNU_SOURCE (values from the uapi headers, the same on every architecture).
public let CLONE_NEWNS: Int32 = 0x0002_0000
public let CLONE_NEWCGROUP: Int32 = 0x0200_0000
public let CLONE_NEWUTS: Int32 = 0x0400_0000
public let CLONE_NEWIPC: Int32 = 0x0800_0000
public let CLONE_NEWUSER: Int32 = 0x1000_0000
public let CLONE_NEWPID: Int32 = 0x2000_0000
public let CLONE_NEWNET: Int32 = 0x4000_0000
public let CLONE_NEWTIME: Int32 = 0x80
