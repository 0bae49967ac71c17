import OCI

/// The program the init becomes, from `process` (create, run) or exec's process, resolved by the
/// parent: the init reads these values and never the config's wire types.
struct ResolvedProcess {
    var args: [String] = []
    /// process.env with a repeated name merged; HOME is added in the container, whose
    /// /etc/passwd only the init can read (`ExecutableLookup.environment`).
    var env: [String] = []
    var cwd = "/"
    var user = User()
    var terminal = false
    var consoleSize: Box?
    var noNewPrivileges = false
    var oomScoreAdj: Int?
    var selinuxLabel: String?
    var apparmorProfile: String?
    /// process.capabilities as kernel numbers.
    var capabilities = CapabilitySets()
    /// process.rlimits with their resource numbers.
    var rlimits: [ResolvedRlimit] = []

    init() {}

    /// `capabilities` are resolved separately: create and exec resolve them with different
    /// defaults and report their errors before anything else is set up.
    init(_ process: OCI.Process, capabilities: CapabilitySets) {
        args = process.args ?? []
        env = ExecutableLookup.merged(process.env ?? [])
        cwd = process.cwd
        user = process.user
        terminal = process.terminal == true
        consoleSize = process.consoleSize
        noNewPrivileges = process.noNewPrivileges == true
        oomScoreAdj = process.oomScoreAdj
        selinuxLabel = process.selinuxLabel
        apparmorProfile = process.apparmorProfile
        self.capabilities = capabilities
        rlimits = ResolvedRlimit.resolve(process.rlimits ?? [])
    }
}
