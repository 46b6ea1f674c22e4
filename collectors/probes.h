/* The "probes" collector (probes.c). */
#ifndef VS_PROBES_COLLECTOR_H
#define VS_PROBES_COLLECTOR_H

#include "collector.h"
#include "profile.h"

/* The profile a started "probes" collector uses (thread roles, names), or
 * NULL before it started. */
const struct vs_profile *vs_probes_profile(const struct vs_collector *c);

/* Calls fn for every lock the probes counted (bpf/probes.h), until fn
 * returns non-zero. 0, fn's value, or -errno (-ENODEV once stopped): read
 * them before vs_session_stop(). */
int vs_probes_lock_stats(const struct vs_collector *c,
			 int (*fn)(uint64_t addr, const struct vs_lock_stats *st, void *arg),
			 void *arg);

#endif
