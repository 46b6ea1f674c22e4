/* The "contention" collector (contention.c). */
#ifndef VS_CONTENTION_COLLECTOR_H
#define VS_CONTENTION_COLLECTOR_H

#include "../bpf/probes.h"
#include "collector.h"

/* Calls fn for every futex word waited on, as a vs_lock_stats with only the
 * wait figures (acquisitions and holds are not seen this way). Read before
 * vs_session_stop(). */
int vs_contention_lock_stats(const struct vs_collector *c,
			     int (*fn)(uint64_t addr, const struct vs_lock_stats *st, void *arg),
			     void *arg);

#endif
