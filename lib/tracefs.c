#include "tracefs.h"

#include <errno.h>
#include <sys/mount.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing"

int vs_tracefs_mount(void)
{
	/* libbpf looks in debugfs first, then in tracefs */
	if (!access("/sys/kernel/debug/tracing/events", F_OK) || !access(TRACEFS "/events", F_OK))
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) &&
	    errno != EBUSY)
		return -errno;
	return access(TRACEFS "/events", F_OK) ? -ENOENT : 0;
}
