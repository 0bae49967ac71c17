#define _GNU_SOURCE
#include "sealed_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <linux/mount.h>

#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif

static const int write_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

int cshim_exe_is_sealed(void) {
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int seals = fcntl(fd, F_GET_SEALS);
    int sealed = seals >= 0 && (seals & write_seals) == write_seals;
    if (!sealed) {
        struct statvfs sv;
        sealed = fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
    }
    close(fd);
    return sealed;
}

int cshim_exe_is_overlay(void) {
    struct statfs fs;
    return statfs("/proc/self/exe", &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC;
}

// overlayfs takes ':' as the layer separator and '\' as the escape in lowerdir.
static int escape_layer(const char *in, char *out, size_t size) {
    size_t n = 0;
    for (; *in; in++) {
        if (*in == ':' || *in == '\\') {
            if (n + 1 >= size) return -1;
            out[n++] = '\\';
        }
        if (n + 1 >= size) return -1;
        out[n++] = *in;
    }
    out[n] = '\0';
    return 0;
}

int cshim_exe_overlay(const char *dir, const char *name, const char *empty_dir) {
    char a[2048], b[2048], lower[4200];
    if (escape_layer(dir, a, sizeof a) < 0 || escape_layer(empty_dir, b, sizeof b) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    // The binary's directory on top, so a file of the same name in the empty layer cannot shadow it.
    snprintf(lower, sizeof lower, "%s:%s", a, b);
    int ctx = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
    if (ctx < 0) return -1;
    int result = -1, saved = 0;
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0) goto out;
    // xino only matters for inode numbers across layers; off avoids warnings in the kernel log.
    (void)syscall(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "xino", "off", 0);
    if (syscall(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) goto out;
    int mnt = (int)syscall(SYS_fsmount, ctx, FSMOUNT_CLOEXEC,
                           MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
    if (mnt < 0) goto out;
    result = openat(mnt, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    saved = errno;
    close(mnt);
out:
    if (result < 0 && !saved) saved = errno;
    close(ctx);
    if (result < 0) errno = saved;
    return result;
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
