/* Fetch programs (bpf/probes.h) evaluated in user space, against the
 * target's memory: how a lock seen only by its address (a futex word) gets
 * the names a profile's lock.request probe would have fetched. */
#ifndef VS_FETCH_EVAL_H
#define VS_FETCH_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/probes.h"

/* Evaluates f with the probe's arguments args[0..nargs-1], reading memory
 * through mem_fd (an open /proc/PID/mem). Registers and return values are
 * not available here: -ENOTSUP. 0 or -errno. */
int vs_fetch_eval(const struct vs_fetch *f, int mem_fd, const uint64_t *args, size_t nargs,
		  uint64_t *out);

/* Reads a NUL-terminated string at addr into buf (always terminated). */
int vs_read_string(int mem_fd, uint64_t addr, char *buf, size_t len);

/* The kind and object names spec gives the lock at addr, with its checks
 * (check=, object-if-kind=) applied; empty strings when unknown. */
void vs_lock_names(const struct vs_probe_spec *spec, int mem_fd, uint64_t addr, char *kind,
		   size_t kindlen, char *object, size_t objlen);

#endif
