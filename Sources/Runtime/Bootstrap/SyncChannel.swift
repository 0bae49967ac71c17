import HostOS
import Glibc
import CShim

/// Messages between the runtime (parent) and the container's bootstrap stages.
enum SyncMessage: Equatable {
    /// parent → stage 1: you are in the cgroup, go on.
    case proceed
    /// stage 1 → parent: I unshared a user namespace; write my id maps.
    case needIDMaps
    /// parent → stage 1: maps are written.
    case idMapsWritten
    /// stage 1 → parent: the container init's host pid.
    case initPid(Int32)
    /// init → parent: mounts are done; run prestart/createRuntime hooks now.
    case runCreateRuntimeHooks
    /// parent → init: hooks ran.
    case createRuntimeHooksDone
    /// init → parent: fully set up, blocked before execve.
    case ready
    /// any stage → parent: a fatal error, with its errno and stage.
    case failed(RuntimeError)
    /// init → parent: a createContainer/startContainer hook failed (poststop hooks still run).
    case hookFailed(String)
    /// init → parent: the seccomp notify fd (travels with SCM_RIGHTS), for the listener agent.
    case seccompNotify(Int32)
    /// parent → init: the container is recorded; stop dying with the parent.
    case commit
    /// init → parent: done; the parent may exit (and end stage 1).
    case committed
    /// init → parent: make the source of bind mount `mounts[n]` (id-mapped, or out of the
    /// container root's reach: it takes the host's privileges).
    case needMountSource(Int32)
    /// parent → init: the detached mount tree (travels with SCM_RIGHTS).
    case mountSource(Int32)
    /// stage 1 → parent: I unshared a time namespace; write its clock offsets (from outside:
    /// a non-dumpable process in a user namespace cannot open its own timens_offsets).
    case needTimeOffsets
    /// parent → stage 1: offsets are written.
    case timeOffsetsWritten

    /// The fd a message carries with SCM_RIGHTS, if it is one that does.
    fileprivate var passedFD: Int32 {
        switch self {
        case .seccompNotify(let fd), .mountSource(let fd): fd
        default: -1
        }
    }

    fileprivate var tag: UInt8 {
        switch self {
        case .proceed: 1
        case .needIDMaps: 2
        case .idMapsWritten: 3
        case .initPid: 4
        case .runCreateRuntimeHooks: 5
        case .createRuntimeHooksDone: 6
        case .ready: 7
        case .failed: 8
        case .hookFailed: 9
        case .seccompNotify: 10
        case .commit: 11
        case .committed: 12
        case .needMountSource: 13
        case .mountSource: 14
        case .needTimeOffsets: 15
        case .timeOffsetsWritten: 16
        }
    }

    fileprivate func encode() -> [UInt8] {
        var out = [tag]
        switch self {
        case .initPid(let n), .needMountSource(let n): withUnsafeBytes(of: n.littleEndian) { out.append(contentsOf: $0) }
        case .failed(let error):
            withUnsafeBytes(of: (error.errno ?? -1).littleEndian) { out.append(contentsOf: $0) }
            for part in [error.stage ?? "", error.field ?? "", error.path ?? ""] {
                let bytes = Array(part.utf8.prefix(255))
                out.append(UInt8(bytes.count))
                out.append(contentsOf: bytes)
            }
            out.append(contentsOf: error.message.utf8.prefix(60_000))
        case .hookFailed(let message): out.append(contentsOf: message.utf8.prefix(60_000))
        default: break
        }
        return out
    }

