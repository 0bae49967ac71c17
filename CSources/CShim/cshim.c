#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/personality.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

pid_t cshim_clone(unsigned long flags) {
    // The raw syscall behaves like fork(2) (no new stack) but creates the namespaces atomically
    // with the child; glibc's fork handlers are skipped, which is safe because the caller is
    // single-threaded by contract.
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

pid_t cshim_fork(void) { return fork(); }
int cshim_unshare(int flags) { return unshare(flags); }
int cshim_setns(int fd, int nstype) { return setns(fd, nstype); }

int cshim_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

int cshim_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}

int cshim_ioctl_int(int fd, unsigned long request, int arg) { return ioctl(fd, request, arg); }
int cshim_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int cshim_fcntl_int(int fd, int cmd, int arg) { return fcntl(fd, cmd, arg); }
int cshim_open(const char *path, int flags, unsigned int mode) { return open(path, flags, mode); }
int cshim_openat(int dirfd, const char *path, int flags, unsigned int mode) {
    return openat(dirfd, path, flags, mode);
}

int cshim_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    // With RESOLVE_IN_ROOT (or BENEATH) the kernel answers EAGAIN when any rename or mount in the
    // system raced the lookup, and expects the caller to try again: containers being set up in
    // parallel make that common.
    int fd, tries = 0;
    do {
        fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    } while (fd < 0 && errno == EAGAIN && ++tries < 64);
    return fd;
}

int cshim_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    return (int)syscall(SYS_close_range, first, last, flags);
}

int cshim_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int cshim_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

struct cshim_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

int cshim_mount_setattr(int dirfd, const char *path, unsigned int flags,
                        uint64_t attr_set, uint64_t attr_clr, uint64_t propagation, int userns_fd) {
    struct cshim_mount_attr attr = { attr_set, attr_clr, propagation, (uint64_t)(userns_fd < 0 ? 0 : userns_fd) };
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof(attr));
}

int cshim_open_tree(int dirfd, const char *path, unsigned int flags) {
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

int cshim_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
                     unsigned int flags) {
    return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

long cshim_join_session_keyring(const char *name) {
    // KEYCTL_JOIN_SESSION_KEYRING = 1
    return syscall(SYS_keyctl, 1, name, 0, 0, 0);
}

uint64_t cshim_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }

ssize_t cshim_send_msg(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr msg;
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}

ssize_t cshim_recv_msg(int sock, void *buf, size_t len, int *fd_out) {
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg;
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    *fd_out = -1;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            memcpy(fd_out, CMSG_DATA(c), sizeof(int));
        }
    }
    return n;
}

int cshim_wifexited(int status) { return WIFEXITED(status); }
int cshim_wexitstatus(int status) { return WEXITSTATUS(status); }
int cshim_wifsignaled(int status) { return WIFSIGNALED(status); }
int cshim_wtermsig(int status) { return WTERMSIG(status); }

int cshim_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int cshim_setresuid(uid_t r, uid_t e, uid_t s) { return setresuid(r, e, s); }
int cshim_setresgid(gid_t r, gid_t e, gid_t s) { return setresgid(r, e, s); }

int cshim_prlimit(int resource, uint64_t soft, uint64_t hard) {
    struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
    return prlimit(0, resource, &rl, NULL);
}

int cshim_unlockpt(int fd) { return unlockpt(fd); }
int cshim_ptsname(int fd, char *buf, size_t len) { return ptsname_r(fd, buf, len); }

static void fill_set(sigset_t *set, const int *signals, int count) {
    sigemptyset(set);
    for (int i = 0; i < count; i++) sigaddset(set, signals[i]);
}

int cshim_block_signals(const int *signals, int count) {
    sigset_t set;
    fill_set(&set, signals, count);
    return sigprocmask(SIG_BLOCK, &set, NULL);
}

int cshim_unblock_all_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    return sigprocmask(SIG_SETMASK, &set, NULL);
}

int cshim_signalfd(const int *signals, int count) {
    sigset_t set;
    fill_set(&set, signals, count);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

int cshim_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof(info)); } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(info) ? (int)info.ssi_signo : -1;
}

int cshim_bpf_load_device_program(const uint64_t *insns, unsigned int count, char *log, unsigned int log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    attr.license = (uint64_t)(uintptr_t)"Apache-2.0";
    if (log && log_size) {
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int cshim_bpf_attach_device_program(int prog_fd, int cgroup_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgroup_fd;
    attr.attach_bpf_fd = prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    // No flags: one program per cgroup, which a new attach replaces and descendants cannot
    // override (a container cannot widen its own device access).
    attr.attach_flags = 0;
    return (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
}

/* Installs a classic-BPF seccomp filter (an array of struct sock_filter, 8 bytes each), the way
 * libseccomp's seccomp_load does, for programs swrunc compiled once and cached. */
int cshim_seccomp_set_filter(unsigned int flags, const void *program, size_t bytes) {
    struct sock_fprog prog = { .len = (unsigned short)(bytes / sizeof(struct sock_filter)),
                               .filter = (struct sock_filter *)program };
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

int cshim_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

/* The kernel's struct sched_attr, SCHED_ATTR_SIZE_VER1 (with the utilisation clamps, left 0). */
struct cshim_sched_attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

int cshim_sched_setattr(pid_t pid, uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                        uint64_t runtime, uint64_t deadline, uint64_t period) {
    struct cshim_sched_attr attr = {
        .size = sizeof(attr), .policy = policy, .flags = flags, .nice = nice, .priority = priority,
        .runtime = runtime, .deadline = deadline, .period = period,
    };
    return (int)syscall(SYS_sched_setattr, pid, &attr, 0);
}

int cshim_ioprio_set(int which, int who, int ioprio) { return (int)syscall(SYS_ioprio_set, which, who, ioprio); }

int cshim_set_mempolicy(int mode, const uint64_t *nodemask, size_t words) {
    /* maxnode counts bits, and the kernel reads one fewer than it is given. */
    return (int)syscall(SYS_set_mempolicy, mode, nodemask, nodemask ? words * 64 + 1 : 0);
}

int cshim_sched_setaffinity(pid_t pid, const uint64_t *mask, size_t words) {
    return (int)syscall(SYS_sched_setaffinity, pid, words * sizeof(uint64_t), mask);
}

int cshim_sched_getaffinity(pid_t pid, uint64_t *mask, size_t words) {
    return (int)syscall(SYS_sched_getaffinity, pid, words * sizeof(uint64_t), mask);
}

int cshim_personality(unsigned long persona) { return personality(persona); }
