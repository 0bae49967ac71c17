// The C edge of swrunc: thin wrappers for syscalls and macros that Swift cannot call directly
// (variadic functions, raw syscalls without glibc wrappers, cmsg arithmetic). Mechanism only —
// no policy, no JSON, no allocation.
#ifndef CSHIM_H
#define CSHIM_H

#include <stdint.h>
#include <sys/types.h>
#include "sealed_exe.h"

// fork(2)-like clone with namespace flags: returns 0 in the child, the pid in the parent, -1 on error.
pid_t cshim_clone(unsigned long flags);
pid_t cshim_fork(void);

int cshim_unshare(int flags);
int cshim_setns(int fd, int nstype);
int cshim_pivot_root(const char *new_root, const char *put_old);
int cshim_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int cshim_ioctl_int(int fd, unsigned long request, int arg);
int cshim_ioctl_ptr(int fd, unsigned long request, void *arg);
int cshim_fcntl_int(int fd, int cmd, int arg);
int cshim_open(const char *path, int flags, unsigned int mode);
int cshim_openat(int dirfd, const char *path, int flags, unsigned int mode);

// openat2(2) with RESOLVE_* flags; returns the fd or -1 with errno.
int cshim_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int cshim_close_range(unsigned int first, unsigned int last, unsigned int flags);
int cshim_pidfd_open(pid_t pid);
int cshim_pidfd_send_signal(int pidfd, int sig);
int cshim_mount_setattr(int dirfd, const char *path, unsigned int flags,
                        uint64_t attr_set, uint64_t attr_clr, uint64_t propagation, int userns_fd);
int cshim_open_tree(int dirfd, const char *path, unsigned int flags);
int cshim_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path,
                     unsigned int flags);
long cshim_join_session_keyring(const char *name);
uint64_t cshim_makedev(unsigned int major, unsigned int minor);

// One message over a SOCK_SEQPACKET socket, optionally carrying one fd with SCM_RIGHTS.
// send: fd < 0 sends none. recv: *fd_out is -1 when none came. Both return bytes or -1.
ssize_t cshim_send_msg(int sock, const void *buf, size_t len, int fd);
ssize_t cshim_recv_msg(int sock, void *buf, size_t len, int *fd_out);

// GNU extensions that Swift's Glibc module does not expose without _GNU_SOURCE.
int cshim_pipe2(int fds[2], int flags);
int cshim_setresuid(uid_t r, uid_t e, uid_t s);
int cshim_setresgid(gid_t r, gid_t e, gid_t s);
int cshim_prlimit(int resource, uint64_t soft, uint64_t hard);
int cshim_unlockpt(int fd);
int cshim_ptsname(int fd, char *buf, size_t len);
// signalfd for the given signals (already blocked by the caller); read returns the signal number.
int cshim_signalfd(const int *signals, int count);
int cshim_signalfd_read(int fd);
int cshim_block_signals(const int *signals, int count);
int cshim_unblock_all_signals(void);

// eBPF cgroup device programs: load `count` 8-byte instructions as BPF_PROG_TYPE_CGROUP_DEVICE
// (verifier messages go to `log`), and attach a loaded program to a cgroup v2 directory fd,
// replacing the one attached there before.
int cshim_bpf_load_device_program(const uint64_t *insns, unsigned int count, char *log, unsigned int log_size);
int cshim_bpf_attach_device_program(int prog_fd, int cgroup_fd);

// Decoding of wait(2) status words.
int cshim_wifexited(int status);
int cshim_wexitstatus(int status);
int cshim_wifsignaled(int status);
int cshim_wtermsig(int status);

/* seccomp(SECCOMP_SET_MODE_FILTER, flags, program); program is `bytes` of struct sock_filter. */
int cshim_seccomp_set_filter(unsigned int flags, const void *program, size_t bytes);
int cshim_memfd(const char *name);

// Per-process scheduling and memory placement (no glibc wrappers, or GNU-only ones).
// sched_setattr(2) with a struct sched_attr built from the fields.
int cshim_sched_setattr(pid_t pid, uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                        uint64_t runtime, uint64_t deadline, uint64_t period);
int cshim_ioprio_set(int which, int who, int ioprio);
// set_mempolicy(2): `nodemask` has `words` 64-bit words (0 with a NULL mask).
int cshim_set_mempolicy(int mode, const uint64_t *nodemask, size_t words);
// sched_{set,get}affinity(2) on a mask of `words` 64-bit words; get returns the bytes the kernel filled.
int cshim_sched_setaffinity(pid_t pid, const uint64_t *mask, size_t words);
int cshim_sched_getaffinity(pid_t pid, uint64_t *mask, size_t words);
int cshim_personality(unsigned long persona);

#endif
