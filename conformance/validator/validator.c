// The in-container half of the conformance suite. The runner copies the bundle's config.json to
// /conformance/config.json inside the rootfs and runs this binary as the container process; it
// compares what it can observe from inside against the config and prints one TAP line per
// requirement, each naming the spec section and its MUST/SHOULD level.
//
// Statically linked (glibc + jansson) so it runs in any rootfs, and written against the spec text,
// not against any runtime: every check reads the kernel's own view (/proc, stat, prctl, uname).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>

#define CONFIG_PATH "/conformance/config.json"
#define ANNOTATION_PREFIX "org.swrunc.conformance."

static int failures;

// One TAP line. `ref` is "<document>#<section> <LEVEL>"; diagnostics go on a "# " line after it.
static void report(bool ok, const char *name, const char *ref, const char *fmt, ...) {
    printf("%s - %s [%s]\n", ok ? "ok" : "not ok", name, ref);
    if (!ok) {
        failures++;
        if (fmt) {
            va_list ap;
            va_start(ap, fmt);
            printf("#   ");
            vprintf(fmt, ap);
            printf("\n");
            va_end(ap);
        }
    }
}

static void skip(const char *name, const char *ref, const char *why) {
    printf("ok - %s [%s] # SKIP %s\n", name, ref, why);
}

static char *read_small(const char *path, size_t *len_out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (len == cap) { cap *= 2; buf = realloc(buf, cap + 1); }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) { if (errno == EINTR) continue; free(buf); close(fd); return NULL; }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    if (len_out) *len_out = len;
    return buf;
}

static char *trim(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
    return s;
}

static const char *annotation(json_t *cfg, const char *key) {
    char full[256];
    snprintf(full, sizeof full, ANNOTATION_PREFIX "%s", key);
    return json_string_value(json_object_get(json_object_get(cfg, "annotations"), full));
}

// ---------------------------------------------------------------- process

static void check_args(json_t *proc, int argc, char **argv) {
    json_t *args = json_object_get(proc, "args");
    bool ok = json_is_array(args) && json_array_size(args) == (size_t)argc;
    for (int i = 0; ok && i < argc; i++)
        ok = strcmp(json_string_value(json_array_get(args, i)) ?: "", argv[i]) == 0;
    report(ok, "process.args are the program's argv", "config.md#process MUST", "argc=%d", argc);
}

static void check_env(json_t *proc) {
    json_t *env = json_object_get(proc, "env");
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v) {
        const char *entry = json_string_value(v);
        const char *eq = strchr(entry, '=');
        if (!eq) continue;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(eq - entry), entry);
        const char *got = getenv(key);
        char name[320];
        snprintf(name, sizeof name, "process.env %s", key);
        report(got && strcmp(got, eq + 1) == 0, name, "config.md#process MUST", "got %s", got ?: "(unset)");
    }
}

static void check_cwd(json_t *proc) {
    const char *want = json_string_value(json_object_get(proc, "cwd"));
    char buf[PATH_MAX];
    if (!want) return;
    bool ok = getcwd(buf, sizeof buf) && strcmp(buf, want) == 0;
    report(ok, "process.cwd is the working directory", "config.md#process MUST", "cwd %s, want %s", buf, want);
}

static long status_field(const char *field) {
    char *s = read_small("/proc/self/status", NULL);
    if (!s) return -1;
    char *p = strstr(s, field);
    long v = -1;
    if (p) v = strtol(p + strlen(field), NULL, 0);
    free(s);
    return v;
}

static unsigned long long status_hex(const char *field) {
    char *s = read_small("/proc/self/status", NULL);
    unsigned long long v = 0;
    char *p = s ? strstr(s, field) : NULL;
    if (p) v = strtoull(p + strlen(field), NULL, 16);
    free(s);
    return v;
}

static void check_user(json_t *proc) {
    json_t *user = json_object_get(proc, "user");
    if (!user) return;
    uid_t uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
    gid_t gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    report(r == uid && e == uid && s == uid, "process.user.uid (real, effective, saved)", "config.md#user MUST",
           "uids %u %u %u, want %u", r, e, s, uid);
    report(gr == gid && ge == gid && gs == gid, "process.user.gid (real, effective, saved)", "config.md#user MUST",
           "gids %u %u %u, want %u", gr, ge, gs, gid);

    json_t *extra = json_object_get(user, "additionalGids");
    gid_t groups[256];
    int n = getgroups(256, groups);
    bool ok = n >= 0;
    size_t i;
    json_t *v;
    // Every listed gid present, and nothing else but possibly the primary gid.
    json_array_foreach(extra, i, v) {
        bool found = false;
        for (int k = 0; k < n; k++) found |= groups[k] == (gid_t)json_integer_value(v);
        ok &= found;
    }
    for (int k = 0; ok && k < n; k++) {
        bool listed = groups[k] == gid;
        json_array_foreach(extra, i, v) listed |= groups[k] == (gid_t)json_integer_value(v);
        ok &= listed;
    }
    report(ok, "process.user.additionalGids are the supplementary groups", "config.md#user MUST",
           "%d supplementary groups", n);

    json_t *um = json_object_get(user, "umask");
    if (um) {
        long got = status_field("Umask:\t");
        report(got == json_integer_value(um), "process.user.umask", "config.md#user MUST",
               "umask %04lo, want %04llo", got, (long long)json_integer_value(um));
    }
}

