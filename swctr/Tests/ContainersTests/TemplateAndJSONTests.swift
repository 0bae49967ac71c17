import Containers
import Database
import JSON
import Monitor
import Testing

@Suite("--format templates, indented JSON, attach frames")
struct TemplateAndJSONTests {
    let document: JSONValue = InspectDocument.obj([
        ("Name", .string("/web")),
        ("State", InspectDocument.obj([("Status", .string("running")), ("Running", .bool(true)), ("Pid", .number("42"))])),
        ("Config", InspectDocument.obj([
            ("Env", .array([.string("A=1"), .string("B=2")])),
            ("Labels", InspectDocument.obj([("app", .string("shop"))])),
        ])),
    ])

    @Test func fieldsIndexRangeAndConditionals() throws {
        #expect(try GoTemplate("{{.State.Status}} {{.State.Pid}}").render(document) == "running 42")
        #expect(try GoTemplate("{{index .Config.Labels \"app\"}}").render(document) == "shop")
        #expect(try GoTemplate("{{range .Config.Env}}[{{.}}]{{end}}").render(document) == "[A=1][B=2]")
        #expect(try GoTemplate("{{if .State.Running}}up{{else}}down{{end}}").render(document) == "up")
        #expect(try GoTemplate("{{json .State.Status}}").render(document) == "\"running\"")
        #expect(try GoTemplate("{{.Missing}}").render(document) == "<no value>")
    }

    @Test func aBrokenTemplateIsAnError() {
        #expect(throws: SwctrError.self) { try GoTemplate("{{range .Config.Env}}no end") }
    }

    @Test func indentedJSONParsesBackToTheSameValue() throws {
        let text = document.serialized(indent: 4)
        #expect(text.contains("\n    \"State\": {\n        \"Status\": \"running\""))
        #expect(try JSONParser.parse(Array(text.utf8)) == document)
        #expect(JSONValue.array([]).serialized(indent: 4) == "[]")
    }

    @Test func framesSurviveBeingSplitAnywhere() {
        let frames = AttachFrame.encode(.stdout, Array("hello".utf8)) + AttachFrame.encode(.stderr, [])
            + AttachFrame.encode(.exit, Array("3".utf8))
        for cut in 0...frames.count {
            var buffer = Array(frames[..<cut])
            var got = AttachFrame.decode(&buffer)
            buffer += frames[cut...]
            got += AttachFrame.decode(&buffer)
            #expect(got.map(\.0) == [.stdout, .stderr, .exit])
            #expect(got.first?.1 == Array("hello".utf8) && got.last?.1 == Array("3".utf8) && buffer.isEmpty)
        }
    }
}
