import Foundation
import Testing
@testable import OCI

@Suite("process settings resolve to the kernel's numbers or name their field")
struct ProcessTuningTests {
    func error(_ mutate: (inout Spec) -> Void) -> String? {
        var spec = Spec.defaultSpec()
        mutate(&spec)
        do { try spec.validate(); return nil } catch { return error.description }
    }

    @Test func cpuListsAsRuncReadsThem() throws {
        let set = try CPUSet(list: " 0-2, ,5,64", at: "x", what: "CPU list")
        #expect(set.words == [0b100111, 1])
        #expect(set.count == 5 && set.contains(64) && !set.contains(3))
        #expect(throws: SpecError.self) { try CPUSet(list: "3-1", at: "x", what: "CPU list") }
        #expect(throws: SpecError.self) { try CPUSet(list: ",", at: "x", what: "CPU list") }
        #expect(throws: SpecError.self) { try CPUSet(list: "0-9876543210", at: "x", what: "CPU list") }
        #expect(throws: SpecError.self) { try CPUSet(list: "a", at: "x", what: "CPU list") }
    }

    @Test func memoryPolicies() throws {
        let bind = try MemoryPolicy(mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"]).resolve(at: "p")
        #expect(bind.mode == 2 | 1 << 15 && bind.nodes?.words == [1])
        #expect(try MemoryPolicy(mode: "MPOL_PREFERRED").resolve(at: "p").nodes == nil)
        #expect(error { $0.linux?.memoryPolicy = MemoryPolicy(mode: nil) }
                == "linux.memoryPolicy.mode: invalid memory policy mode \"\"")
        #expect(error { $0.linux?.memoryPolicy = MemoryPolicy(mode: "INTERLEAVE", nodes: "0") }
                == "linux.memoryPolicy.mode: invalid memory policy mode \"INTERLEAVE\"")
        #expect(error { $0.linux?.memoryPolicy = MemoryPolicy(mode: "MPOL_PREFERRED", nodes: "0", flags: ["badflag"]) }
                == "linux.memoryPolicy.flags[0]: invalid memory policy flag \"badflag\"")
        #expect(error { $0.linux?.memoryPolicy = MemoryPolicy(mode: "MPOL_BIND") }
                == "linux.memoryPolicy.nodes: memory policy mode requires at least one node but got 0")
        #expect(error { $0.linux?.memoryPolicy = MemoryPolicy(mode: "MPOL_BIND", nodes: "0-9876543210") }?
                .hasPrefix("linux.memoryPolicy.nodes: invalid memory policy nodes \"0-9876543210\"") == true)
    }

    @Test func schedulers() throws {
        let dl = try Scheduler(policy: "SCHED_DEADLINE", flags: ["SCHED_FLAG_RESET_ON_FORK"], runtime: 1, deadline: 2, period: 3).resolve(at: "s")
        #expect(dl == ResolvedScheduler(policy: 6, flags: 1, nice: 0, priority: 0, runtime: 1, deadline: 2, period: 3))
        #expect(error { $0.process?.scheduler = Scheduler(policy: "") } == "process.scheduler.policy: scheduler policy is required")
        #expect(error { $0.process?.scheduler = Scheduler(policy: "SCHED_FAST") }
                == "process.scheduler.policy: invalid scheduler policy \"SCHED_FAST\"")
        #expect(error { $0.process?.scheduler = Scheduler(policy: "SCHED_BATCH", nice: 20) }
                == "process.scheduler.nice: invalid scheduler.nice: 20 when scheduler.policy is SCHED_BATCH")
        #expect(error { $0.process?.scheduler = Scheduler(policy: "SCHED_OTHER", priority: 3) }?
                .hasSuffix("scheduler.priority can only be specified for SchedFIFO or SchedRR policy") == true)
        #expect(error { $0.process?.scheduler = Scheduler(policy: "SCHED_RR", priority: 3, runtime: 5) }?
                .hasSuffix("can only be specified for SchedDeadline policy") == true)
        #expect(error { $0.process?.scheduler = Scheduler(policy: "SCHED_RR", flags: ["X"]) }
                == "process.scheduler.flags[0]: invalid scheduler flag \"X\"")
    }

    @Test func ioPrioritiesPersonalitiesAndAffinities() throws {
        #expect(try IOPriority(class: "IOPRIO_CLASS_BE", priority: 4).resolve(at: "i") == 2 << 13 | 4)
        #expect(error { $0.process?.ioPriority = IOPriority(class: "IOPRIO_CLASS_BE", priority: 8) }
                == "process.ioPriority.priority: invalid ioPriority.Priority: 8")
        #expect(error { $0.process?.ioPriority = IOPriority(class: "BE") }
                == "process.ioPriority.class: invalid ioPriority.Class: \"BE\"")
        #expect(try Personality(domain: "LINUX32").resolve(at: "p") == 8)
        #expect(error { $0.linux?.personality = Personality(domain: "SVR4") }?.hasPrefix("linux.personality.domain: invalid personality domain") == true)
        let affinity = try ExecCPUAffinity(initial: "1", final: "").resolve(at: "a")
        #expect(affinity.initial?.words == [2] && affinity.final == nil)
        #expect(error { $0.process?.execCPUAffinity = ExecCPUAffinity(final: "x") }?.hasPrefix("process.execCPUAffinity.final: invalid CPU list") == true)
    }
}