static const struct { const char *name; int resource; } rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static void check_rlimits(json_t *proc) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(proc, "rlimits"), i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        int res = -1;
        for (size_t k = 0; k < sizeof rlimit_names / sizeof *rlimit_names; k++)
            if (type && strcmp(type, rlimit_names[k].name) == 0) res = rlimit_names[k].resource;
        char name[128];
        snprintf(name, sizeof name, "process.rlimits %s", type ?: "?");
        struct rlimit rl;
        if (res < 0 || getrlimit(res, &rl) != 0) { report(false, name, "config.md#posix-process MUST", "unknown"); continue; }
        unsigned long long soft = (unsigned long long)json_integer_value(json_object_get(v, "soft"));
        unsigned long long hard = (unsigned long long)json_integer_value(json_object_get(v, "hard"));
        report(rl.rlim_cur == soft && rl.rlim_max == hard, name, "config.md#posix-process MUST",
               "soft %llu hard %llu, want %llu %llu", (unsigned long long)rl.rlim_cur,
               (unsigned long long)rl.rlim_max, soft, hard);
    }
}

static const char *cap_names[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static int cap_last(void) {
    char *s = read_small("/proc/sys/kernel/cap_last_cap", NULL);
    int v = s ? atoi(s) : 40;
    free(s);
    return v;
}

static unsigned long long cap_set(json_t *caps, const char *key, unsigned long long known) {
    unsigned long long set = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(caps, key), i, v) {
        const char *n = json_string_value(v);
        for (int k = 0; k <= 40 && n; k++)
            if (strcmp(n, cap_names[k]) == 0) set |= 1ULL << k;
    }
    return set & known;
}

// The runtime sets the five sets right before execve; what the program sees is what execve(2)
// makes of them (capabilities(7)): ambient survives only where it is also permitted and
// inheritable; a program without file capabilities run by a non-root uid gets permitted and
// effective = ambient; run by uid 0 it gets permitted = effective = bounding | inheritable | ambient.
static void check_capabilities(json_t *proc) {
    json_t *caps = json_object_get(proc, "capabilities");
    if (!caps) return;
    int last = cap_last();
    unsigned long long known = last >= 63 ? ~0ULL : ((1ULL << (last + 1)) - 1);
    unsigned long long bnd = cap_set(caps, "bounding", known), inh = cap_set(caps, "inheritable", known);
    unsigned long long prm = cap_set(caps, "permitted", known);
    unsigned long long amb = cap_set(caps, "ambient", known) & prm & inh;
    bool root = getuid() == 0 || geteuid() == 0;
    unsigned long long prm_after = root ? (bnd | inh | amb) : amb;
    static const struct { const char *key, *field; } sets[] = {
        {"bounding", "CapBnd:\t"}, {"effective", "CapEff:\t"}, {"inheritable", "CapInh:\t"},
        {"permitted", "CapPrm:\t"}, {"ambient", "CapAmb:\t"},
    };
    unsigned long long want[] = {bnd, prm_after, inh, prm_after, amb};
    for (size_t s = 0; s < 5; s++) {
        unsigned long long got = status_hex(sets[s].field);
        char name[128];
        snprintf(name, sizeof name, "process.capabilities.%s (as execve leaves it)", sets[s].key);
        report(got == want[s], name, "config.md#linux-process MUST", "got %016llx, want %016llx", got, want[s]);
    }
}

static void check_process_misc(json_t *proc) {
    if (json_is_true(json_object_get(proc, "noNewPrivileges"))) {
        int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        report(nnp == 1, "process.noNewPrivileges sets no_new_privs", "config.md#linux-process MUST", "got %d", nnp);
    }
    json_t *oom = json_object_get(proc, "oomScoreAdj");
    if (oom) {
        char *s = read_small("/proc/self/oom_score_adj", NULL);
        long got = s ? strtol(s, NULL, 10) : -99999;
        free(s);
        report(got == json_integer_value(oom), "process.oomScoreAdj", "config.md#linux-process MUST",
               "got %ld", got);
    }
    if (json_is_true(json_object_get(proc, "terminal"))) {
        report(isatty(0) && isatty(1) && isatty(2), "process.terminal attaches a pseudoterminal to stdio",
               "config.md#process MUST", NULL);
        struct stat st;
        bool ok = stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 136;
        report(ok, "/dev/console is the container's pseudoterminal", "config-linux.md#default-devices MUST", NULL);
        json_t *size = json_object_get(proc, "consoleSize");
        if (size) {
            struct winsize ws = {0};
            ioctl(1, TIOCGWINSZ, &ws);
            report(ws.ws_row == json_integer_value(json_object_get(size, "height")) &&
                       ws.ws_col == json_integer_value(json_object_get(size, "width")),
                   "process.consoleSize is the terminal's size", "config.md#process MUST", "%ux%u", ws.ws_row,
                   ws.ws_col);
        }
    }
}

// ---------------------------------------------------------------- uts, root

