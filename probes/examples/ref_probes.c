/* The count behind the `stats` request (see REF_PROBE in ref_probes.h). */
#include "ref_probes.h"

#include <stdatomic.h>

static atomic_uint_fast64_t probes_fired;

void ref_probe_fired(void)
{
	atomic_fetch_add_explicit(&probes_fired, 1, memory_order_relaxed);
}

uint64_t ref_probes_fired(void)
{
	return atomic_load_explicit(&probes_fired, memory_order_relaxed);
}
