/* The virtualization daemons top looks for: libvirt's monolithic daemon and
 * its per-driver daemons (virtproxyd forwards to those, so it is one too).
 * Helpers (virtlogd, virtlockd) and QEMU processes are not daemons to show. */
#include "top_target.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../collectors/target.h"
#include "../lib/util.h"

static const char *const daemons[] = {
	"libvirtd", "virtqemud", "virtlxcd", "virtxend", "virtchd",
	"virtvboxd", "virtvzd", "virtbhyved", "virtproxyd",
};

static int is_daemon(const char *comm)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(daemons); i++)
		if (!strcmp(comm, daemons[i]))
			return 1;
	return 0;
}

int vs_top_find_daemon(pid_t *pid, char *err, size_t errlen)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t found = 0, at = 0;
	char list[256] = "";

	if (!d) {
		snprintf(err, errlen, "cannot read /proc: %s", strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		char *end, comm[16];
		long p = strtol(de->d_name, &end, 10);

		if (*end || p <= 0 || vs_read_comm((pid_t)p, (pid_t)p, comm, sizeof(comm)) ||
		    !is_daemon(comm))
			continue;
		if (!found++)
			*pid = (pid_t)p;
		if (at < sizeof(list)) {
			int n = snprintf(list + at, sizeof(list) - at, "%s%s %ld", at ? ", " : "",
					 comm, p);

			at += n > 0 ? (size_t)n : 0;
		}
	}
	closedir(d);
	if (found == 1)
		return 0;
	if (!found) {
		snprintf(err, errlen,
			 "no virtualization daemon (libvirtd, virtqemud, ...) is running: name one "
			 "with -p PID or --daemon NAME");
		return -ESRCH;
	}
	snprintf(err, errlen, "%zu virtualization daemons are running (%s): choose one with -p PID",
		 found, list);
	return -EEXIST;
}
