/* The post-mortem report: every report module fed from one event stream,
 * live (record's --live-report) or replayed from a recording (`virtscope
 * report`), and written by one writer, so both print the same numbers for
 * the same events. It opens with the slowest operations, each broken down
 * by what its thread did inside it (on-CPU samples, off-CPU time by reason,
 * lock waits with their holders, locks it held that others waited for,
 * forks, D-Bus calls, QEMU monitor commands), then the event loop's stalls
 * with their causes, the longest lock-wait chains, and the per-procedure,
 * per-lock, per-thread and per-operation tables. */
#ifndef VS_POSTMORTEM_H
#define VS_POSTMORTEM_H

#include <stdint.h>
#include <stdio.h>

#include "../bpf/probes.h"
#include "fork_report.h"
#include "lock_report.h"
#include "offcpu.h"
#include "offcpu_report.h"
#include "ops_report.h"
#include "profile.h"
#include "session.h"
#include "symbolize.h"
#include "timeline.h"

struct vs_postmortem {
	struct vs_timeline timeline;
	struct vs_ops_report *ops;
	struct vs_lock_report *locks;
	struct vs_offcpu_report *offcpu;
	struct vs_fork_report *forks;
};

int vs_postmortem_init(struct vs_postmortem *pm);
void vs_postmortem_release(struct vs_postmortem *pm);

/* Adds every module's consumer: to a live session, or a replay's. */
int vs_postmortem_consumers(struct vs_postmortem *pm,
			    int (*add)(void *owner, struct vs_consumer *c), void *owner);

int vs_postmortem_add_lock_stats(struct vs_postmortem *pm, uint64_t addr,
				 const struct vs_lock_stats *st);
int vs_postmortem_add_thread(struct vs_postmortem *pm, const struct vs_offcpu_totals *t);

struct vs_postmortem_view {
	const struct vs_stacks *stacks;
	struct vs_symbolizer *sym;
	const struct vs_profile *roles; /* thread roles, or NULL */
	uint64_t interval_ns;
	unsigned int rows;              /* rows per table */
	unsigned int slowest;           /* operations broken down */
	const char *trigger;            /* what fired a flight recording, or NULL */
};

/* Finishes every module (call once, after the last event and totals) and
 * writes the report. 0 or -ENOMEM. */
int vs_postmortem_write(struct vs_postmortem *pm, FILE *out, const struct vs_postmortem_view *v);

#endif
