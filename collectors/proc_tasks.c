/* Reading /proc/PID/task/TID/stat. The name is the one field that can hold
 * spaces and parentheses, so the fields are taken after its last ')'. */
#include "proc_tasks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses a stat line: name, state, utime + stime, starttime. */
static int parse_stat(const char *buf, struct vs_proc_task *t, uint64_t *start)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long long utime, stime, st;
	size_t n;

	if (!open || !close || close < open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(t->comm))
		n = sizeof(t->comm) - 1;
	memcpy(t->comm, open + 1, n);
	t->comm[n] = '\0';
	/* After ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime(14) stime(15) cutime cstime priority nice
	 * num_threads itrealvalue starttime(22). */
	if (sscanf(close + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu",
		   &t->state, &utime, &stime, &st) != 4)
		return -EINVAL;
	t->cpu_ticks = utime + stime;
	if (start)
		*start = st;
	return 0;
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

int vs_proc_tasks(pid_t pid, int (*fn)(const struct vs_proc_task *t, void *arg), void *arg)
{
	char path[64], buf[1024];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while (!rc && (de = readdir(d))) {
		struct vs_proc_task t = { 0 };
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		if (*end || !tid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%lu/stat", (int)pid, tid);
		if (read_small(path, buf, sizeof(buf)) || parse_stat(buf, &t, NULL))
			continue; /* it exited meanwhile */
		t.tid = (uint32_t)tid;
		rc = fn(&t, arg);
	}
	closedir(d);
	return rc;
}

int vs_proc_times(pid_t pid, uint64_t *cpu_ticks, uint64_t *start_ticks)
{
	struct vs_proc_task t;
	char path[64], buf[1024];
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	rc = read_small(path, buf, sizeof(buf));
	if (rc)
		return rc == -ENOENT ? -ESRCH : rc;
	rc = parse_stat(buf, &t, start_ticks);
	if (!rc)
		*cpu_ticks = t.cpu_ticks;
	return rc;
}

int vs_proc_rss_kib(pid_t pid, uint64_t *rss_kib)
{
	unsigned long long size, resident;
	char path[64], buf[256];
	long page = sysconf(_SC_PAGESIZE);
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	rc = read_small(path, buf, sizeof(buf));
	if (rc)
		return rc == -ENOENT ? -ESRCH : rc;
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2 || page <= 0)
		return -EINVAL;
	*rss_kib = resident * (uint64_t)page / 1024;
	return 0;
}
