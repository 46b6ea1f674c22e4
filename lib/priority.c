/* See priority.h. Why: under bench/95-scale.sh (64 clients, 2 CPUs), record
 * spent 9.0 s of 15 s runnable but waiting for a CPU and lost 17 % of its
 * events, though it needs only 4 % of a core: with 70 runnable threads a
 * nice-0 task gets about 3 %, in slices 50 ms apart, and the ring filled
 * meanwhile. A higher weight costs the daemon nothing more (virtscope's work
 * is the same), it only gets that work done before the ring overflows. */
#include <errno.h>
#include <sys/resource.h>

#include "priority.h"

int vs_raise_priority(void)
{
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (nice == -1 && errno)
		return -errno;
	if (nice != 0)
		return 0; /* started under nice(1): the user's choice */
	/* On Linux PRIO_PROCESS 0 is the calling thread; threads started
	 * after this inherit it. */
	if (setpriority(PRIO_PROCESS, 0, VS_READER_NICE))
		return -errno;
	return 1;
}
