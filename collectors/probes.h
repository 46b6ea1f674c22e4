/* The "probes" collector (probes.c). */
#ifndef VS_PROBES_COLLECTOR_H
#define VS_PROBES_COLLECTOR_H

#include "collector.h"
#include "probe_events.h"
#include "profile.h"
#include "target.h"

/* The profile a started "probes" collector uses (thread roles, names), or
 * NULL before it started. */
const struct vs_profile *vs_probes_profile(const struct vs_collector *c);

/* How many of the profile's probes a started collector attached. */
size_t vs_probes_nr_attached(const struct vs_collector *c);

/* Loads the profile for t: the one named (built-in or a file), else the one
 * that matches it (see probes.c), with its build-id checks applied (on
 * another build, fetches through memory are dropped, with a warning).
 * 0, or -errno with a one-line reason in err. */
int vs_profile_load_for(const struct vs_target *t, const char *name, struct vs_profile *p,
			char *err, size_t errlen);

/* The path to attach a uprobe on BINARY at for process pid: "$exe", or the
 * first mapped file whose name starts with BINARY ("libc.so."), as the
 * process maps it (through /proc/PID/map_files when the path no longer
 * names that file). 0, -ENOENT, or -ESRCH when the process maps nothing
 * (it is exiting). */
int vs_probes_resolve_binary(pid_t pid, const char *binary, char *out, size_t outlen);

/* Calls fn for every lock the probes counted (bpf/probes.h), until fn
 * returns non-zero. 0, fn's value, or -errno (-ENODEV once stopped): read
 * them before vs_session_stop(). */
int vs_probes_lock_stats(const struct vs_collector *c,
			 int (*fn)(uint64_t addr, const struct vs_lock_stats *st, void *arg),
			 void *arg);

/* Calls fn for each object (and its lock) the target's threads worked on
 * since since_ns (see vs_probe_events_objects()). 0, fn's value, or
 * -ENODEV before the collector started. */
int vs_probes_objects(const struct vs_collector *c, uint64_t since_ns,
		      int (*fn)(const struct vs_probe_object *o, void *arg), void *arg);

#endif
