/* The timeline: a consumer that keeps every event of a stream, with its
 * strings interned, so that events can be joined by thread and time after
 * the fact: the breakdown of the slowest operations in `virtscope report`,
 * and the spans, flows and samples `virtscope export` writes. Events are
 * kept in arrival order; vs_timeline_sort() orders them by time. */
#ifndef VS_TIMELINE_H
#define VS_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "session.h"

struct vs_htab;

struct vs_timeline {
	struct vs_consumer consumer;
	struct vs_event *events; /* strings point into the pool */
	size_t nr, cap;
	struct vs_htab *strings;
	int oom;
};

int vs_timeline_init(struct vs_timeline *t);
void vs_timeline_release(struct vs_timeline *t);
struct vs_consumer *vs_timeline_consumer(struct vs_timeline *t);

/* Orders events by start time (stable). */
void vs_timeline_sort(struct vs_timeline *t);

#endif