static void check_uts(json_t *cfg) {
    struct utsname u;
    uname(&u);
    const char *h = json_string_value(json_object_get(cfg, "hostname"));
    if (h) report(strcmp(u.nodename, h) == 0, "hostname", "config.md#hostname MUST", "got %s", u.nodename);
    const char *d = json_string_value(json_object_get(cfg, "domainname"));
    if (d) report(strcmp(u.domainname, d) == 0, "domainname", "config.md#domainname MUST", "got %s", u.domainname);
}

static void check_root(json_t *cfg) {
    json_t *root = json_object_get(cfg, "root");
    bool ro = json_is_true(json_object_get(root, "readonly"));
    struct statvfs sv;
    statvfs("/", &sv);
    bool got = (sv.f_flag & ST_RDONLY) != 0;
    report(got == ro, ro ? "root.readonly: the root filesystem is read-only" : "root filesystem is writable",
           "config.md#root MUST", "ST_RDONLY=%d", got);
}

// ---------------------------------------------------------------- mounts

struct mnt {
    int id;
    char mountpoint[PATH_MAX];
    char opts[512];     // per-mount options
    char optional[256]; // shared:N master:N ...
    char fstype[64];
    char super_opts[512];
};

static struct mnt *mounts;
static int nmounts;

static void load_mountinfo(void) {
    char *s = read_small("/proc/self/mountinfo", NULL);
    if (!s) return;
    mounts = calloc(4096, sizeof *mounts);
    for (char *line = strtok(s, "\n"); line && nmounts < 4096; line = strtok(NULL, "\n")) {
        struct mnt *m = &mounts[nmounts];
        int parent, off = 0;
        char root[PATH_MAX], devno[64];
        if (sscanf(line, "%d %d %63s %4095s %4095s %511s %n", &m->id, &parent, devno, root, m->mountpoint,
                   m->opts, &off) < 6)
            continue;
        char *rest = line + off;
        char *sep = strstr(rest, "- ");
        if (!sep) continue;
        snprintf(m->optional, sizeof m->optional, "%.*s", (int)(sep - rest), rest);
        char source[PATH_MAX];
        sscanf(sep + 2, "%63s %4095s %511s", m->fstype, source, m->super_opts);
        // mountinfo escapes spaces as \040; configs in this suite avoid them.
        nmounts++;
    }
    free(s);
}

// The last mount at a path is the visible one.
static int find_mount(const char *path) {
    int found = -1;
    for (int i = 0; i < nmounts; i++)
        if (strcmp(mounts[i].mountpoint, path) == 0) found = i;
    return found;
}

static bool has_opt(const char *list, const char *opt) {
    size_t n = strlen(opt);
    for (const char *p = list; (p = strstr(p, opt)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == 0 || p[n] == ',' || p[n] == ' ')) return true;
    return false;
}

static void canonical(const char *dest, char *out, size_t len) {
    // Destinations are absolute and symlink-free in this suite; squeeze duplicate and trailing slashes.
    size_t o = 0;
    for (const char *p = dest; *p && o + 1 < len; p++) {
        if (*p == '/' && o > 0 && out[o - 1] == '/') continue;
        out[o++] = *p;
    }
    if (o > 1 && out[o - 1] == '/') o--;
    out[o] = 0;
}

static void check_mounts(json_t *cfg) {
    size_t i;
    json_t *m;
    int last_index = -1;
    bool ordered = true;
    json_array_foreach(json_object_get(cfg, "mounts"), i, m) {
        char dest[PATH_MAX], name[PATH_MAX + 64];
        canonical(json_string_value(json_object_get(m, "destination")) ?: "", dest, sizeof dest);
        const char *type = json_string_value(json_object_get(m, "type"));
        int idx = find_mount(dest);
        snprintf(name, sizeof name, "mounts[%zu] %s is mounted", i, dest);
        if (idx < 0) {
            report(false, name, "config.md#mounts MUST", "no mount at %s", dest);
            continue;
        }
        report(true, name, "config.md#mounts MUST", NULL);
        // Order: each listed mount appears in the mount table after the ones listed before it
        // (the visible one at a path that a later entry did not cover).
        if (idx < last_index) ordered = false;
        last_index = idx;

        json_t *opts = json_object_get(m, "options");
        bool bind = false;
        size_t k;
        json_t *o;
        json_array_foreach(opts, k, o) {
            const char *s = json_string_value(o);
            if (s && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0)) bind = true;
        }
        if (type && !bind && strcmp(type, "bind") != 0 && strcmp(type, "none") != 0) {
            snprintf(name, sizeof name, "mounts[%zu] %s type %s", i, dest, type);
            // sysfs/cgroup types map 1:1; "cgroup" may be served by cgroup or cgroup2 trees.
            bool ok = strcmp(mounts[idx].fstype, type) == 0 ||
                      (strcmp(type, "cgroup") == 0 && strncmp(mounts[idx].fstype, "cgroup", 6) == 0) ||
                      (strcmp(type, "cgroup") == 0 && strcmp(mounts[idx].fstype, "tmpfs") == 0);
            report(ok, name, "config.md#mounts MUST", "fstype %s", mounts[idx].fstype);
        }
        static const char *flags[] = {"ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "relatime"};
        json_array_foreach(opts, k, o) {
            const char *s = json_string_value(o);
            if (!s) continue;
            for (size_t f = 0; f < sizeof flags / sizeof *flags; f++) {
                if (strcmp(s, flags[f]) != 0) continue;
                snprintf(name, sizeof name, "mounts[%zu] %s option %s", i, dest, s);
                report(has_opt(mounts[idx].opts, s), name, "config.md#mounts MUST", "per-mount options %s",
                       mounts[idx].opts);
            }
            // rw is only meaningful as the absence of ro when nothing else asked for ro
            const char *prop = NULL;
            if (strcmp(s, "shared") == 0 || strcmp(s, "rshared") == 0) prop = "shared:";
            else if (strcmp(s, "slave") == 0 || strcmp(s, "rslave") == 0) prop = "master:";
            else if (strcmp(s, "private") == 0 || strcmp(s, "rprivate") == 0) prop = "";
            else if (strcmp(s, "unbindable") == 0 || strcmp(s, "runbindable") == 0) prop = "unbindable";
            if (prop) {
                snprintf(name, sizeof name, "mounts[%zu] %s propagation %s", i, dest, s);
                bool ok = *prop ? strstr(mounts[idx].optional, prop) != NULL
                                : strstr(mounts[idx].optional, "shared:") == NULL &&
                                      strstr(mounts[idx].optional, "master:") == NULL;
                report(ok, name, "config.md#mounts MUST", "optional fields '%s'", mounts[idx].optional);
            }
        }
    }
    report(ordered, "mounts are mounted in the listed order", "config.md#mounts MUST", NULL);
}

