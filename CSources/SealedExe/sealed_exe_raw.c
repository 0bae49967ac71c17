// Runs before the C library is initialised: no libc calls (string and memory functions are
// IFUNCs not yet resolved), no TLS (hence no stack protector), raw system calls only. Built
// with -ffreestanding -fno-builtin -fno-stack-protector so that the compiler emits no such calls.
#define _GNU_SOURCE
#include "sealed_exe_raw.h"

#include <asm/unistd.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>

#define SEAL_MASK (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define STATFS_RDONLY 1  // ST_RDONLY in struct statfs's f_flags

#if defined(__x86_64__)
// The stub keeps the initial stack pointer and rdx (the dynamic loader's finaliser, 0 when
// static) across the call, then enters glibc's _start as the kernel would have.
__asm__(
    ".text\n"
    ".globl swrunc_entry\n"
    ".type swrunc_entry,@function\n"
    "swrunc_entry:\n"
    "    mov %rsp, %r12\n"
    "    mov %rdx, %r13\n"
    "    mov %rsp, %rdi\n"
    "    and $-16, %rsp\n"
    "    call swrunc_early_reexec\n"
    "    mov %r12, %rsp\n"
    "    mov %r13, %rdx\n"
    "    jmp _start\n"
    ".size swrunc_entry, .-swrunc_entry\n");

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}
#define EARLY_REEXEC 1
#elif defined(__aarch64__)
// Elsewhere the entry goes straight to _start (no early re-exec; the constructor does it) and
// the system calls go through libc, initialised by then.
__asm__(".text\n.globl swrunc_entry\n.type swrunc_entry,%function\nswrunc_entry:\n    b _start\n");
long syscall(long n, ...);
extern int *__errno_location(void);
static long sys6(long n, long a, long b, long c, long d, long e, long f) {
    long r = syscall(n, a, b, c, d, e, f);
    return r < 0 ? -*__errno_location() : r;
}
#define EARLY_REEXEC 0
#else
#error "sealed_exe_raw.c: no entry stub for this architecture"
#endif
#define sys(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static int same(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

static const char *const sealed_commands[] = {"create", "run", "exec", 0};

const char *const *sealed_exe_commands(void) { return sealed_commands; }

// Any argument equal to a command name counts: the subcommand always appears literally, and a
// flag value or container id that happens to be "run" only costs one needless re-exec.
int sealed_exe_wanted(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        for (const char *const *c = sealed_commands; *c; c++) {
            if (same(argv[i], *c)) return 1;
        }
    }
    return 0;
}

int sealed_exe_check(void) {
    int fd = (int)sys6(__NR_openat, AT_FDCWD, (long)"/proc/self/exe", O_RDONLY | O_CLOEXEC, 0, 0, 0);
    if (fd < 0) return fd;
    long seals = sys(__NR_fcntl, fd, F_GET_SEALS, 0);
    int sealed = seals >= 0 && (seals & SEAL_MASK) == SEAL_MASK;
    if (!sealed) {
        long buf[16];  // struct statfs: f_flags is its 11th word on x86_64
        sealed = sys(__NR_fstatfs, fd, buf, 0) == 0 && (buf[10] & STATFS_RDONLY);
    }
    sys(__NR_close, fd, 0, 0);
    return sealed;
}

// Appends `in` with overlayfs's escapes for ':' and '\'; returns the new length or -1.
static long append_layer(char *out, long n, long size, const char *in) {
    for (; *in; in++) {
        if (*in == ':' || *in == '\\') {
            if (n + 1 >= size) return -1;
            out[n++] = '\\';
        }
        if (n + 1 >= size) return -1;
        out[n++] = *in;
    }
    out[n] = '\0';
    return n;
}

int sealed_exe_overlay(void) {
    char exe[4096];
    long n = sys6(__NR_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)exe, sizeof exe - 1, 0, 0);
    if (n < 0) return (int)n;
    if (n == 0) return -22;  // EINVAL
    exe[n] = '\0';
    long slash = n - 1;
    while (slash >= 0 && exe[slash] != '/') slash--;
    if (slash < 0) return -22;
    exe[slash] = '\0';
    const char *dir = slash == 0 ? "/" : exe;
    const char *name = exe + slash + 1;

    const char *empty = "/run/swrunc/@empty";
    sys(__NR_mkdirat, AT_FDCWD, "/run/swrunc", 0711);
    long made = sys(__NR_mkdirat, AT_FDCWD, empty, 0700);
    if (made < 0 && made != -17 /* EEXIST */) return (int)made;

    // The binary's directory on top, so a file of the same name in the empty layer cannot shadow it.
    char lower[8300];
    long len = append_layer(lower, 0, sizeof lower, dir);
    if (len < 0 || len + 1 >= (long)sizeof lower) return -36;  // ENAMETOOLONG
    lower[len++] = ':';
    if (append_layer(lower, len, sizeof lower, empty) < 0) return -36;

    long ctx = sys(__NR_fsopen, "overlay", FSOPEN_CLOEXEC, 0);
    if (ctx < 0) return (int)ctx;
    long mnt = sys6(__NR_fsconfig, ctx, FSCONFIG_SET_STRING, (long)"lowerdir", (long)lower, 0, 0);
    if (mnt == 0) {
        // xino only matters for inode numbers across layers; off avoids warnings in the kernel log.
        sys6(__NR_fsconfig, ctx, FSCONFIG_SET_STRING, (long)"xino", (long)"off", 0, 0);
        mnt = sys6(__NR_fsconfig, ctx, FSCONFIG_CMD_CREATE, 0, 0, 0, 0);
        if (mnt == 0) mnt = sys(__NR_fsmount, ctx, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
    }
    sys(__NR_close, ctx, 0, 0);
    if (mnt < 0) return (int)mnt;
    long fd = sys6(__NR_openat, mnt, (long)name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, 0, 0);
    sys(__NR_close, mnt, 0, 0);
    return (int)fd;
}

void swrunc_early_reexec(long *stack) {
    if (!EARLY_REEXEC) return;
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    if (!sealed_exe_wanted(argc, argv) || sealed_exe_check() != 0) return;
    int fd = sealed_exe_overlay();
    if (fd < 0) return;
    sys6(__NR_execveat, fd, (long)"", (long)argv, (long)envp, AT_EMPTY_PATH, 0);
    sys(__NR_close, fd, 0, 0);
}


