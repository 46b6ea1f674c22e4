/* The target's threads as /proc shows them: names, states and CPU time. Read
 * once per refresh by the live view; cheap (one small file per thread) and
 * exact, where sampling would only estimate CPU %. */
#ifndef VS_PROC_TASKS_H
#define VS_PROC_TASKS_H

#include <stdint.h>
#include <sys/types.h>

struct vs_proc_task {
	uint32_t tid;
	char comm[16];
	char state;          /* R, S, D... */
	uint64_t cpu_ticks;  /* utime + stime, in clock ticks */
};

/* Calls fn for every thread of pid, until fn returns non-zero. 0, fn's
 * value, or -errno (-ESRCH once the process is gone). */
int vs_proc_tasks(pid_t pid, int (*fn)(const struct vs_proc_task *t, void *arg), void *arg);

/* The process's CPU time (utime + stime of every thread, in ticks) and its
 * start, in ticks after boot. 0 or -errno. */
int vs_proc_times(pid_t pid, uint64_t *cpu_ticks, uint64_t *start_ticks);

/* The process's resident memory in KiB, from /proc/PID/statm. 0 or -errno. */
int vs_proc_rss_kib(pid_t pid, uint64_t *rss_kib);

#endif
