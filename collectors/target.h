/* The process being observed: finding it by pid or by name, checking that it
 * can be observed, and noticing when it goes away (through a pidfd, so that a
 * recycled pid is never mistaken for the target). */
#ifndef VS_TARGET_H
#define VS_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vs_target {
	pid_t pid;
	int pidfd;        /* -1 when closed */
	char comm[16];    /* the main thread's name */
	char exe[4096];   /* /proc/PID/exe as it reads, "(deleted)" included */
	char cmdline[512]; /* the start of /proc/PID/cmdline (NUL-separated), */
	size_t cmdline_len; /* to know the same daemon when it starts again */
	uint64_t mntns;    /* its mount namespace's inode, 0 if unknown */
};

/* Opens pid as the target. Fails (-ESRCH, -EINVAL, -EPERM...) with a one-line
 * reason in err for: no such process, a kernel thread, a zombie. */
int vs_target_open(struct vs_target *t, pid_t pid, char *err, size_t errlen);

/* Finds the one process whose name (comm, or the basename of its executable)
 * is `name`. -ESRCH when none matches, -EEXIST when several do; err then lists
 * them. Threads are not processes: only thread-group leaders are considered. */
int vs_target_find(const char *name, pid_t *pid, char *err, size_t errlen);

/* Finds the target's restart: the one other live process with the same name,
 * command line and mount namespace (so that a host's libvirtd is not taken for
 * a container's, restarted, though both run the same command), started at
 * least 200 ms ago. 0, -ESRCH when none runs, -EEXIST when several do. */
int vs_target_find_restart(const struct vs_target *old, pid_t *pid);

/* 1 while the target runs, 0 once it has exited (zombie included). */
int vs_target_alive(const struct vs_target *t);

/* Closes the pidfd. Accepts a zeroed or already closed target. */
void vs_target_close(struct vs_target *t);

/* Reads /proc/PID/task/TID/comm into buf (NUL-terminated); 0 or -errno. */
int vs_read_comm(pid_t pid, pid_t tid, char *buf, size_t len);

#endif
