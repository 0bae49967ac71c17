import Foundation
import Logs
import Testing

@Suite("json-file logs: lines, partial writes, rotation, tail, follow")
struct LogTests {
    func scratch() -> String {
        let dir = NSTemporaryDirectory() + "swctr-logs-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func linesSplitAcrossWritesBecomeOneEntryEach() throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try LogWriter(path: dir + "/c.log")
        w.write(Array("he".utf8)[...], stream: .stdout)
        w.write(Array("llo\nerr\n".utf8)[...], stream: .stdout)
        w.write(Array("oops\n".utf8)[...], stream: .stderr)
        w.write(Array("no newline".utf8)[...], stream: .stdout)
        w.flush()
        let entries = LogReader(path: dir + "/c.log").entries()
        #expect(entries.map(\.text) == ["hello\n", "err\n", "oops\n", "no newline"])
        #expect(entries.map(\.stream) == [.stdout, .stdout, .stderr, .stdout])
        #expect(LogReader(path: dir + "/c.log").entries(.init(tail: 1)).map(\.text) == ["no newline"])
        // Docker's format: one JSON object per line.
        let first = try String(contentsOfFile: dir + "/c.log", encoding: .utf8).split(separator: "\n")[0]
        let object = try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: String]
        #expect(object?["log"] == "hello\n" && object?["stream"] == "stdout" && object?["time"]?.hasSuffix("Z") == true)
    }

    @Test func rotationKeepsMaxFilesAndTheReaderSeesThemInOrder() throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try LogWriter(path: dir + "/c.log", maxSize: 200, maxFiles: 3)
        for i in 0..<40 { w.write(Array("line \(i)\n".utf8)[...], stream: .stdout) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == ["c.log", "c.log.1", "c.log.2"])
        let texts = LogReader(path: dir + "/c.log", maxFiles: 3).entries().map(\.text)
        #expect(texts.last == "line 39\n")
        #expect(texts == texts.sorted { Int($0.dropFirst(5).dropLast())! < Int($1.dropFirst(5).dropLast())! })
        #expect(texts.count < 40)
    }

    @Test func followPrintsTheHistoryThenNewLinesUntilStopped() throws {
        let dir = scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try LogWriter(path: dir + "/c.log")
        w.write(Array("old 1\nold 2\n".utf8)[...], stream: .stdout)
        var seen: [String] = []
        var polls = 0
        LogReader(path: dir + "/c.log").follow(.init(tail: 1), emit: { seen.append($0.text) }, stop: {
            polls += 1
            if polls == 1 { w.write(Array("new\n".utf8)[...], stream: .stdout); return false }
            return true
        })
        #expect(seen == ["old 2\n", "new\n"])
    }

    @Test func timesAndDurations() {
        #expect(LogTime.parseDuration("1m30s") == 90_000_000_000)
        #expect(LogTime.parseDuration("250ms") == 250_000_000)
        #expect(LogTime.parseDuration("soon") == nil)
        let now: Int64 = 1_000_000 * 1_000_000_000
        #expect(LogTime.parse("10s", now: now) == now - 10_000_000_000)
        #expect(LogTime.parseRFC3339("1970-01-01T00:00:01.5Z") == 1_500_000_000)
    }
}
