// Runs before the C library is initialised: no libc calls (string and memory functions are
// IFUNCs not yet resolved), no TLS (hence no stack protector), raw system calls only. Built
// with -ffreestanding -fno-builtin -fno-stack-protector so that the compiler emits no such calls.
#define _GNU_SOURCE
#include "swrunc_entry.h"

#if defined(__x86_64__) && defined(__linux__)

#include <asm/unistd.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>

#define SEAL_MASK (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define STATFS_RDONLY 1  // ST_RDONLY in struct statfs's f_flags

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
#define sys(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static int same(const char *a, const char *b) {
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

// The commands SwruncStart re-executes for (swrunc_sealed_commands); the same loose match.
static int wants_sealed_copy(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (same(argv[i], "create") || same(argv[i], "run") || same(argv[i], "exec")) return 1;
    }
    return 0;
}

// Sealed already: a sealed memfd, or a read-only mount (the overlay made below).
static int exe_is_sealed(void) {
    int fd = (int)sys(__NR_open, "/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
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

void swrunc_early_reexec(long *stack) {
    int argc = (int)stack[0];
    char **argv = (char **)(stack + 1);
    char **envp = argv + argc + 1;
    if (!wants_sealed_copy(argc, argv) || exe_is_sealed() != 0) return;

    char exe[4096];
    long n = sys(__NR_readlink, "/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = '\0';
    long slash = n - 1;
    while (slash >= 0 && exe[slash] != '/') slash--;
    if (slash < 0) return;
    exe[slash] = '\0';
    const char *dir = slash == 0 ? "/" : exe;
    const char *name = exe + slash + 1;

    const char *empty = "/run/swrunc/@empty";
    sys(__NR_mkdir, "/run/swrunc", 0711, 0);
    long made = sys(__NR_mkdir, empty, 0700, 0);
    if (made < 0 && made != -17 /* EEXIST */) return;

    // The binary's directory on top, so a file of the same name in the empty layer cannot shadow it.
    char lower[8300];
    long len = append_layer(lower, 0, sizeof lower, dir);
    if (len < 0 || len + 1 >= (long)sizeof lower) return;
    lower[len++] = ':';
    if (append_layer(lower, len, sizeof lower, empty) < 0) return;

    int ctx = (int)sys(__NR_fsopen, "overlay", FSOPEN_CLOEXEC, 0);
    if (ctx < 0) return;
    int mnt = -1, fd = -1;
    if (sys6(__NR_fsconfig, ctx, FSCONFIG_SET_STRING, (long)"lowerdir", (long)lower, 0, 0) == 0) {
        sys6(__NR_fsconfig, ctx, FSCONFIG_SET_STRING, (long)"xino", (long)"off", 0, 0);
        if (sys6(__NR_fsconfig, ctx, FSCONFIG_CMD_CREATE, 0, 0, 0, 0) == 0) {
            mnt = (int)sys(__NR_fsmount, ctx, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
        }
    }
    sys(__NR_close, ctx, 0, 0);
    if (mnt < 0) return;
    fd = (int)sys6(__NR_openat, mnt, (long)name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, 0, 0);
    sys(__NR_close, mnt, 0, 0);
    if (fd < 0) return;
    sys6(__NR_execveat, fd, (long)"", (long)argv, (long)envp, AT_EMPTY_PATH, 0);
    sys(__NR_close, fd, 0, 0);
}

#else

void swrunc_early_reexec(long *stack) { (void)stack; }

#endif
