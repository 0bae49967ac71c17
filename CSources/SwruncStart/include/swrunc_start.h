// The first thing swrunc does, before any library constructor or the Swift runtime starts: a
// command that enters a container re-executes itself from a sealed copy (CVE-2019-5736). Doing it
// here keeps the price to one bare execve instead of a second full start of the runtime.
#ifndef SWRUNC_START_H
#define SWRUNC_START_H

// errno of a failed attempt to make or run the sealed copy; 0 if none was needed or it worked.
int swrunc_sealed_exe_error(void);

#endif