    fileprivate static func decode(_ bytes: ArraySlice<UInt8>) -> SyncMessage? {
        guard let tag = bytes.first else { return nil }
        let body = bytes.dropFirst()
        switch tag {
        case 1: return .proceed
        case 2: return .needIDMaps
        case 3: return .idMapsWritten
        case 4, 13:
            guard body.count == 4 else { return nil }
            var v: Int32 = 0
            withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: body) }
            return tag == 4 ? .initPid(Int32(littleEndian: v)) : .needMountSource(Int32(littleEndian: v))
        case 5: return .runCreateRuntimeHooks
        case 6: return .createRuntimeHooksDone
        case 7: return .ready
        case 8:
            guard body.count >= 5 else { return nil }
            var code: Int32 = 0
            withUnsafeMutableBytes(of: &code) { $0.copyBytes(from: body.prefix(4)) }
            var rest = body.dropFirst(4)
            var parts: [String] = []
            for _ in 0..<3 {
                guard let length = rest.first.map(Int.init), rest.count > length else { return nil }
                parts.append(String(decoding: rest.dropFirst().prefix(length), as: UTF8.self))
                rest = rest.dropFirst(1 + length)
            }
            code = Int32(littleEndian: code)
            let part = { (i: Int) in parts[i].isEmpty ? nil : parts[i] }
            return .failed(RuntimeError(String(decoding: rest, as: UTF8.self), errno: code < 0 ? nil : code,
                                        stage: part(0), field: part(1), path: part(2)))
        case 9: return .hookFailed(String(decoding: body, as: UTF8.self))
        case 10: return .seccompNotify(-1)
        case 11: return .commit
        case 12: return .committed
        case 14: return .mountSource(-1)
        case 15: return .needTimeOffsets
        case 16: return .timeOffsetsWritten
        default: return nil
        }
    }
}

/// One end of a SOCK_SEQPACKET socketpair: message boundaries come from the kernel, and a peer
/// that dies shows up as end-of-file instead of a hang.
struct SyncChannel {
    let fd: Int32

    static func pair() throws(RuntimeError) -> (parent: SyncChannel, child: SyncChannel) {
        var fds: [Int32] = [-1, -1]
        try check("socketpair") { socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) }
        return (SyncChannel(fd: fds[0]), SyncChannel(fd: fds[1]))
    }

    func send(_ message: SyncMessage) throws(RuntimeError) {
        let bytes = message.encode()
        let n = bytes.withUnsafeBytes { cshim_send_msg(fd, $0.baseAddress, $0.count, message.passedFD) }
        if n < 0 { throw .sys("sync: send \(message)") }
    }

    /// Waits for the next message. `stage` names what is being waited for in errors;
    /// `timeout` in milliseconds (−1 waits forever).
    func receive(waitingFor stage: String, timeout: Int32 = 60_000) throws(RuntimeError) -> SyncMessage {
        guard let message = try receiveUnlessClosed(waitingFor: stage, timeout: timeout) else {
            throw RuntimeError("container init exited while waiting for \(stage)")
        }
        return message
    }

    /// Like `receive`, but a closed peer (it exited, or execve closed its end) yields nil.
    func receiveUnlessClosed(waitingFor stage: String, timeout: Int32 = 60_000) throws(RuntimeError) -> SyncMessage? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        // No timeout: no poll (one syscall fewer under a seccomp filter or a tight RLIMIT_NOFILE).
        while timeout >= 0 {
            let rc = poll(&pfd, 1, timeout)
            if rc < 0 {
                if errno == EINTR { continue }
                throw .sys("sync: wait for \(stage)")
            }
            if rc == 0 { throw RuntimeError("timed out waiting for \(stage)") }
            break
        }
        // Room for the largest message, left uninitialised: zero-filling 64 KiB for a message of
        // a few bytes cost a page fault per 4 KiB at every step of every bootstrap.
        var passed: Int32 = -1
        var n = 0
        let buf = [UInt8](unsafeUninitializedCapacity: 65536) { buffer, count in
            n = cshim_recv_msg(fd, buffer.baseAddress, buffer.count, &passed)
            count = max(n, 0)
        }
        if n < 0 { throw .sys("sync: receive while waiting for \(stage)") }
        if n == 0 { return nil }
        guard let message = SyncMessage.decode(buf[0..<n]) else {
            if passed >= 0 { Glibc.close(passed) }
            throw RuntimeError("sync: malformed message while waiting for \(stage)")
        }
        switch message {
        case .seccompNotify: return .seccompNotify(passed)
        case .mountSource:
            guard passed >= 0 else { throw RuntimeError("sync: mount source came without its fd while waiting for \(stage)") }
            return .mountSource(passed)
        default: break
        }
        if passed >= 0 { Glibc.close(passed) }
        return message
    }

    func close() { _ = Glibc.close(fd) }
}
