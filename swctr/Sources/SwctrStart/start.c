#define _GNU_SOURCE
#include "swctr_start.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

static int joined;

int swctr_userns_joined(void) { return joined; }

// A rootless swctr re-executes itself with the user's namespace holder's user and mount
// namespace fds open and named in _SWCTR_USERNS_FDS="USERFD,MNTFD". Joining a user namespace
// needs a single-threaded process, which only the time before main guarantees (the Swift
// runtime and Dispatch start threads later) — podman joins its pause process the same way.
__attribute__((constructor(101))) static void swctr_start(void) {
    const char *value = getenv("_SWCTR_USERNS_FDS");
    if (!value) return;
    char *end = NULL;
    long user = strtol(value, &end, 10);
    long mnt = (end && *end == ',') ? strtol(end + 1, &end, 10) : -1;
    unsetenv("_SWCTR_USERNS_FDS");
    if (user < 3 || mnt < 3 || user > INT_MAX || mnt > INT_MAX) { joined = -EBADF; return; }
    // setns(CLONE_NEWNS) moves the root and working directory to the namespace's root: the
    // working directory is found again by its path (the namespace's mounts are the host's).
    char cwd[PATH_MAX];
    int haveCwd = getcwd(cwd, sizeof cwd) != NULL;
    if (setns((int)user, CLONE_NEWUSER) != 0 || setns((int)mnt, CLONE_NEWNS) != 0) {
        joined = -errno;
    } else {
        joined = 1;
        if (!haveCwd || chdir(cwd) != 0) (void)chdir("/");
    }
    close((int)user);
    close((int)mnt);
}
