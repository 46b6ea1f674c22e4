/* Target lookup and liveness, from /proc and a pidfd. */
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../lib/util.h"

#define VS_TARGET_SETTLE_NS (200 * VS_NSEC_PER_MSEC)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int vs_read_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		err = -errno;
		n = 0;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(fd);
	return err;
}

/* The state letter and flags from /proc/PID/stat; the comm field may hold
 * spaces and parentheses, so parsing starts after its last ')'. */
/* From /proc/PID/stat: the state, the flags and, if start is not NULL, the
 * start time (clock ticks since boot). */
static int read_stat_start(pid_t pid, char *state, unsigned long *flags,
			   unsigned long long *start)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* fields after comm: state ppid pgrp session tty_nr tpgid flags, and
	 * twelve more to starttime */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu %*s %*s %*s %*s %*s %*s %*s %*s"
			 " %*s %*s %*s %*s %llu", state, flags, &ticks) != 3)
		return -EINVAL;
	if (start)
		*start = ticks;
	return 0;
}

static int read_stat(pid_t pid, char *state, unsigned long *flags)
{
	return read_stat_start(pid, state, flags, NULL);
}

#define PF_KTHREAD 0x00200000

/* How long ago a process that started start_ticks after boot did. */
static uint64_t age_ns(unsigned long long start_ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec now;

	if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &now))
		return 0;
	return (uint64_t)now.tv_sec * VS_NSEC_PER_SEC + (uint64_t)now.tv_nsec -
	       (uint64_t)start_ticks * (VS_NSEC_PER_SEC / (uint64_t)hz);
}

/* The first len bytes of /proc/PID/cmdline; their count (0 if unreadable). */
static size_t read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (got < len && (n = read(fd, buf + got, len - got)) > 0)
		got += (size_t)n;
	close(fd);
	return got;
}

static uint64_t mntns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

int vs_target_open(struct vs_target *t, pid_t pid, char *err, size_t errlen)
{
	char path[64], state;
	unsigned long flags;
	ssize_t n;
	int rc;

	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	if (pid <= 0) {
		snprintf(err, errlen, "invalid pid %d", (int)pid);
		return -EINVAL;
	}
	rc = read_stat(pid, &state, &flags);
	if (rc) {
		snprintf(err, errlen, "no process with pid %d", (int)pid);
		return -ESRCH;
	}
	if (flags & PF_KTHREAD) {
		snprintf(err, errlen, "pid %d is a kernel thread, not a daemon", (int)pid);
		return -EINVAL;
	}
	if (state == 'Z' || state == 'X') {
		snprintf(err, errlen, "pid %d is a zombie: it has exited", (int)pid);
		return -ESRCH;
	}
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (t->pidfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open pid %d: %s", (int)pid, strerror(errno));
		return rc;
	}
	t->pid = pid;
	vs_read_comm(pid, pid, t->comm, sizeof(t->comm));
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, t->exe, sizeof(t->exe) - 1);
	t->exe[n > 0 ? n : 0] = '\0';
	t->cmdline_len = read_cmdline(pid, t->cmdline, sizeof(t->cmdline));
	t->mntns = mntns_of(pid);
	/* The pidfd was opened after the checks: if the pid was recycled in
	 * between, the new process is checked again here. */
	if (read_stat(pid, &state, &flags) || state == 'Z' || (flags & PF_KTHREAD)) {
		snprintf(err, errlen, "process %d exited while attaching", (int)pid);
		vs_target_close(t);
		return -ESRCH;
	}
	return 0;
}

static int name_matches(pid_t pid, const char *name)
{
	char comm[16], path[64], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	if (vs_read_comm(pid, pid, comm, sizeof(comm)) == 0 && !strcmp(comm, name))
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';
	base = strrchr(exe, '/');
	return !strcmp(base ? base + 1 : exe, name);
}

int vs_target_find(const char *name, pid_t *pid, char *err, size_t errlen)
{
	struct vs_strbuf found = { 0 };
	struct dirent *de;
	int matches = 0, rc;
	pid_t self = getpid(), first = 0;
	DIR *d = opendir("/proc");

	if (!d) {
		rc = -errno;
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		return rc;
	}
	while ((de = readdir(d))) {
		uint64_t v;
		char state;
		unsigned long flags;

		if (vs_parse_u64(de->d_name, 1, INT_MAX, &v) || (pid_t)v == self)
			continue;
		if (!name_matches((pid_t)v, name))
			continue;
		if (read_stat((pid_t)v, &state, &flags) || state == 'Z' || (flags & PF_KTHREAD))
			continue;
		if (!matches++)
			first = (pid_t)v;
		vs_strbuf_addf(&found, "%s%ld", matches > 1 ? ", " : "", (long)v);
	}
	closedir(d);
	if (matches == 1) {
		*pid = first;
		rc = 0;
	} else if (!matches) {
		snprintf(err, errlen, "no running process is named '%s'", name);
		rc = -ESRCH;
	} else {
		snprintf(err, errlen, "%d processes are named '%s' (pids %s): choose one with -p",
			 matches, name, found.buf ? found.buf : "?");
		rc = -EEXIST;
	}
	vs_strbuf_release(&found);
	return rc;
}

int vs_target_find_restart(const struct vs_target *old, pid_t *pid)
{
	struct dirent *de;
	int matches = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char comm[16], cmdline[sizeof(old->cmdline)], state;
		unsigned long long start;
		unsigned long flags;
		uint64_t v;

		if (vs_parse_u64(de->d_name, 1, INT_MAX, &v) || (pid_t)v == old->pid ||
		    (pid_t)v == getpid())
			continue;
		if (vs_read_comm((pid_t)v, (pid_t)v, comm, sizeof(comm)) || strcmp(comm, old->comm))
			continue;
		if (read_cmdline((pid_t)v, cmdline, sizeof(cmdline)) != old->cmdline_len ||
		    memcmp(cmdline, old->cmdline, old->cmdline_len))
			continue;
		if (old->mntns && mntns_of((pid_t)v) != old->mntns)
			continue;
		if (read_stat_start((pid_t)v, &state, &flags, &start) || state == 'Z' ||
		    (flags & PF_KTHREAD))
			continue;
		/* Just exec'd, the loader may still be mapping the libraries
		 * the probes go into: it is found on a later look. */
		if (age_ns(start) < VS_TARGET_SETTLE_NS)
			continue;
		if (!matches++)
			*pid = (pid_t)v;
	}
	closedir(d);
	return matches == 1 ? 0 : matches ? -EEXIST : -ESRCH;
}

int vs_target_alive(const struct vs_target *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	if (t->pidfd < 0)
		return 0;
	/* A pidfd polls readable once the process has exited. */
	return poll(&p, 1, 0) == 0;
}

void vs_target_close(struct vs_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}
