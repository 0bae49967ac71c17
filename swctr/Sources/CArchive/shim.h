#include <archive.h>
#include <archive_entry.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/openat2.h>

/* Opens `path` read-only as if `dirfd` were the root (RESOLVE_IN_ROOT): absolute symlinks and
 * ".." stay inside. Swift cannot call the variadic syscall(2) itself. */
static inline int swctr_open_in_root(int dirfd, const char *path) {
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}