static void check_default_filesystems(void) {
    static const struct { const char *path, *type; } fs[] = {
        {"/proc", "proc"}, {"/sys", "sysfs"}, {"/dev/pts", "devpts"}, {"/dev/shm", "tmpfs"},
    };
    for (size_t i = 0; i < 4; i++) {
        int idx = find_mount(fs[i].path);
        char name[96];
        snprintf(name, sizeof name, "default filesystem %s is %s", fs[i].path, fs[i].type);
        report(idx >= 0 && strcmp(mounts[idx].fstype, fs[i].type) == 0, name,
               "config-linux.md#default-filesystems SHOULD", "%s", idx >= 0 ? mounts[idx].fstype : "not mounted");
    }
}

static void check_rootfs_propagation(json_t *lnx) {
    const char *p = json_string_value(json_object_get(lnx, "rootfsPropagation"));
    if (!p) return;
    int idx = find_mount("/");
    // A slave of a private mount is private: the host's propagation decides whether "master:"
    // shows, so slave is checked as "not shared".
    const char *opt = idx >= 0 ? mounts[idx].optional : "";
    bool ok = idx >= 0;
    if (strstr(p, "shared")) ok &= strstr(opt, "shared:") != NULL;
    else if (strstr(p, "slave")) ok &= strstr(opt, "shared:") == NULL;
    else if (strstr(p, "unbindable")) ok &= strstr(opt, "unbindable") != NULL;
    else ok &= strstr(opt, "shared:") == NULL && strstr(opt, "master:") == NULL;
    report(ok, "linux.rootfsPropagation on the root mount", "config-linux.md#rootfs-mount-propagation MUST",
           "optional fields '%s'", opt);
}

// ---------------------------------------------------------------- devices

