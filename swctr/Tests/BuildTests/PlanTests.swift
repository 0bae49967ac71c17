@testable import Build
import Database
import Registry
import Testing

@Suite("build plans: ARG scopes, the stages a target needs, RUN mounts, metadata values")
struct PlanTests {
    let amd64 = Platform(architecture: "amd64")

    func plan(_ text: String, args: [String: String] = [:], target: String? = nil) throws -> BuildPlan {
        try BuildPlan(try DockerfileParser.parse(text), buildArgs: args, target: target, platform: amd64)
    }

    @Test func globalArgsFeedFromAndBuildArgsWin() throws {
        let p = try plan("ARG BASE=busybox\nARG TAG=1.$BASE\nFROM ${BASE}:${TAG}\n", args: ["BASE": "alpine"])
        #expect(try p.baseName(of: 0) == "alpine:1.alpine")
        #expect(p.globalArgs["TARGETARCH"] == "amd64" && p.globalArgs["BUILDPLATFORM"] == "linux/amd64")
        #expect(p.declaredArgs == ["BASE", "TAG"])
    }

    @Test func onlyTheStagesTheTargetNeedsRunInDependencyOrder() throws {
        let text = """
            FROM busybox AS a
            FROM busybox AS b
            RUN --mount=type=bind,from=a,target=/m true
            FROM busybox AS unused
            FROM b AS c
            COPY --from=0 /x /y
            FROM busybox
            """
        #expect(try plan(text, target: "c").order == [0, 1, 3])
        #expect(try plan(text).order == [4])
        #expect(try plan(text, target: "B").order == [0, 1])
        #expect(throws: SwctrError.self) { try plan(text, target: "nosuch") }
    }

    @Test func stageReferencesByNameOrIndexOnlyPointBack() throws {
        let p = try plan("FROM busybox AS first\nFROM first\nFROM busybox\n")
        #expect(p.stageIndex("FIRST", before: 1) == 0 && p.stageIndex("0", before: 1) == 0)
        #expect(p.stageIndex("2", before: 1) == nil && p.stageIndex("busybox", before: 2) == nil)
    }

    @Test func argDeclarationsSeeEarlierOnes() throws {
        let d = try DockerfileParser.parse("FROM x\nARG A=1 B=${A}2 C\n")
        let decl = try BuildPlan.declarations(d.stages[0].instructions[0], file: "Dockerfile", escape: "\\", environment: [:])
        #expect(decl.map(\.0) == ["A", "B", "C"] && decl.map(\.1) == ["1", "12", nil])
        let bad = try DockerfileParser.parse("FROM x\nARG A-B=1\n")
        #expect(throws: SwctrError.self) {
            try BuildPlan.declarations(bad.stages[0].instructions[0], file: "Dockerfile", escape: "\\", environment: [:])
        }
    }

    @Test func runMountsAsBuildKitSpellsThem() throws {
        let cache = try RunMount(parsing: "type=cache,target=/root/.cache,id=pip,mode=0700,uid=1000")
        #expect(cache.kind == .cache && cache.id == "pip" && cache.mode == 0o700 && cache.uid == 1000 && !cache.readOnly)
        let bind = try RunMount(parsing: "target=/src,source=app,from=build")
        #expect(bind.kind == .bind && bind.readOnly && bind.from == "build" && bind.source == "app")
        #expect(try RunMount(parsing: "type=bind,target=/w,rw").readOnly == false)
        #expect(try RunMount(parsing: "type=tmpfs,target=/t,size=64m").size == 64 << 20)
        #expect(throws: SwctrError.self) { try RunMount(parsing: "type=secret,target=/s") }
        #expect(throws: SwctrError.self) { try RunMount(parsing: "type=cache") }
        #expect(throws: SwctrError.self) { try RunMount(parsing: "type=cache,target=/x,colour=red") }
        #expect(RunMount.field("from", in: "type=bind,from=stage1,target=/x") == "stage1")
    }

    @Test func metadataValues() throws {
        #expect(try Builder.exposedPorts("80") == ["80/tcp"])
        #expect(try Builder.exposedPorts("8000-8002/UDP") == ["8000/udp", "8001/udp", "8002/udp"])
        #expect(throws: SwctrError.self) { try Builder.exposedPorts("70000") }
        #expect(throws: SwctrError.self) { try Builder.exposedPorts("80/icmp") }
        #expect(Builder.goDuration("30s") == 30_000_000_000 && Builder.goDuration("1m30s") == 90_000_000_000)
        #expect(Builder.goDuration("500ms") == 500_000_000 && Builder.goDuration("1.5h") == 5_400_000_000_000)
        #expect(Builder.goDuration("10") == nil && Builder.goDuration("") == nil)
        #expect(Builder.resolvePath("sub/../x", from: "/app") == "/app/x" && Builder.resolvePath("/a/./b/", from: "/w") == "/a/b")
        #expect(Builder.resolvePath("../../..", from: "/a") == "/")
        #expect(Builder.isOnlyHeredoc(" <<-'EOF' ", "EOF") && !Builder.isOnlyHeredoc("cat <<EOF", "EOF"))
        #expect(Builder.httpDate("Tue, 15 Nov 1994 08:12:31 GMT")?.tv_sec == 784_887_151)
    }

    @Test func chainedKeysDependOnEveryStep() {
        let a = Builder.chain("base", "COPY x")
        #expect(a != Builder.chain("base", "COPY y") && a != Builder.chain("other", "COPY x") && a == Builder.chain("base", "COPY x"))
    }
}
