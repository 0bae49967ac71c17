import Glibc
import HostOS
import Monitor

// swctr-monitor DIR [--sync-fd N] [--wait-attach] | --version: the monitor of the container in DIR. Started by
// swctr in a session of its own; it outlives the CLI.
let args = Array(CommandLine.arguments.dropFirst())
if args.first == "--version" {
    _ = "swctr-monitor version 0.3.0\n".withCString { write(1, $0, strlen($0)) }
    exit(0)
}
// --userns-holder READFD WRITEFD: a rootless user's namespace holder (see NamespaceHolder).
if args.first == "--userns-holder", args.count == 3, let r = Int32(args[1]), let w = Int32(args[2]) {
    ProcessControl.closeFDs(from: 3, keeping: [r, w])
    // Reparented at once, like a monitor: whoever started it collects no child that never ends.
    switch fork() {
    case -1: exit(1)
    case 0: NamespaceHolder.run(readFD: r, writeFD: w)
    default: exit(0)
    }
}
guard let directory = args.first else {
    _ = "usage: swctr-monitor DIR [--sync-fd N] [--wait-attach]\n".withCString { write(2, $0, strlen($0)) }
    exit(2)
}
var syncFD: Int32 = -1
if let i = args.firstIndex(of: "--sync-fd"), i + 1 < args.count { syncFD = Int32(args[i + 1]) ?? -1 }
// Nothing of the CLI's reaches the container: only stdio (/dev/null) and the sync pipe stay.
ProcessControl.closeFDs(from: 3, keeping: syncFD >= 0 ? [syncFD] : [])
// Not the CLI's child for long: the parent returns at once (the CLI reaps it), the monitor lives
// on reparented, so a long-lived caller (compose) collects no zombies.
switch fork() {
case -1: exit(1)
case 0: break
default: exit(0)
}
if syncFD >= 0 { ProcessControl.setCloseOnExec(syncFD, true) }
do {
    let config = try MonitorConfig.load(directory: directory)
    let supervisor = try Supervisor(config: config, syncFD: syncFD, waitForAttach: args.contains("--wait-attach"))
    exit(supervisor.run())
} catch {
    let line = "error failed monitor: \(error)\n"
    if syncFD >= 0 { _ = line.withCString { write(syncFD, $0, strlen($0)) } }
    exit(1)
}