static void check_default_devices(void) {
    static const struct { const char *path; unsigned maj, min; } devs[] = {
        {"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7},
        {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
    };
    for (size_t i = 0; i < 6; i++) {
        struct stat st;
        bool ok = stat(devs[i].path, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == devs[i].maj &&
                  minor(st.st_rdev) == devs[i].min;
        char name[64];
        snprintf(name, sizeof name, "default device %s", devs[i].path);
        report(ok, name, "config-linux.md#default-devices MUST", NULL);
    }
    // /dev/ptmx: a bind mount or symlink to /dev/pts/ptmx.
    struct stat a, b;
    bool ok = stat("/dev/ptmx", &a) == 0 && stat("/dev/pts/ptmx", &b) == 0 && a.st_rdev == b.st_rdev &&
              a.st_dev == b.st_dev;
    report(ok, "/dev/ptmx refers to /dev/pts/ptmx", "config-linux.md#default-devices MUST", NULL);

    static const struct { const char *link, *target; } links[] = {
        {"/dev/fd", "/proc/self/fd"}, {"/dev/stdin", "/proc/self/fd/0"},
        {"/dev/stdout", "/proc/self/fd/1"}, {"/dev/stderr", "/proc/self/fd/2"},
    };
    for (size_t i = 0; i < 4; i++) {
        char buf[PATH_MAX] = {0};
        ssize_t n = readlink(links[i].link, buf, sizeof buf - 1);
        char name[96];
        snprintf(name, sizeof name, "%s -> %s", links[i].link, links[i].target);
        report(n > 0 && strcmp(buf, links[i].target) == 0, name, "runtime-linux.md#dev-symbolic-links MUST",
               "readlink: %s", n > 0 ? buf : strerror(errno));
    }
}

static void check_devices(json_t *lnx) {
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(lnx, "devices"), i, d) {
        const char *path = json_string_value(json_object_get(d, "path"));
        const char *type = json_string_value(json_object_get(d, "type"));
        char name[PATH_MAX + 64];
        snprintf(name, sizeof name, "linux.devices %s", path);
        struct stat st;
        if (!path || !type || stat(path, &st) != 0) {
            report(false, name, "config-linux.md#devices MUST", "stat: %s", strerror(errno));
            continue;
        }
        bool ok = (*type == 'b') ? S_ISBLK(st.st_mode) : (*type == 'p') ? S_ISFIFO(st.st_mode) : S_ISCHR(st.st_mode);
        if (*type != 'p')
            ok &= major(st.st_rdev) == (unsigned)json_integer_value(json_object_get(d, "major")) &&
                  minor(st.st_rdev) == (unsigned)json_integer_value(json_object_get(d, "minor"));
        report(ok, name, "config-linux.md#devices MUST", "mode %o rdev %u:%u", st.st_mode, major(st.st_rdev),
               minor(st.st_rdev));
        json_t *mode = json_object_get(d, "fileMode");
        if (mode) {
            snprintf(name, sizeof name, "linux.devices %s fileMode", path);
            report((st.st_mode & 07777) == (mode_t)json_integer_value(mode), name, "config-linux.md#devices MUST",
                   "mode %o", st.st_mode & 07777);
        }
        json_t *uid = json_object_get(d, "uid"), *gid = json_object_get(d, "gid");
        if (uid || gid) {
            snprintf(name, sizeof name, "linux.devices %s owner", path);
            bool own = (!uid || st.st_uid == (uid_t)json_integer_value(uid)) &&
                       (!gid || st.st_gid == (gid_t)json_integer_value(gid));
            report(own, name, "config-linux.md#devices MUST", "owner %u:%u", st.st_uid, st.st_gid);
        }
    }
}

// ---------------------------------------------------------------- namespaces

static const struct { const char *type, *proc; } ns_names[] = {
    {"pid", "pid"}, {"network", "net"}, {"mount", "mnt"}, {"ipc", "ipc"}, {"uts", "uts"},
    {"user", "user"}, {"cgroup", "cgroup"}, {"time", "time"},
};

static void check_namespaces(json_t *cfg, json_t *lnx) {
    for (size_t n = 0; n < sizeof ns_names / sizeof *ns_names; n++) {
        char key[64], link[64], name[128];
        snprintf(key, sizeof key, "hostns.%s", ns_names[n].type);
        const char *host = annotation(cfg, key);
        snprintf(link, sizeof link, "/proc/self/ns/%s", ns_names[n].proc);
        struct stat st;
        if (stat(link, &st) != 0 || !host) continue;  // kernel without this namespace type
        json_t *entry = NULL, *e;
        size_t i;
        json_array_foreach(json_object_get(lnx, "namespaces"), i, e)
            if (strcmp(json_string_value(json_object_get(e, "type")) ?: "", ns_names[n].type) == 0) entry = e;
        unsigned long long ino = st.st_ino, hostino = strtoull(host, NULL, 10);
        if (!entry) {
            snprintf(name, sizeof name, "no %s namespace listed: the runtime's is inherited", ns_names[n].type);
            report(ino == hostino, name, "config-linux.md#namespaces MUST", "inode %llu, host %llu", ino, hostino);
        } else if (json_object_get(entry, "path")) {
            snprintf(key, sizeof key, "pathns.%s", ns_names[n].type);
            const char *want = annotation(cfg, key);
            snprintf(name, sizeof name, "%s namespace joined by path", ns_names[n].type);
            report(want && ino == strtoull(want, NULL, 10), name, "config-linux.md#namespaces MUST",
                   "inode %llu, want %s", ino, want ?: "?");
        } else {
            snprintf(name, sizeof name, "new %s namespace", ns_names[n].type);
            report(ino != hostino, name, "config-linux.md#namespaces MUST", "inode %llu equals the host's", ino);
            if (strcmp(ns_names[n].type, "pid") == 0)
                report(getpid() == 1, "the container process is pid 1 of a new pid namespace",
                       "config-linux.md#namespaces MUST", "pid %d", getpid());
        }
    }
}

static void check_id_mappings(json_t *lnx, const char *key, const char *file) {
    json_t *maps = json_object_get(lnx, key);
    if (!json_array_size(maps)) return;
    char *s = read_small(file, NULL);
    bool ok = s != NULL;
    size_t i, lines = 0;
    json_t *m;
    for (char *p = s; ok && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) lines++;
    ok &= lines == json_array_size(maps);
    json_array_foreach(maps, i, m) {
        char want[128];
        unsigned long c = (unsigned long)json_integer_value(json_object_get(m, "containerID"));
        unsigned long h = (unsigned long)json_integer_value(json_object_get(m, "hostID"));
        unsigned long z = (unsigned long)json_integer_value(json_object_get(m, "size"));
        bool found = false;
        for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
            unsigned long a, b, c2;
            if (sscanf(p, "%lu %lu %lu", &a, &b, &c2) == 3 && a == c && b == h && c2 == z) found = true;
        }
        snprintf(want, sizeof want, "%lu %lu %lu", c, h, z);
        ok &= found;
    }
    char name[64];
    snprintf(name, sizeof name, "linux.%s are the process's %s", key, file);
    report(ok, name, "config-linux.md#user-namespace-mappings MUST", "%s", s ? s : "unreadable");
    free(s);
}

static void check_time_offsets(json_t *lnx) {
    json_t *offs = json_object_get(lnx, "timeOffsets");
    if (!offs) return;
    char *s = read_small("/proc/self/timens_offsets", NULL);
    const char *clock;
    json_t *v;
    json_object_foreach(offs, clock, v) {
        long long want = json_integer_value(json_object_get(v, "secs"));
        long long got = 0;
        bool found = false;
        for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
            char name[32];
            long long secs;
            if (sscanf(p, "%31s %lld", name, &secs) == 2 && strcmp(name, clock) == 0) { got = secs; found = true; }
        }
        char title[96];
        snprintf(title, sizeof title, "linux.timeOffsets.%s", clock);
        report(found && got == want, title, "config-linux.md#offset-for-time-namespace MUST", "got %lld", got);
    }
    free(s);
}

