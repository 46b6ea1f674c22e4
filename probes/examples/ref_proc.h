/*
 * Child processes the libvirt way: fork, then exec a helper in the child;
 * or through vfork(), posix_spawn() or a raw clone system call, as other
 * daemons do (glibc's posix_spawn is a clone(CLONE_VM | CLONE_VFORK)). fork_begin/fork_end fire
 * in the parent around the call; exec fires in the child right before
 * execve() (not for posix_spawn, whose child runs no code of ours).
 */
#ifndef REF_PROC_H
#define REF_PROC_H

#include "ref_probes.h"

#include <sys/types.h>

enum ref_fork_method {
	REF_FORK_FORK,
	REF_FORK_VFORK,
	REF_FORK_SPAWN,
	REF_FORK_CLONE, /* syscall(SYS_clone, SIGCHLD): no libc fork wrapper */
};

/* "fork", "vfork", "spawn" or "clone": 0, or -EINVAL. */
int ref_fork_method_parse(const char *name, enum ref_fork_method *method);

/*
 * Makes a child that execs PATH (no arguments, stdin from /dev/null) by
 * METHOD. Returns the child's pid, or -errno when that failed. Only the
 * parent returns. fork_begin(reason) at entry, fork_end(reason, pid) at
 * return.
 */
REF_PROBE_SITE int64_t ref_fork_helper(const char *reason, const char *path,
				       enum ref_fork_method method);

/* In a child: exec(path), then execve(). Exits 127 if execve fails. */
REF_PROBE_SITE __attribute__((noreturn)) void ref_exec(const char *path);

/* Waits for PID: 0 if it exited 0, -ECHILD if it failed, -errno on error. */
int ref_wait_child(pid_t pid);

/* Forks, execs and waits for PATH COUNT times, one after the other: 0, or
 * the first error. */
int ref_run_helpers(const char *reason, const char *path, uint64_t count,
		    enum ref_fork_method method);

#endif /* REF_PROC_H */
