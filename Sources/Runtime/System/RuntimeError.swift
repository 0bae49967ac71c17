import HostOS

/// The runtime's errors are the OS layer's: a message that says where, and the errno.
public typealias RuntimeError = SystemError
