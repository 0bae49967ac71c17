import Containers
import Database
import JSON
import RuntimeClient
import Testing

@Suite("cp's destination rules, stats units and readings, commit's --change")
struct FilesAndStatsTests {
    @Test func copyPlansFollowDockersRules() throws {
        // A file into an existing directory keeps its name.
        #expect(try CopyPlan.resolve(source: "/etc/hosts", sourceIsDirectory: false, destination: "/tmp", existing: .directory, parentExists: true)
                == CopyPlan(directory: "/tmp", name: "hosts"))
        // A file onto a missing name takes that name; onto an existing file replaces it.
        #expect(try CopyPlan.resolve(source: "/etc/hosts", sourceIsDirectory: false, destination: "/tmp/h", existing: .missing, parentExists: true)
                == CopyPlan(directory: "/tmp", name: "h"))
        #expect(try CopyPlan.resolve(source: "hosts", sourceIsDirectory: false, destination: "/tmp/h", existing: .file, parentExists: true)
                == CopyPlan(directory: "/tmp", name: "h"))
        // A directory into an existing one nests; its contents ("/.") do not; onto a missing name it is renamed.
        #expect(try CopyPlan.resolve(source: "/etc", sourceIsDirectory: true, destination: "/tmp", existing: .directory, parentExists: true)
                == CopyPlan(directory: "/tmp", name: "etc"))
        #expect(try CopyPlan.resolve(source: "/etc/.", sourceIsDirectory: true, destination: "/tmp", existing: .directory, parentExists: true)
                == CopyPlan(directory: "/tmp", name: ""))
        #expect(try CopyPlan.resolve(source: "/etc/", sourceIsDirectory: true, destination: "/tmp/x", existing: .missing, parentExists: true)
                == CopyPlan(directory: "/tmp", name: "x"))
        // Errors: a directory onto a file, a missing parent, a file into a missing "dir/".
        #expect(throws: SwctrError.self) {
            try CopyPlan.resolve(source: "/etc", sourceIsDirectory: true, destination: "/tmp/f", existing: .file, parentExists: true)
        }
        #expect(throws: SwctrError.self) {
            try CopyPlan.resolve(source: "/a", sourceIsDirectory: false, destination: "/no/where", existing: .missing, parentExists: false)
        }
        #expect(throws: SwctrError.self) {
            try CopyPlan.resolve(source: "/a", sourceIsDirectory: false, destination: "/tmp/new/", existing: .missing, parentExists: true)
        }
    }

    @Test func sizesAreWrittenInDockersUnits() {
        #expect(StatsLine.decimalSize(0) == "0B")
        #expect(StatsLine.decimalSize(648) == "648B")
        #expect(StatsLine.decimalSize(1200) == "1.2kB")
        #expect(StatsLine.decimalSize(5_255_168) == "5.26MB")
        #expect(StatsLine.binarySize(5_931_008) == "5.656MiB")
        #expect(StatsLine.binarySize(64 << 20) == "64MiB")
        #expect(StatsLine.fixed(0.4512, 2) == "0.45")
        #expect(StatsLine.fixed(100, 2) == "100.00")
    }

    @Test func aStatsLineComesFromTwoReadings() throws {
        let document = #"{"type":"stats","id":"x","data":{"cpu":{"usage":{"total":3000000000}},"memory":{"usage":{"usage":10485760,"limit":9223372036854772000},"raw":{"total_inactive_file":2097152}},"pids":{"current":3},"blkio":{"ioServiceBytesRecursive":[{"major":8,"minor":0,"op":"Read","value":4096},{"major":8,"minor":0,"op":"Write","value":1000000},{"major":8,"minor":0,"op":"Total","value":1004096}]}}}"#
        var counters = try RuntimeStats(document: Array(document.utf8))
        #expect(counters.cpuNanoseconds == 3_000_000_000 && counters.pids == 3 && counters.blockRead == 4096 && counters.blockWrite == 1_000_000)
        #expect(counters.inactiveFile == 2_097_152)
        let first = StatsSample(id: String(repeating: "a", count: 64), name: "web", running: true, counters: counters,
                                takenAt: 10_000_000_000, startedAt: 4_000_000_000)
        // No earlier reading: the average since the start (3 s of CPU in 6 s).
        var row = StatsLine.row(first, previous: nil, hostMemory: 1 << 30)
        let line = try GoTemplate("{{.ID}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.BlockIO}} {{.PIDs}}").render(row)
        #expect(line == "aaaaaaaaaaaa 50.00% 8MiB / 1GiB 0.78% 4.1kB / 1MB 3")
        // A second reading a second later with 0.25 s more CPU: 25%.
        counters.cpuNanoseconds += 250_000_000
        let second = StatsSample(id: first.id, name: "web", running: true, counters: counters, takenAt: 11_000_000_000, startedAt: 4_000_000_000)
        row = StatsLine.row(second, previous: first, hostMemory: 1 << 30)
        #expect(try GoTemplate("{{.CPUPerc}}").render(row) == "25.00%")
        #expect(throws: RuntimeCallError.self) { try RuntimeStats(document: Array("[]".utf8)) }
    }

    @Test func commitChangesEditTheImageConfig() throws {
        var config = JSONObject()
        config.set("Env", .array([.string("PATH=/bin"), .string("A=1")]))
        try ContainerManager.apply(#"CMD ["httpd", "-f"]"#, to: &config)
        try ContainerManager.apply("ENTRYPOINT echo hi", to: &config)
        try ContainerManager.apply("ENV A=2 B=3", to: &config)
        try ContainerManager.apply("LABEL app=\"shop\"", to: &config)
        try ContainerManager.apply("EXPOSE 80 53/udp", to: &config)
        try ContainerManager.apply("workdir /srv", to: &config)
        #expect(JSONValue.object(config).serialized() == #"{"Env":["PATH=/bin","A=2","B=3"],"Cmd":["httpd","-f"],"Entrypoint":["/bin/sh","-c","echo hi"],"Labels":{"app":"shop"},"ExposedPorts":{"80/tcp":{},"53/udp":{}},"WorkingDir":"/srv"}"#)
        #expect(throws: SwctrError.self) { try ContainerManager.apply("RUN rm -rf /", to: &config) }
        #expect(throws: SwctrError.self) { try ContainerManager.apply("ENV novalue", to: &config) }
    }
}
