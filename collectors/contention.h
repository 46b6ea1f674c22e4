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

/* A wait still in progress, as the live view shows it. */
struct vs_lock_wait_now {
	uint32_t tid;
	uint32_t owner;        /* the mutex's owner when the wait began, 0 unknown */
	uint64_t addr;
	uint64_t since_ns;     /* when it began (CLOCK_MONOTONIC) */
	const char *kind;      /* the lock's names, or NULL */
	const char *object;
	const char *owner_job; /* what the owner was doing then, or NULL */
};

/* Calls fn for every thread of the target waiting for a contended mutex right
 * now, whatever --min-wait says, until fn returns non-zero. 0, fn's value,
 * or -ENODEV once stopped. */
int vs_contention_waits_now(const struct vs_collector *c,
			    int (*fn)(const struct vs_lock_wait_now *w, void *arg), void *arg);

#endif
