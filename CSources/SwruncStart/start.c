#define _GNU_SOURCE
#include "swrunc_start.h"
#include "cshim.h"
#include "sealed_exe_raw.h"

#include <errno.h>
#include <unistd.h>

static int sealed_error;

int swrunc_sealed_exe_error(void) { return sealed_error; }

// The sealed copy: overlayfs over the binary's directory (no copying, page cache shared; the
// same call swrunc_entry made before glibc started, now with its error kept), or a memfd copy
// where that cannot be had.
static int sealed_copy(void) {
    int fd = sealed_exe_overlay();
    if (fd >= 0) return fd;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return -1;
    exe[n] = '\0';
    return cshim_exe_memfd_copy(exe);
}

// glibc passes (argc, argv, envp) to constructors; priority 101 runs before those of the
// libraries linked in (libselinux reads /proc at load time) and before the Swift runtime.
__attribute__((constructor(101))) static void swrunc_start(int argc, char **argv, char **envp) {
    if (!sealed_exe_wanted(argc, argv)) return;
    int sealed = cshim_exe_is_sealed();
    if (sealed == 1) return;
    int fd = sealed < 0 ? -1 : sealed_copy();
    if (fd < 0) { sealed_error = errno ? errno : EIO; return; }
    cshim_execveat_fd(fd, argv, envp);
    sealed_error = errno;
    close(fd);
}
