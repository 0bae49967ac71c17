// swrunc's ELF entry point in release builds (the Makefile links with -e swrunc_entry): before
// glibc starts, a command that enters a container re-executes itself from a sealed copy, so the
// process that only asks for that copy skips glibc's start-up (its CPU feature probing costs
// ~0.2 ms in a VM, where every cpuid instruction traps) and faults in none of the C library.
// On any failure it changes nothing: glibc starts, and SwruncStart's constructor makes the same
// attempt with errors reported.
#ifndef SWRUNC_ENTRY_H
#define SWRUNC_ENTRY_H

// Called by the entry stub with the initial stack (argc, argv..., NULL, envp..., NULL).
void swrunc_early_reexec(long *stack);

#endif
