import ArgumentParser
import Containers
import Database
import Glibc

/// `cp`: files between a container and the host (or a tar stream, `-`), Docker's rules.
struct Cp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy files between a container and the host.",
        discussion: "swctr cp [OPTIONS] CONTAINER:SRC DEST|-   or   swctr cp [OPTIONS] SRC|- CONTAINER:DEST")
    @OptionGroup var global: Global
    @Flag(name: [.customShort("a"), .customLong("archive")], help: "Keep owners (uid and gid) from the source.") var archive = false
    @Flag(name: [.customShort("L"), .customLong("follow-link")], help: "Follow a symlink given as SRC.") var followLink = false
    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "Do not report what was copied.") var quiet = false
    @Argument var source: String
    @Argument var destination: String

    /// `NAME:PATH` names a container's path; a path starting with / or . is local even with a colon.
    static func split(_ arg: String) -> (String, String)? {
        guard !arg.hasPrefix("/"), !arg.hasPrefix("."), let colon = arg.firstIndex(of: ":") else { return nil }
        return (String(arg[..<colon]), String(arg[arg.index(after: colon)...]))
    }

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        let bytes: Int64
        do throws(SwctrError) {
            switch (Self.split(source), Self.split(destination)) {
            case (let (ref, path)?, nil):
                bytes = try manager.copyOut(ref, path: path.isEmpty ? "/" : path, to: destination, followLink: followLink, keepOwners: archive)
            case (nil, let (ref, path)?):
                bytes = try manager.copyIn(ref, from: source, path: path.isEmpty ? "/" : path, followLink: followLink, keepOwners: archive)
            case (.some, .some):
                throw SwctrError(.invalidArgument, "copying between containers is not supported")
            case (nil, nil):
                throw SwctrError(.invalidArgument, "must specify at least one container source")
            }
        } catch { fail(error) }
        if !quiet && source != "-" && destination != "-" {
            writeStderr("Successfully copied \(StatsLine.decimalSize(UInt64(max(0, bytes)))) to \(destination)\n")
        }
    }
}

/// `diff`: files the container added (A), changed (C) or deleted (D).
struct Diff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what a container changed in its filesystem.")
    @OptionGroup var global: Global
    @Argument var container: String

    func run() async throws {
        let changes: [FileChange]
        do { changes = try global.manager(needsRuntime: false).diff(container) } catch { fail(error) }
        for c in changes { print("\(c.kind) \(c.path)") }
    }
}

/// `export`: the container's filesystem as a tar, on stdout or in a file.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a container's filesystem as a tar archive.")
    @OptionGroup var global: Global
    @Option(name: [.customShort("o"), .customLong("output")], help: "Write to this file instead of stdout.") var output: String?
    @Argument var container: String

    func run() async throws {
        let manager = global.manager(needsRuntime: false)
        var fd: Int32 = 1
        if let output {
            fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { fail("open \(output): \(String(cString: strerror(errno)))") }
        } else if isatty(1) == 1 {
            fail("cowardly refusing to write a tar to a terminal: redirect stdout or use -o FILE")
        }
        do { try manager.export(container, to: fd) } catch {
            if let output { unlink(output) }
            fail(error)
        }
        if fd != 1 { close(fd) }
    }
}
