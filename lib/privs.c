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
 * and ring buffers already open are used through their file descriptors.
 * A front end that re-attaches to a restarted daemon (top, record) also
 * keeps what attaching takes on this kernel, and nothing else:
 *   CAP_BPF                 loading programs, creating maps
 *   CAP_PERFMON             tracepoints and sampling events, and the
 *                           programs' reads of kernel memory
 *   CAP_SYS_ADMIN           uprobes and USDT probes: without it, opening
 *                           their perf events fails with EACCES here
 * (CAP_DAC_OVERRIDE, CAP_SYS_RESOURCE, CAP_NET_ADMIN and the rest go: memlock
 * is charged to the memory cgroup, and the files read are readable). */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "privs.h"
#include "util.h"

int vs_drop_privileges(int keep_attach)
{
	static const cap_value_t keep[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
					    CAP_CHECKPOINT_RESTORE, CAP_SYSLOG,
					    /* only with keep_attach: */
					    CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN };
	size_t nr_keep = VS_ARRAY_SIZE(keep) - (keep_attach ? 0 : 3);
	cap_t now = cap_get_proc(), caps = cap_init();
	cap_value_t kept[VS_ARRAY_SIZE(keep)];
	int n = 0, rc = 0;

	if (!now || !caps) {
		rc = -errno;
		goto cleanup;
	}
	/* only what we have: asking for a capability not held fails */
	for (size_t i = 0; i < nr_keep; i++) {
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
