import Build
import Database
import Testing

@Suite("Dockerfile parsing as BuildKit reads it")
struct DockerfileParserTests {
    @Test func instructionsFormsAndContinuations() throws {
        let d = try DockerfileParser.parse("""
            # syntax=docker/dockerfile:1
            ARG BASE=busybox
            FROM ${BASE} AS build
            # a comment
            RUN echo one \\
            # dropped inside the continuation
                two
            COPY --chown=1:2 --chmod=640 a b /dst/
            CMD ["sh", "-c", "echo hi"]
            ENTRYPOINT not [json
            from scratch
            COPY --from=build /dst /
            """)
        #expect(d.directives["syntax"] == "docker/dockerfile:1" && d.globalArgs.map(\.rawArguments) == ["BASE=busybox"])
        #expect(d.stages.count == 2 && d.stages[0].name == "build" && d.stages[0].baseImage == "${BASE}" && d.stages[1].baseImage == "scratch")
        let run = d.stages[0].instructions[0]
        #expect(run.keyword == "RUN" && run.line == 5 && run.arguments == .shell("echo one     two"))
        let copy = d.stages[0].instructions[1]
        #expect(copy.flag("chown") == "1:2" && copy.flag("chmod") == "640" && copy.arguments == .shell("a b /dst/") && copy.line == 8)
        #expect(d.stages[0].instructions[2].arguments == .exec(["sh", "-c", "echo hi"]))
        #expect(d.stages[0].instructions[3].arguments == .shell("not [json"))
        #expect(d.stages[1].instructions[0].flag("from") == "build" && d.stages[1].from.line == 11)
    }

    @Test func escapeDirectiveAndHeredocs() throws {
        let d = try DockerfileParser.parse("""
            # escape=`
            FROM busybox
            RUN dir c:\\ `
                && echo done
            RUN <<EOF
            echo $HOME
            EOF
            COPY <<-'CONF' /etc/app.conf
            \tkey=$value
            \tCONF
            """)
        #expect(d.escape == "`")
        let i = d.stages[0].instructions
        #expect(i[0].arguments == .shell("dir c:\\     && echo done"))
        #expect(i[1].heredocs == [Heredoc(name: "EOF", content: "echo $HOME\n", expands: true, stripsTabs: false)])
        #expect(i[2].heredocs == [Heredoc(name: "CONF", content: "key=$value\n", expands: false, stripsTabs: true)])
        #expect(i[2].arguments == .shell("<<-'CONF' /etc/app.conf"))
    }

    @Test func errorsNameTheLine() {
        let cases: [(String, String)] = [
            ("FROM busybox\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"),
            ("RUN true\n", "Dockerfile:1: no build stage"),
            ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments"),
            ("FROM busybox\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments"),
            ("FROM busybox\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form"),
            ("FROM busybox\nCOPY --frm=x a b\n", "Dockerfile:2: unknown flag: --frm"),
            ("FROM busybox\nRUN <<EOF\necho\n", "Dockerfile:2: unterminated heredoc"),
            ("FROM busybox\nHEALTHCHECK echo\n", "Dockerfile:2: Unknown type"),
            ("FROM busybox\nONBUILD FROM x\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
            ("FROM busybox AS 1x\n", "Dockerfile:1: invalid name for build stage"),
            ("FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name"),
            ("# escape=x\nFROM a\n", "invalid escape token"),
            ("# only a comment\n", "no FROM instruction"),
        ]
        for (text, want) in cases {
            do {
                _ = try DockerfileParser.parse(text)
                Issue.record("no error for \(text)")
            } catch {
                #expect(error.message.contains(want), "\(error.message) should contain \(want)")
                #expect(!error.message.contains("\n"))
            }
        }
    }
}

@Suite("variable substitution and words, as Docker applies them")
struct ShellWordsTests {
    let w = ShellWords(environment: ["A": "one", "EMPTY": "", "SP": "a b"])

    @Test func substitution() throws {
        #expect(try w.expand("$A-${A}") == "one-one")
        #expect(try w.expand("${NOPE:-dflt} ${EMPTY:-dflt} ${EMPTY-dflt}") == "dflt dflt ")
        #expect(try w.expand("${A:+set} ${NOPE:+set} ${EMPTY+set}") == "set  set")
        #expect(try w.expand("'$A' \"$A\" \\$A") == "$A one $A")
        #expect(try w.expand("${NOPE:-${A}x}") == "onex")
        #expect(try w.expand("cost $5 and $") == "cost  and $")
        #expect(throws: SwctrError.self) { try w.expand("${NOPE:?must be set}") }
        #expect(throws: SwctrError.self) { try w.expand("${A") }
        #expect(throws: SwctrError.self) { try w.expand("'open") }
    }

    @Test func wordsAndPairs() throws {
        #expect(try w.words("a  \"b c\" $SP 'd e'") == ["a", "b c", "a", "b", "d e"])
        #expect(try w.words("$NOPE /dst ''") == ["/dst", ""])
        let p = try w.pairs("K=$A L=\"x y\" M='$A' N", legacy: true)
        #expect(p.map(\.key) == ["K", "L", "M", "N"] && p.map(\.value) == ["one", "x y", "$A", ""])
        let old = try w.pairs("KEY value with $A", legacy: true)
        #expect(old.count == 1 && old[0].key == "KEY" && old[0].value == "value with one")
    }
}

@Suite(".dockerignore with Docker's matching")
struct DockerIgnoreTests {
    @Test func patterns() {
        let i = DockerIgnore("""
            # comment
            *.log
            /build
            **/node_modules
            docs/**/*.md
            !docs/keep/README.md
            [a-c]?.tmp
            """)
        #expect(i.excludes("x.log") && !i.excludes("dir/x.log"))
        #expect(i.excludes("build") && i.excludes("build/out/a.o") && !i.excludes("src/build"))
        #expect(i.excludes("node_modules/x") && i.excludes("a/b/node_modules/c"))
        #expect(i.excludes("docs/a.md") && i.excludes("docs/x/y/z.md") && !i.excludes("docs/keep/README.md"))
        #expect(i.excludes("b1.tmp") && !i.excludes("d1.tmp") && !i.excludes("b12.tmp"))
        #expect(!i.excludes("src/main.swift") && i.mayReinclude(under: "docs"))
        #expect(DockerIgnore("*\n!keep\n").excludes("other") && !DockerIgnore("*\n!keep\n").excludes("keep"))
    }
}
