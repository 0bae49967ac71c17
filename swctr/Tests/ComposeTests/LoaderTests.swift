@testable import Compose
import Containers
import Database
import Glibc
import HostOS
import Testing

/// A project directory with these files, removed after the test.
func withProject(_ files: [String: String], _ body: (String) throws -> Void) throws {
    var template = Array("/tmp/swctr-compose-test-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw SwctrError("mkdtemp failed") }
    let dir = String(cString: made)
    defer { FileIO.removeTree(dir) }
    for (name, text) in files { try FileIO.writeFile(Array(text.utf8), to: dir + "/" + name) }
    try body(dir)
}

func load(_ dir: String, env: [String: String] = [:], configure: (inout ProjectOptions) -> Void = { _ in }) throws -> ComposeProject {
    var o = ProjectOptions(environment: env, currentDirectory: dir)
    configure(&o)
    return try ProjectLoader.load(o)
}

@Suite("compose files: interpolation, .env, merging, the model and its checks")
struct LoaderTests {
    @Test func interpolationAsComposeDoesIt() throws {
        var i = Interpolation(environment: ["A": "a", "EMPTY": ""])
        #expect(try i.apply("$A ${A} $$A ${B:-b} ${EMPTY:-e} ${EMPTY-e} ${A:+set} ${B+set} ${B:-${A}x}") == "a a $A b e  set  ax")
        #expect(throws: SwctrError.self) { try i.apply("${B:?need B}") }
        #expect(try i.apply("${EMPTY?no}") == "")
        #expect(throws: SwctrError.self) { try i.apply("${EMPTY:?empty is not enough}") }
        #expect(throws: SwctrError.self) { try i.apply("${A") }
        _ = try i.apply("$UNSET")
        #expect(i.unset == ["UNSET"])
    }

    @Test func dotEnvLines() throws {
        let pairs = try DotEnv.parse("# c\nA=1\nexport B = two words \nC='lit $x'\nD=\"a\\nb\"\nE=x # note\nF\n", file: ".env")
        #expect(pairs.map(\.0) == ["A", "B", "C", "D", "E", "F"])
        #expect(pairs.map(\.1) == ["1", "two words", "lit $x", "a\nb", "x", nil])
        #expect(throws: SwctrError.self) { try DotEnv.parse("BAD KEY=1\n", file: ".env") }
    }

    @Test func commandsSplitAsAShellSplitsThem() throws {
        let node = YAMLTree.null(.none)
        #expect(try Fields.shellSplit(#"echo "a b" 'c d' e\ f"#, node: node, path: "x") == ["echo", "a b", "c d", "e f"])
        #expect(throws: SwctrError.self) { try Fields.shellSplit("echo 'open", node: node, path: "x") }
        #expect(try Fields.duration(.scalar("1m30s", quoted: false, .none), "d") == 90_000_000_000)
        #expect(try Fields.duration(.scalar("500ms", quoted: false, .none), "d") == 500_000_000)
    }

    @Test func filesMergeInOrder() throws {
        let a = try YAMLTree.parse("services:\n  web:\n    image: a\n    command: [x]\n    ports: ['1:1']\n    environment: {A: 1}\n", file: "a")
        let b = try YAMLTree.parse("services:\n  web:\n    image: b\n    command: [y]\n    ports: ['2:2']\n    environment: {B: 2}\n", file: "b")
        let m = a.merged(with: b)
        let web = m["services"]?["web"]
        #expect(web?["image"] == .scalar("b", quoted: false, .none))
        #expect(web?["command"] == .seq([.scalar("y", quoted: false, .none)], .none))
        if case .seq(let ports, _)? = web?["ports"] { #expect(ports.count == 2) } else { Issue.record("ports") }
        if case .map(let env, _)? = web?["environment"] { #expect(env.map(\.key) == ["A", "B"]) } else { Issue.record("environment") }
    }

    @Test func yamlErrorsNameLineAndColumnAndAnchorsMerge() throws {
        #expect(throws: SwctrError.self) { try YAMLTree.parse("a:\n  b: 1\n c: 2\n", file: "f") }
        do { _ = try YAMLTree.parse("a: [1\n", file: "f.yaml") } catch { #expect(error.message.contains("f.yaml: line")) }
        let t = try YAMLTree.parse("x: &d {a: 1, b: 2}\ny:\n  <<: *d\n  b: 3\n", file: "f")
        if case .map(let y, _)? = t["y"] { #expect(y.map(\.key) == ["b", "a"]) } else { Issue.record("merge key") }
    }

    @Test func aProjectFromFiles() throws {
        let yaml = """
            name: ${NAME:-fromfile}
            services:
              db:
                image: postgres
                volumes: ["data:/var/lib/db", "./conf:/etc/db:ro", "/cache"]
                healthcheck: {test: "pg_isready", interval: 2s, retries: 5, start_period: 30s, start_interval: 250ms}
              web:
                build: {context: ./web, args: [MODE=prod]}
                depends_on: {db: {condition: service_healthy}}
                ports: ["127.0.0.1:8080:80", {target: 443, published: "8443", protocol: tcp}]
                networks: {front: {aliases: [site]}, default: null}
                deploy: {replicas: 2, resources: {limits: {memory: 64m}}}
              debug:
                image: busybox
                profiles: [debug]
            networks: {front: {}}
            volumes: {data: {}}
            """
        try withProject(["compose.yaml": yaml, ".env": "NAME=Fancy.Name\n"]) { dir in
            let p = try load(dir)
            #expect(p.name == "fancyname" && p.services.map(\.name) == ["db", "web"] && p.inactive == ["debug"])
            let db = try #require(p.service("db"))
            #expect(db.volumes.map(\.type) == [.volume, .bind, .volume] && db.volumes[1].source == dir + "/conf" && db.volumes[1].readOnly)
            #expect(db.healthcheck?.test == ["CMD-SHELL", "pg_isready"] && db.healthcheck?.interval == 2_000_000_000
                    && db.healthcheck?.startPeriod == 30_000_000_000 && db.healthcheck?.startInterval == 250_000_000)
            let web = try #require(p.service("web"))
            #expect(web.build?.context == dir + "/web" && web.build?.args.first?.value == "prod")
            #expect(web.dependsOn.first?.condition == .healthy && web.replicas == 2 && web.memLimit == "64m")
            #expect(web.ports == ["127.0.0.1:8080:80", "8443:443/tcp"])
            #expect(web.networks.map(\.name) == ["front", "default"] && web.networks[0].aliases == ["site"])
            #expect(p.networks.map(\.name).sorted() == ["fancyname_default", "fancyname_front"])
            #expect(p.volumes.map(\.name) == ["fancyname_data"])
            let withDebug = try load(dir) { $0.profiles = ["debug"] }
            #expect(withDebug.services.count == 3)
            #expect(try load(dir) { $0.projectName = "given" }.name == "given")
        }
    }

    @Test func badProjectsAreRefusedNamingTheProblem() throws {
        let cases: [(String, String)] = [
            ("services:\n  web:\n    image: a\n    portz: [1]\n", "services.web.portz"),
            ("services:\n  web:\n    command: x\n", "neither an image nor a build"),
            ("services:\n  a:\n    image: x\n    depends_on: [nope]\n", "undefined service \"nope\""),
            ("services:\n  a:\n    image: x\n    volumes: ['data:/d']\n", "undefined volume data"),
            ("services:\n  a:\n    image: x\n    networks: [back]\n", "undefined network back"),
            ("services:\n  a:\n    image: x\n    restart: sometimes\n", "invalid restart policy"),
            ("services:\n  a:\n    image: x\n    depends_on: {b: {condition: whenever}}\n  b:\n    image: y\n", "unknown condition"),
            ("secrets: {}\nservices: {}\n", "secrets: not supported"),
            ("services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n", "dependency cycle detected"),
        ]
        for (yaml, expected) in cases {
            try withProject(["compose.yaml": yaml]) { dir in
                do {
                    _ = try load(dir)
                    Issue.record("accepted: \(yaml)")
                } catch let e as SwctrError {
                    #expect(e.message.contains(expected), "\(e.message) lacks \(expected)")
                }
            }
        }
    }

    @Test func dependencyLevelsAndClosures() throws {
        var a = ComposeService(name: "a")
        a.image = "x"
        var b = ComposeService(name: "b")
        b.dependsOn = [Dependency(service: "a", condition: .healthy)]
        var c = ComposeService(name: "c")
        c.networkMode = "service:b"
        let d = ComposeService(name: "d")
        let all = [a, b, c, d]
        #expect(try DependencyOrder.levels(all) == [["a", "d"], ["b"], ["c"]])
        #expect(DependencyOrder.closure(["c"], in: all).sorted() == ["a", "b", "c"])
        #expect(DependencyOrder.dependents(of: "a", in: all).sorted() == ["b", "c"])
    }

    @Test func aReplicaAsARunRequest() throws {
        try withProject(["compose.yaml": """
            services:
              web:
                image: nginx
                container_name: null
                environment: {A: "1", FROM_HOST: null}
                ports: ["8080:80"]
                volumes: ["data:/srv", "/anon"]
                stop_grace_period: 3s
                restart: on-failure:2
                labels: [tier=front]
            volumes: {data: {}}
            """]) { dir in
            let p = try load(dir) { $0.projectName = "proj" }
            let t = ServiceTranslation(project: p, environment: ["FROM_HOST": "h"])
            let web = try #require(p.service("web"))
            let r = try t.request(web, number: 2, configHash: "abc") { _ in nil }
            #expect(r.name == "proj-web-2" && r.image == "nginx")
            #expect(r.options.env == ["A=1", "FROM_HOST=h"] && r.options.stopTimeout == 3 && r.options.restart.maxRetries == 2)
            #expect(r.options.labels["com.docker.compose.project"] == "proj" && r.options.labels["com.docker.compose.container-number"] == "2")
            #expect(r.options.labels["tier"] == "front" && r.options.labels["com.docker.compose.config-hash"] == "abc")
            #expect(r.options.network == "proj_default" && r.options.endpoints?.first?.aliases == ["web"])
            #expect(r.options.ports?.first?.hostPort == 8080)
            #expect(r.options.mounts?.map(\.source) == ["proj_data", ""] && r.options.mounts?[1].anonymous == true)
        }
    }
}