// An absolute cgroupsPath is relative to each hierarchy's mount point: without a cgroup namespace
// the process's own /proc/self/cgroup shows exactly that path.
static void check_cgroups_path(json_t *cfg, json_t *lnx) {
    const char *path = json_string_value(json_object_get(lnx, "cgroupsPath"));
    if (!path || path[0] != '/') return;
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(lnx, "namespaces"), i, e)
        if (strcmp(json_string_value(json_object_get(e, "type")) ?: "", "cgroup") == 0) return;
    (void)cfg;
    char *s = read_small("/proc/self/cgroup", NULL);
    static const char *ctrls[] = {"memory", "pids", "cpu,cpuacct", "devices", "freezer"};
    for (size_t c = 0; c < sizeof ctrls / sizeof *ctrls; c++) {
        char *line = s ? strstr(s, ctrls[c]) : NULL;
        // match ":<ctrl>:" exactly
        while (line && !(line[-1] == ':' && line[strlen(ctrls[c])] == ':')) line = strstr(line + 1, ctrls[c]);
        if (!line) continue;
        char *p = line + strlen(ctrls[c]) + 1;
        char got[PATH_MAX];
        size_t n = strcspn(p, "\n");
        snprintf(got, sizeof got, "%.*s", (int)n, p);
        char title[128];
        snprintf(title, sizeof title, "cgroupsPath is the %s cgroup, relative to the mount point", ctrls[c]);
        report(strcmp(got, path) == 0, title, "config-linux.md#cgroups-path MUST", "got %s", got);
    }
    free(s);
}

// resources.devices: for each node in linux.devices whose major:minor has an explicit rule, the
// last matching rule decides whether opening it is refused with EPERM.
static void check_device_cgroup(json_t *lnx) {
    json_t *rules = json_object_get(json_object_get(lnx, "resources"), "devices");
    size_t i, k;
    json_t *d, *r;
    json_array_foreach(json_object_get(lnx, "devices"), i, d) {
        const char *type = json_string_value(json_object_get(d, "type")) ?: "";
        if (*type == 'p') continue;
        long long maj = json_integer_value(json_object_get(d, "major")), min = json_integer_value(json_object_get(d, "minor"));
        int decision = -1;
        json_array_foreach(rules, k, r) {
            const char *rt = json_string_value(json_object_get(r, "type"));
            json_t *rmaj = json_object_get(r, "major"), *rmin = json_object_get(r, "minor");
            const char *acc = json_string_value(json_object_get(r, "access")) ?: "rwm";
            if (!rmaj || !rmin || !rt || *rt != *type || !strchr(acc, 'r')) continue;
            if (json_integer_value(rmaj) == maj && json_integer_value(rmin) == min)
                decision = json_is_true(json_object_get(r, "allow"));
        }
        if (decision < 0) continue;
        const char *path = json_string_value(json_object_get(d, "path"));
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int e = errno;
        if (fd >= 0) close(fd);
        bool denied = fd < 0 && e == EPERM;
        char title[PATH_MAX + 64];
        snprintf(title, sizeof title, "resources.devices %s %s", decision ? "allows" : "denies", path);
        report(denied == !decision, title, "config-linux.md#allowed-device-list MUST", "open: %s",
               fd >= 0 ? "ok" : strerror(e));
    }
}

// ---------------------------------------------------------------- masked, readonly, sysctl

static void check_masked(json_t *lnx) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(lnx, "maskedPaths"), i, v) {
        const char *p = json_string_value(v);
        char name[PATH_MAX + 32];
        snprintf(name, sizeof name, "maskedPaths %s", p);
        struct stat st;
        if (lstat(p, &st) != 0) {
            // Nothing to mask on this kernel; the requirement is vacuous.
            skip(name, "config-linux.md#masked-paths MUST", "path absent on this kernel");
            continue;
        }
        bool ok;
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(p);
            int entries = 0;
            struct dirent *e;
            while (d && (e = readdir(d)))
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) entries++;
            if (d) closedir(d);
            ok = d != NULL && entries == 0;
        } else {
            int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            char c;
            ok = fd < 0 ? (errno == EACCES || errno == EPERM) : read(fd, &c, 1) <= 0;
            if (fd >= 0) close(fd);
        }
        report(ok, name, "config-linux.md#masked-paths MUST", "contents visible");
    }
}

