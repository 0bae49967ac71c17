import Foundation
import Testing
import OCI

/// Runs the swrunc binary under test (SWRUNC_BIN, else the package's debug build) with its own
/// `--root`, capturing output. Integration tests drive swrunc only through its CLI, as clients do.
struct Swrunc {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var ok: Bool { status == 0 }
    }

    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["SWRUNC_BIN"], !env.isEmpty { return env }
        return packageRoot + "/.build/debug/swrunc"
    }()

    let root: String

    init(root: String) { self.root = root }

    @discardableResult
    func callAsFunction(_ args: String..., stdin: String? = nil, env: [String: String] = [:]) -> Result {
        run(["--root", root] + args, stdin: stdin, env: env)
    }

    func run(_ args: [String], stdin: String? = nil, env: [String: String] = [:], binary: String = Swrunc.binary) -> Result {
        Self.exec([binary] + args, stdin: stdin, env: env)
    }

    /// Runs any command; stdout and stderr are collected through files so nothing can block.
    static func exec(_ argv: [String], stdin: String? = nil, env: [String: String] = [:], cwd: String? = nil) -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("swrunc-out-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let outURL = tmp.appendingPathComponent("out"), errURL = tmp.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try! FileHandle(forWritingTo: outURL), err = try! FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        do { try p.run() } catch {
            return Result(status: 127, stdout: "", stderr: "cannot run \(argv[0]): \(error)")
        }
        if let stdin {
            inPipe.fileHandleForWriting.write(Data(stdin.utf8))
            try? inPipe.fileHandleForWriting.close()
        }
        p.waitUntilExit()
        try? out.close()
        try? err.close()
        let o = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        return Result(status: p.terminationStatus, stdout: o, stderr: e)
    }

    static func sh(_ script: String) -> Result { exec(["/bin/sh", "-c", script]) }
}
