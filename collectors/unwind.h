/* The stack layer's unwinder: turns a user-stack snapshot (registers and a
 * copy of the stack, see bpf/ustack.h) into return addresses, using the CFI
 * (.eh_frame, or .debug_frame from a debug file) of the modules the process
 * has mapped.
 *
 * libdw parses the CFI; the walk itself is done here, with each address's
 * unwind rules cached after their first use. That keeps a warm walk to a few
 * hash lookups per frame, where libdwfl's own unwinder would re-derive the
 * rules for every frame of every sample. DWARF expressions in the rules (PLT
 * entries, realigned stacks) are evaluated, not skipped. */
#ifndef VS_UNWIND_H
#define VS_UNWIND_H

#include <stdint.h>

#include "../bpf/ustack.h"
#include "procmaps.h"

struct vs_unwinder;

struct vs_unwind_stats {
	uint64_t stacks;
	uint64_t frames;
	uint64_t rows_cached;  /* rows derived (again after each fresh start) */
	uint64_t rows_dropped; /* times the cache of rules started afresh */
	uint64_t ns;           /* time spent unwinding */
	uint64_t warm_stacks;  /* stacks whose every rule was already cached */
	uint64_t warm_median_ns; /* ... and the median time one took */
};

/* procs must outlive the unwinder. */
struct vs_unwinder *vs_unwinder_new(struct vs_procs *procs);
void vs_unwinder_free(struct vs_unwinder *u); /* NULL ok */

enum vs_unwind_end {
	VS_UNWIND_ROOT = 1,      /* reached the thread's root: its CFI ends the stack */
	VS_UNWIND_TRUNCATED,     /* stopped at max frames */
	VS_UNWIND_NO_MEMORY,     /* needed stack memory outside the snapshot */
	VS_UNWIND_NO_CFI,        /* an address in no module, or without CFI */
	VS_UNWIND_BAD_FRAME,     /* rules that could not be evaluated, or a loop */
};

/* Walks the snapshot of process pid. Writes up to max addresses into ips,
 * leaf first (ips[0] is where the thread was, the rest are return
 * addresses), sets *end to why the walk stopped, and returns the count. */
unsigned int vs_unwind(struct vs_unwinder *u, uint32_t pid, const struct vs_ustack *snap,
		       uint64_t *ips, unsigned int max, enum vs_unwind_end *end);

void vs_unwinder_stats(const struct vs_unwinder *u, struct vs_unwind_stats *st);

#endif
