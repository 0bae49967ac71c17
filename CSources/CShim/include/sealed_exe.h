// Mechanism for running the runtime from a copy the container cannot write (CVE-2019-5736):
// the binary seen through a private read-only overlayfs mount, or a sealed memfd copy.
#ifndef CSHIM_SEALED_EXE_H
#define CSHIM_SEALED_EXE_H

// 1 when the running executable cannot be written through /proc/<pid>/exe: it is a memfd with
// write seals, or it lives on a read-only mount. 0 when it can; -1 with errno on error.
int cshim_exe_is_sealed(void);

// 1 when this process runs from an overlayfs copy (the sealed form runc 1.2 prefers), else 0.
int cshim_exe_is_overlay(void);

// A memfd holding a copy of `path`, sealed against writes, growth and shrinking.
int cshim_exe_memfd_copy(const char *path);

// execveat(fd, "", argv, envp, AT_EMPTY_PATH); returns only on failure.
int cshim_execveat_fd(int fd, char *const argv[], char *const envp[]);

#endif