static void check_readonly(json_t *lnx) {
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(lnx, "readonlyPaths"), i, v) {
        const char *p = json_string_value(v);
        char name[PATH_MAX + 32];
        snprintf(name, sizeof name, "readonlyPaths %s", p);
        struct statvfs sv;
        if (statvfs(p, &sv) != 0) {
            skip(name, "config-linux.md#readonly-paths MUST", "path absent on this kernel");
            continue;
        }
        report((sv.f_flag & ST_RDONLY) != 0, name, "config-linux.md#readonly-paths MUST", "writable");
    }
}

static void check_sysctl(json_t *lnx) {
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(lnx, "sysctl"), key, v) {
        char path[PATH_MAX] = "/proc/sys/";
        size_t o = strlen(path);
        for (const char *k = key; *k && o + 1 < sizeof path; k++) path[o++] = *k == '.' ? '/' : *k;
        path[o] = 0;
        char *s = read_small(path, NULL);
        char name[PATH_MAX];
        snprintf(name, sizeof name, "linux.sysctl %s", key);
        report(s && strcmp(trim(s), json_string_value(v)) == 0, name, "config-linux.md#sysctl MUST", "got %s",
               s ?: "unreadable");
        free(s);
    }
}

// ---------------------------------------------------------------- seccomp

// Syscalls the validator can call harmlessly once all other checks are done.
static long probe(const char *sys) {
    if (strcmp(sys, "mkdir") == 0) return syscall(SYS_mkdir, "/tmp/.seccomp-probe", 0700);
    if (strcmp(sys, "mkdirat") == 0) return syscall(SYS_mkdirat, AT_FDCWD, "/tmp/.seccomp-probe", 0700);
    if (strcmp(sys, "symlink") == 0) return syscall(SYS_symlink, "x", "/tmp/.seccomp-probe-link");
    if (strcmp(sys, "getppid") == 0) return syscall(SYS_getppid);
    if (strcmp(sys, "sethostname") == 0) return syscall(SYS_sethostname, "x", 0);
    if (strcmp(sys, "chroot") == 0) return syscall(SYS_chroot, "/");
    errno = ENOSYS;
    return -2;
}

static void check_seccomp(json_t *lnx) {
    json_t *sc = json_object_get(lnx, "seccomp");
    if (!sc) return;
    long mode = status_field("Seccomp:\t");
    report(mode == 2, "linux.seccomp installs a filter", "config-linux.md#seccomp MUST", "Seccomp: %ld", mode);
    size_t i, k;
    json_t *rule, *n;
    json_array_foreach(json_object_get(sc, "syscalls"), i, rule) {
        const char *action = json_string_value(json_object_get(rule, "action")) ?: "";
        if (json_array_size(json_object_get(rule, "args"))) continue;
        json_array_foreach(json_object_get(rule, "names"), k, n) {
            const char *sys = json_string_value(n);
            char name[128];
            snprintf(name, sizeof name, "linux.seccomp %s -> %s", sys, action);
            errno = 0;
            long r = probe(sys);
            if (r == -2 && errno == ENOSYS) continue;  // not probeable
            if (strcmp(action, "SCMP_ACT_ERRNO") == 0) {
                json_t *ret = json_object_get(rule, "errnoRet");
                int want = ret ? (int)json_integer_value(ret) : EPERM;
                report(r == -1 && errno == want, name, "config-linux.md#seccomp MUST", "ret %ld errno %d want %d",
                       r, errno, want);
            } else if (strcmp(action, "SCMP_ACT_ALLOW") == 0) {
                report(!(r == -1 && errno == EPERM), name, "config-linux.md#seccomp MUST", "denied");
            }
        }
    }
}

// ---------------------------------------------------------------- cgroups

static bool read_first(const char *const *paths, char *out, size_t len) {
    for (; *paths; paths++) {
        char *s = read_small(*paths, NULL);
        if (s) {
            snprintf(out, len, "%s", trim(s));
            free(s);
            return true;
        }
    }
    return false;
}

static void expect_cgroup(const char *name, const char *const *paths, long long want, bool max_is_minus1) {
    char got[128];
    if (!read_first(paths, got, sizeof got)) {
        report(false, name, "config-linux.md#control-groups MUST", "no cgroup file readable from inside");
        return;
    }
    long long v = (strcmp(got, "max") == 0) ? (max_is_minus1 ? -1 : LLONG_MAX) : strtoll(got, NULL, 10);
    report(v == want, name, "config-linux.md#control-groups MUST", "got %s want %lld", got, want);
}

