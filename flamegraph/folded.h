/* Folded stacks: the aggregation behind `profile -o` and every flame graph.
 *
 * A folded line is "thread;root;...;leaf weight": user frames from the
 * thread's root to the leaf, then kernel frames suffixed "_[k]". Events are
 * summed per (thread name, stack id) as they arrive, and named only when
 * written, once per unique stack; lines that end up with the same names are
 * merged. */
#ifndef VS_FOLDED_H
#define VS_FOLDED_H

#include <stdint.h>
#include <stdio.h>

#include "../collectors/event.h"
#include "../collectors/session.h"
#include "../collectors/stacks.h"
#include "../collectors/symbolize.h"
#include "../lib/util.h"

enum vs_folded_weight {
	VS_FOLDED_COUNT,    /* each event counts 1 (samples) */
	VS_FOLDED_DURATION, /* each event counts its dur_ns in microseconds */
};

struct vs_folded;

/* Aggregates events of one kind (VS_EV_SAMPLE for on-CPU profiles). stacks
 * and sym must outlive the aggregator. */
struct vs_folded *vs_folded_new(const struct vs_stacks *stacks, struct vs_symbolizer *sym,
				enum vs_event_kind kind, enum vs_folded_weight weight);
void vs_folded_free(struct vs_folded *f); /* NULL ok */

/* Only events for which accept() returns non-zero are taken (in addition
 * to the kind given at creation). NULL takes all of that kind. */
void vs_folded_set_filter(struct vs_folded *f, int (*accept)(const struct vs_event *ev));

/* The consumer to add to a session. */
struct vs_consumer *vs_folded_consumer(struct vs_folded *f);

/* Adds weight to (comm, stack). 0 or -ENOMEM. */
int vs_folded_add(struct vs_folded *f, const char *comm, vs_stack_id stack, uint64_t weight);

/* Events taken, and their summed weight. */
uint64_t vs_folded_events(const struct vs_folded *f);
uint64_t vs_folded_total(const struct vs_folded *f);

/* How long naming stacks took in vs_folded_write(). A stack is warm when
 * every one of its user addresses was already named. */
struct vs_folded_stats {
	uint64_t stacks, frames, ns;
	uint64_t warm_stacks, warm_median_ns;
};

void vs_folded_stats(const struct vs_folded *f, struct vs_folded_stats *st);

/* Writes the merged lines in byte order. 0, -ENOMEM or -EIO. */
int vs_folded_write(struct vs_folded *f, FILE *out);

/* Appends a frame name to sb with the characters that would break the format
 * (';' separates frames, a newline ends the line) replaced. */
int vs_folded_add_frame(struct vs_strbuf *sb, const char *name, const char *suffix);

#endif
