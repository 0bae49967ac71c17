/// A parsed Dockerfile: its parser directives, the ARGs before the first FROM, and the stages.
/// Values are as written (variables not yet substituted): what is substituted where, and with
/// which build args in scope, is the build plan's business.
public struct Dockerfile: Sendable, Equatable {
    /// `# syntax=`, `# escape=`, `# check=` from the top of the file.
    public var directives: [String: String] = [:]
    /// The escape character: `\` unless `# escape=` says "`".
    public var escape: Character = "\\"
    /// ARG instructions before the first FROM (usable in FROM lines, and in a stage that
    /// declares them again without a value).
    public var globalArgs: [Instruction] = []
    public var stages: [Stage] = []

    public init() {}
}

/// One FROM and the instructions under it.
public struct Stage: Sendable, Equatable {
    /// The FROM instruction itself.
    public var from: Instruction
    /// `FROM image AS name`, lowercased as Docker matches it.
    public var name: String?
    public var baseImage: String
    public var instructions: [Instruction] = []

    public init(from: Instruction, name: String?, baseImage: String) {
        self.from = from
        self.name = name
        self.baseImage = baseImage
    }
}

/// One instruction: its keyword, the line it starts on, its `--flags`, its arguments in shell or
/// exec (JSON) form, and the heredocs that follow it.
public struct Instruction: Sendable, Equatable {
    public var keyword: String
    /// 1-based line of the keyword, for errors ("Dockerfile:12: ...").
    public var line: Int
    public var flags: [InstructionFlag] = []
    public var arguments: Arguments
    public var heredocs: [Heredoc] = []
    /// The instruction as one line, continuations joined (history's CreatedBy, cache keys).
    public var text: String

    public init(keyword: String, line: Int, flags: [InstructionFlag] = [], arguments: Arguments, heredocs: [Heredoc] = [], text: String) {
        self.keyword = keyword
        self.line = line
        self.flags = flags
        self.arguments = arguments
        self.heredocs = heredocs
        self.text = text
    }

    /// The last value of `--name=value` (nil: not given; "" for a bare `--name`).
    public func flag(_ name: String) -> String? { flags.last { $0.name == name }.map { $0.value ?? "" } }
    /// Every value of a repeatable flag (`--mount`).
    public func flagValues(_ name: String) -> [String] { flags.filter { $0.name == name }.map { $0.value ?? "" } }

    /// Shell form's text (exec form joined by spaces).
    public var rawArguments: String {
        switch arguments {
        case .shell(let s): s
        case .exec(let a): a.joined(separator: " ")
        }
    }
}

public enum Arguments: Sendable, Equatable {
    /// `RUN echo hi`: the text after the keyword and flags.
    case shell(String)
    /// `RUN ["echo", "hi"]`: a JSON array of strings.
    case exec([String])
}

public struct InstructionFlag: Sendable, Equatable {
    public var name: String
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// `<<EOF` … `EOF` after RUN, COPY or ADD.
public struct Heredoc: Sendable, Equatable {
    public var name: String
    public var content: String
    /// An unquoted delimiter: variables in the content are expanded (by the shell for RUN).
    public var expands: Bool
    /// `<<-EOF`: leading tabs stripped from each line.
    public var stripsTabs: Bool

    public init(name: String, content: String, expands: Bool, stripsTabs: Bool) {
        self.name = name
        self.content = content
        self.expands = expands
        self.stripsTabs = stripsTabs
    }
}
