/* The timeline; see timeline.h. */
#include "timeline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"

static const char *intern(struct vs_timeline *t, const char *s)
{
	size_t n;
	char *copy;

	if (!s)
		return NULL;
	n = strlen(s);
	copy = vs_htab_get(t->strings, s, n);
	if (copy)
		return copy;
	copy = malloc(n + 1);
	if (!copy) {
		t->oom = 1;
		return NULL;
	}
	memcpy(copy, s, n + 1);
	if (vs_htab_put(t->strings, copy, n, copy, NULL)) {
		free(copy);
		t->oom = 1;
		return NULL;
	}
	return copy;
}

static void keep_strings(struct vs_timeline *t, struct vs_event *e)
{
	switch (e->kind) {
	case VS_EV_SPAN_BEGIN:
	case VS_EV_SPAN_END:
		e->span.name = intern(t, e->span.name);
		e->span.object = intern(t, e->span.object);
		e->span.iface = intern(t, e->span.iface);
		e->span.peer = intern(t, e->span.peer);
		break;
	case VS_EV_LOCK:
		e->lock.kind = intern(t, e->lock.kind);
		e->lock.object = intern(t, e->lock.object);
		e->lock.job = intern(t, e->lock.job);
		e->lock.holder_comm = intern(t, e->lock.holder_comm);
		e->lock.holder_job = intern(t, e->lock.holder_job);
		e->lock.holder_call = intern(t, e->lock.holder_call);
		break;
	case VS_EV_FORK:
		e->fork.reason = intern(t, e->fork.reason);
		e->fork.via = intern(t, e->fork.via);
		break;
	case VS_EV_EXEC:
		e->exec.filename = intern(t, e->exec.filename);
		break;
	case VS_EV_OFFCPU:
		e->offcpu.waker_comm = intern(t, e->offcpu.waker_comm);
		e->offcpu.lock_kind = intern(t, e->offcpu.lock_kind);
		e->offcpu.lock_object = intern(t, e->offcpu.lock_object);
		break;
	case VS_EV_LOST:
		e->lost.collector = intern(t, e->lost.collector);
		break;
	case VS_EV_DISPATCH:
		e->dispatch.source = intern(t, e->dispatch.source);
		break;
	case VS_EV_THREAD_JOB:
		e->job.name = intern(t, e->job.name);
		break;
	default:
		break;
	}
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_timeline *t = (struct vs_timeline *)self;

	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct vs_event *p = realloc(t->events, cap * sizeof(*p));

		if (!p) {
			t->oom = 1;
			return;
		}
		t->events = p;
		t->cap = cap;
	}
	t->events[t->nr] = *ev;
	keep_strings(t, &t->events[t->nr]);
	t->nr++;
}

int vs_timeline_init(struct vs_timeline *t)
{
	memset(t, 0, sizeof(*t));
	t->consumer.event = on_event;
	t->strings = vs_htab_new();
	return t->strings ? 0 : -ENOMEM;
}

void vs_timeline_release(struct vs_timeline *t)
{
	free(t->events);
	vs_htab_free(t->strings, free);
	memset(t, 0, sizeof(*t));
}

struct vs_consumer *vs_timeline_consumer(struct vs_timeline *t)
{
	return &t->consumer;
}

static int by_ts(const void *a, const void *b)
{
	const struct vs_event *x = a, *y = b;

	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	/* qsort is not stable: keep ties in a fixed order. */
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

void vs_timeline_sort(struct vs_timeline *t)
{
	if (t->nr)
		qsort(t->events, t->nr, sizeof(*t->events), by_ts);
}
