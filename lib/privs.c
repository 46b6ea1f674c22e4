/* What stays after attaching, and why:
 *   CAP_SYS_PTRACE          /proc/PID/maps and /proc/PID/root of processes
 *                           the target starts later (their mappings for
 *                           stacks), under Yama's restrictions
 *   CAP_DAC_READ_SEARCH     the binaries those mappings name, through
 *                           directories of other mount namespaces
 *   CAP_CHECKPOINT_RESTORE  /proc/PID/map_files, for binaries replaced or
 *                           deleted since they were mapped
 *   CAP_SYSLOG              kernel symbol addresses in /proc/kallsyms
 * Loading BPF, opening perf events, and every other capability go: the maps
 * and ring buffers already open are used through their file descriptors. */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "privs.h"
#include "util.h"

int vs_drop_privileges(void)
{
	static const cap_value_t keep[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
					    CAP_CHECKPOINT_RESTORE, CAP_SYSLOG };
	cap_t now = cap_get_proc(), caps = cap_init();
	cap_value_t kept[VS_ARRAY_SIZE(keep)];
	int n = 0, rc = 0;

	if (!now || !caps) {
		rc = -errno;
		goto cleanup;
	}
	/* only what we have: asking for a capability not held fails */
	for (size_t i = 0; i < VS_ARRAY_SIZE(keep); i++) {
		cap_flag_value_t v = CAP_CLEAR;

		if (!cap_get_flag(now, keep[i], CAP_PERMITTED, &v) && v == CAP_SET)
			kept[n++] = keep[i];
	}
	if ((n && (cap_set_flag(caps, CAP_PERMITTED, n, kept, CAP_SET) ||
		   cap_set_flag(caps, CAP_EFFECTIVE, n, kept, CAP_SET))) ||
	    cap_set_proc(caps)) {
		rc = -errno;
		goto cleanup;
	}
	/* and nothing regained through an exec */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		rc = -errno;
cleanup:
	if (now)
		cap_free(now);
	if (caps)
		cap_free(caps);
	return rc;
}
