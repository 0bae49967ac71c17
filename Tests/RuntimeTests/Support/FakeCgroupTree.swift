import Foundation

/// A fake cgroupfs tree for the cgroup tests: a directory per controller ("" = the unified
/// hierarchy) holding the given files with their contents; removed by `remove()`.
struct FakeCgroupTree {
    let root: String
    let paths: [String: String]

    init(_ files: [String: [String: String]]) throws {
        root = NSTemporaryDirectory() + "swrunc-fakecg-\(UUID().uuidString)"
        var paths: [String: String] = [:]
        for (controller, contents) in files {
            let dir = root + "/" + (controller.isEmpty ? "unified" : controller) + "/ctr"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for (name, text) in contents { _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8)) }
            paths[controller] = dir
        }
        self.paths = paths
    }

    /// Empty knob files by controller.
    init(empty files: [String: [String]]) throws {
        try self.init(files.mapValues { names in Dictionary(uniqueKeysWithValues: names.map { ($0, "") }) })
    }

    /// A file's content without its trailing newline (the drivers write over the fixtures'
    /// contents in place, as on cgroupfs).
    func read(_ controller: String, _ file: String) -> String {
        guard let dir = paths[controller], let text = try? String(contentsOfFile: dir + "/" + file, encoding: .utf8) else { return "<missing>" }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
