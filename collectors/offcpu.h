/* The "offcpu" collector (offcpu.c): off-CPU time of every thread, long
 * blocks with their stacks and wakers, and stalls of the event loop. */
#ifndef VS_OFFCPU_COLLECTOR_H
#define VS_OFFCPU_COLLECTOR_H

#include <stdint.h>

#include "../bpf/offcpu.h"
#include "collector.h"

/* A thread's time over the whole trace, closed at the moment of the call:
 * blocks still in progress count up to then. */
struct vs_offcpu_totals {
	uint32_t tid;
	char comm[16];
	uint64_t wall_ns; /* from the start of tracing (or the thread's) to now */
	uint64_t on_ns;
	uint64_t off_ns[VS_OFFCPU_NR_REASONS];
	uint32_t blocks[VS_OFFCPU_NR_REASONS];
};

/* Calls fn for each thread of the target seen running or blocked, and each
 * live thread blocked all along, until fn returns non-zero. 0, fn's value,
 * or -errno (-ENODEV once stopped): call it before vs_session_stop(). */
int vs_offcpu_totals(const struct vs_collector *c,
		     int (*fn)(const struct vs_offcpu_totals *t, void *arg), void *arg);

struct vs_offcpu_info {
	uint32_t loop_tid;     /* the event-loop thread watched, 0 none */
	char loop_comm[16];
	struct vs_offcpu_loop loop;
	uint64_t rseq_emits;   /* long blocks whose user stack came from rseq_update */
	uint64_t switch_emits; /* ... sent without a user stack (no rseq area) */
	uint64_t late_emits;   /* ... taken when the thread blocked again first */
	uint64_t same_emits;   /* ... sent without stacks: the thread's last ones */
	uint64_t same_wakes;   /* wakeups sent without stacks: the waker's last ones */
	uint64_t same_missed;  /* records without stacks whose last stacks were lost */
	uint64_t start_ns;
	uint64_t unpaired;     /* switches in without a switch out seen (should be 0) */
};

int vs_offcpu_info(const struct vs_collector *c, struct vs_offcpu_info *info);

/* Names of enum vs_offcpu_reason: "lock", "poll"... */
const char *vs_offcpu_reason_name(uint32_t reason);

#endif
