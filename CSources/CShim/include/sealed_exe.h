// Mechanism for running the runtime from a copy the container cannot write (CVE-2019-5736):
// the binary seen through a private read-only overlayfs mount, or a sealed memfd copy.
#ifndef CSHIM_SEALED_EXE_H
#define CSHIM_SEALED_EXE_H

// 1 when the running executable cannot be written through /proc/<pid>/exe: it is a memfd with
// write seals, or it lives on a read-only mount. 0 when it can; -1 with errno on error.
int cshim_exe_is_sealed(void);

// 1 when this process runs from an overlayfs copy (the sealed form runc 1.2 prefers), else 0.
int cshim_exe_is_overlay(void);

// An O_PATH fd of `name` inside `dir`, seen through an overlayfs mount that has no upper layer
// and was never attached anywhere: nothing can write to the file through it, and no path leads to
// it. `empty_dir` is an empty directory (overlayfs needs two lower layers to be read-only).
// Returns -1 with errno when overlayfs or the new mount API is unavailable (or not permitted).
int cshim_exe_overlay(const char *dir, const char *name, const char *empty_dir);

// A memfd holding a copy of `path`, sealed against writes, growth and shrinking.
int cshim_exe_memfd_copy(const char *path);

// execveat(fd, "", argv, envp, AT_EMPTY_PATH); returns only on failure.
int cshim_execveat_fd(int fd, char *const argv[], char *const envp[]);

#endif
