// Running the runtime from a copy the container cannot write (CVE-2019-5736), in raw system
// calls only, so that it works before the C library is initialised: swrunc's ELF entry point
// (swrunc_entry, linked with -e) re-executes from the sealed copy before glibc starts, which
// spares the process that only asks for the copy glibc's start-up (its CPU feature probing costs
// ~0.2 ms in a VM, where every cpuid traps) and all of the C library's page faults. The same
// functions serve SwruncStart's constructor (the fallback that reports errors) and the runtime.
#ifndef SEALED_EXE_RAW_H
#define SEALED_EXE_RAW_H

// The commands whose processes enter a container (create, run, exec), NULL-terminated: they
// run from the sealed copy.
const char *const *sealed_exe_commands(void);

// Whether argv names one of them.
int sealed_exe_wanted(int argc, char **argv);

// 1 when the running executable cannot be written through /proc/<pid>/exe: a memfd with write
// seals, or a file on a read-only mount. 0 when it can; -errno on error.
int sealed_exe_check(void);

// An O_PATH fd of the running executable seen through an overlayfs mount that has no upper
// layer (its directory over an empty one) and was never attached anywhere: nothing can write to
// the file through it, and no path leads to it. -errno when overlayfs or the new mount API is
// unavailable or not permitted.
int sealed_exe_overlay(void);

// Called by the entry stub with the initial stack (argc, argv..., NULL, envp..., NULL): for a
// command that enters a container (create, run, exec), execveat the sealed overlay copy. On any
// failure it returns and changes nothing.
void swrunc_early_reexec(long *stack);

#endif
