#define _GNU_SOURCE
#include "sealed_exe.h"
#include "sealed_exe_raw.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <linux/magic.h>

static const int write_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

int cshim_exe_is_sealed(void) {
    int sealed = sealed_exe_check();
    if (sealed < 0) {
        errno = -sealed;
        return -1;
    }
    return sealed;
}

int cshim_exe_is_overlay(void) {
    struct statfs fs;
    return statfs("/proc/self/exe", &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC;
}

int cshim_exe_memfd_copy(const char *path) {
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0) return -1;
    struct stat st;
    int memfd = -1, saved = 0;
    if (fstat(src, &st) < 0) goto fail;
    memfd = memfd_create("swrunc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0) goto fail;
    off_t done = 0;
    while (done < st.st_size) {
        ssize_t n = sendfile(memfd, src, NULL, (size_t)(st.st_size - done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto fail;
        done += n;
    }
    if (fcntl(memfd, F_ADD_SEALS, write_seals) < 0) goto fail;
    close(src);
    return memfd;
fail:
    saved = errno ? errno : EIO;
    if (memfd >= 0) close(memfd);
    close(src);
    errno = saved;
    return -1;
}

int cshim_execveat_fd(int fd, char *const argv[], char *const envp[]) {
    return (int)syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
}