static void check_cgroups(json_t *lnx) {
    json_t *res = json_object_get(lnx, "resources");
    if (!res) return;
    json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu"), *pids = json_object_get(res, "pids");
    json_t *v;
    if ((v = json_object_get(mem, "limit"))) {
        const char *p[] = {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max", NULL};
        expect_cgroup("linux.resources.memory.limit read back inside", p, json_integer_value(v), false);
    }
    if ((v = json_object_get(mem, "reservation"))) {
        const char *p[] = {"/sys/fs/cgroup/memory/memory.soft_limit_in_bytes", "/sys/fs/cgroup/memory.low", NULL};
        expect_cgroup("linux.resources.memory.reservation read back inside", p, json_integer_value(v), false);
    }
    if ((v = json_object_get(cpu, "shares"))) {
        const char *p[] = {"/sys/fs/cgroup/cpu,cpuacct/cpu.shares", "/sys/fs/cgroup/cpu/cpu.shares", NULL};
        expect_cgroup("linux.resources.cpu.shares read back inside", p, json_integer_value(v), false);
    }
    if ((v = json_object_get(cpu, "quota"))) {
        const char *p[] = {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", NULL};
        expect_cgroup("linux.resources.cpu.quota read back inside", p, json_integer_value(v), true);
    }
    if ((v = json_object_get(cpu, "period"))) {
        const char *p[] = {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us", NULL};
        expect_cgroup("linux.resources.cpu.period read back inside", p, json_integer_value(v), false);
    }
    if ((v = json_object_get(cpu, "cpus"))) {
        char got[128];
        const char *p[] = {"/sys/fs/cgroup/cpuset/cpuset.cpus", "/sys/fs/cgroup/cpuset.cpus", NULL};
        bool ok = read_first(p, got, sizeof got) && strcmp(got, json_string_value(v)) == 0;
        report(ok, "linux.resources.cpu.cpus read back inside", "config-linux.md#control-groups MUST", "got %s", got);
    }
    if ((v = json_object_get(mem, "swap"))) {
        const char *p[] = {"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", NULL};
        expect_cgroup("linux.resources.memory.swap (memory+swap) read back inside", p, json_integer_value(v), false);
    }
    if ((v = json_object_get(mem, "swappiness"))) {
        const char *p[] = {"/sys/fs/cgroup/memory/memory.swappiness", NULL};
        expect_cgroup("linux.resources.memory.swappiness read back inside", p, json_integer_value(v), false);
    }
    if (json_is_true(json_object_get(mem, "disableOOMKiller"))) {
        char *s = read_small("/sys/fs/cgroup/memory/memory.oom_control", NULL);
        report(s && strstr(s, "oom_kill_disable 1"), "linux.resources.memory.disableOOMKiller read back inside",
               "config-linux.md#control-groups MUST", "%s", s ?: "unreadable");
        free(s);
    }
    if ((v = json_object_get(cpu, "mems"))) {
        char got[128];
        const char *p[] = {"/sys/fs/cgroup/cpuset/cpuset.mems", "/sys/fs/cgroup/cpuset.mems", NULL};
        bool ok = read_first(p, got, sizeof got) && strcmp(got, json_string_value(v)) == 0;
        report(ok, "linux.resources.cpu.mems read back inside", "config-linux.md#control-groups MUST", "got %s", got);
    }
    static const struct { const char *key, *file; } throttles[] = {
        {"throttleReadBpsDevice", "blkio.throttle.read_bps_device"},
        {"throttleWriteBpsDevice", "blkio.throttle.write_bps_device"},
        {"throttleReadIOPSDevice", "blkio.throttle.read_iops_device"},
        {"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"},
    };
    for (size_t t = 0; t < 4; t++) {
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(json_object_get(res, "blockIO"), throttles[t].key), i, d) {
            char path[256], want[96], title[160];
            snprintf(path, sizeof path, "/sys/fs/cgroup/blkio/%s", throttles[t].file);
            snprintf(want, sizeof want, "%lld:%lld %lld", json_integer_value(json_object_get(d, "major")),
                     json_integer_value(json_object_get(d, "minor")), json_integer_value(json_object_get(d, "rate")));
            char *s = read_small(path, NULL);
            snprintf(title, sizeof title, "linux.resources.blockIO.%s read back inside", throttles[t].key);
            report(s && strstr(s, want), title, "config-linux.md#control-groups MUST", "%s, want %s", s ?: "unreadable", want);
            free(s);
        }
    }
    if ((v = json_object_get(pids, "limit"))) {
        const char *p[] = {"/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max", NULL};
        expect_cgroup("linux.resources.pids.limit read back inside", p, json_integer_value(v), true);
    }
}

int main(int argc, char **argv) {
    json_error_t err;
    json_t *cfg = json_load_file(CONFIG_PATH, 0, &err);
    if (!cfg) {
        printf("not ok - validator reads %s [harness]\n#   %s\n", CONFIG_PATH, err.text);
        return 1;
    }
    json_t *proc = json_object_get(cfg, "process"), *lnx = json_object_get(cfg, "linux");
    // Observations first, before the validator changes anything (seccomp probes come last).
    load_mountinfo();
    check_args(proc, argc, argv);
    check_env(proc);
    check_cwd(proc);
    check_user(proc);
    check_rlimits(proc);
    check_capabilities(proc);
    check_process_misc(proc);
    check_uts(cfg);
    check_root(cfg);
    check_mounts(cfg);
    const char *extras = annotation(cfg, "checks");
    if (extras && strstr(extras, "defaults")) {
        check_default_filesystems();
        check_default_devices();
    }
    check_rootfs_propagation(lnx);
    check_devices(lnx);
    check_namespaces(cfg, lnx);
    check_id_mappings(lnx, "uidMappings", "/proc/self/uid_map");
    check_id_mappings(lnx, "gidMappings", "/proc/self/gid_map");
    check_time_offsets(lnx);
    check_cgroups_path(cfg, lnx);
    check_device_cgroup(lnx);
    check_masked(lnx);
    check_readonly(lnx);
    check_sysctl(lnx);
    check_cgroups(lnx);
    check_seccomp(lnx);
    fflush(stdout);
    return failures ? 1 : 0;
}
