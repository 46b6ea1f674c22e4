/* Lock report assembly. Long waits and holds are kept as they arrive (they
 * are rare by construction: only those past the threshold are events);
 * thread jobs are kept as a short history per thread, so that a chain names
 * the job its holder had when the wait began, even if the holder moved on
 * before the wait's record arrived. */
#include "lock_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"
#include "../lib/vec.h"
#include "../lib/util.h"

#define JOB_HISTORY 256 /* a busy worker runs many short jobs while another waits */
#define MAX_KEPT 65536 /* long waits and holds kept: beyond, counted only */

struct job_entry {
	uint64_t ts;
	char name[64];
};

struct thread_jobs {
	uint32_t tid; /* key */
	char comm[VS_COMM_LEN];
	struct job_entry ring[JOB_HISTORY];
	unsigned int next;
};

struct kept_event {
	enum vs_lock_phase phase;
	uint64_t ts, dur, addr, holder_waits;
	uint32_t tid, holder;
	char comm[VS_COMM_LEN];
	vs_stack_id stack;
	char name[80];
	/* what the waiter and the holder were doing, when the event says */
	char job[64];
	char holder_comm[VS_COMM_LEN];
	char holder_job[64];
	char holder_call[32];
	int holder_seen;
	vs_stack_id holder_stack;
};


/* A D-Bus call (or another blocking call the profile marks as a span) a
 * holder may have been in while someone waited for its lock. */
struct call_span {
	uint32_t tid;
	uint64_t ts, dur;
	char name[96];
};

struct vs_lock_report {
	struct vs_consumer consumer;
	struct vs_htab *jobs; /* tid -> struct thread_jobs */
	struct vs_vec events;    /* struct kept_event */
	struct vs_vec rows;      /* struct vs_lock_row */
	struct vs_vec chains;    /* struct vs_lock_chain */
	struct vs_vec calls;     /* struct call_span */
	struct vs_htab *row_index; /* addr -> row index + 1 */
	uint64_t dropped;
};

void vs_lock_name(char *buf, size_t len, uint64_t addr, const char *kind, const char *object)
{
	if (kind && *kind && object && *object)
		snprintf(buf, len, "%s %s", kind, object);
	else if (kind && *kind)
		snprintf(buf, len, "%s 0x%" PRIx64, kind, addr);
	else
		snprintf(buf, len, "0x%" PRIx64, addr);
}

static void on_job(struct vs_lock_report *r, const struct vs_event *ev)
{
	struct thread_jobs *t = vs_htab_get(r->jobs, &ev->tid, sizeof(ev->tid));
	struct job_entry *e;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return;
		t->tid = ev->tid;
		if (vs_htab_put(r->jobs, &t->tid, sizeof(t->tid), t, NULL)) {
			free(t);
			return;
		}
	}
	memcpy(t->comm, ev->comm, sizeof(t->comm));
	e = &t->ring[t->next++ % JOB_HISTORY];
	e->ts = ev->ts_ns;
	snprintf(e->name, sizeof(e->name), "%s", ev->job.name ? ev->job.name : "");
}

/* The job thread tid had announced at time ts ("" unknown or none). */
static const char *job_at(const struct vs_lock_report *r, uint32_t tid, uint64_t ts)
{
	const struct thread_jobs *t = vs_htab_get(r->jobs, &tid, sizeof(tid));
	const struct job_entry *best = NULL;

	if (!t)
		return "";
	for (unsigned int i = 0; i < JOB_HISTORY && i < t->next; i++) {
		const struct job_entry *e = &t->ring[i];

		if (e->ts <= ts && (!best || e->ts > best->ts))
			best = e;
	}
	return best ? best->name : "";
}

static void on_lock(struct vs_lock_report *r, const struct vs_event *ev)
{
	struct kept_event *k;

	if (r->events.n >= MAX_KEPT || !(k = vs_vec_push(&r->events))) {
		r->dropped++;
		return;
	}
	k->phase = ev->lock.phase;
	k->ts = ev->ts_ns;
	k->dur = ev->dur_ns;
	k->addr = ev->lock.addr;
	k->tid = ev->tid;
	k->holder = ev->lock.holder_tid;
	k->holder_waits = ev->lock.holder_waits;
	k->stack = ev->stack;
	memcpy(k->comm, ev->comm, sizeof(k->comm));
	vs_lock_name(k->name, sizeof(k->name), ev->lock.addr, ev->lock.kind, ev->lock.object);
	snprintf(k->job, sizeof(k->job), "%s", ev->lock.job ? ev->lock.job : "");
	snprintf(k->holder_comm, sizeof(k->holder_comm), "%s",
		 ev->lock.holder_comm ? ev->lock.holder_comm : "");
	snprintf(k->holder_job, sizeof(k->holder_job), "%s",
		 ev->lock.holder_job ? ev->lock.holder_job : "");
	snprintf(k->holder_call, sizeof(k->holder_call), "%s",
		 ev->lock.holder_call ? ev->lock.holder_call : "");
	k->holder_stack = ev->lock.holder_stack;
	k->holder_seen = ev->lock.holder_seen;
}

static void on_call(struct vs_lock_report *r, const struct vs_event *ev)
{
	struct call_span *c;

	if (r->calls.n >= MAX_KEPT || !(c = vs_vec_push(&r->calls)))
		return;
	c->tid = ev->tid;
	c->ts = ev->ts_ns;
	c->dur = ev->dur_ns;
	snprintf(c->name, sizeof(c->name), "D-Bus %s%s%s", ev->span.iface ? ev->span.iface : "",
		 ev->span.iface ? "." : "", ev->span.name ? ev->span.name : "?");
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_lock_report *r = (struct vs_lock_report *)self;

	if (ev->kind == VS_EV_THREAD_JOB)
		on_job(r, ev);
	else if (ev->kind == VS_EV_LOCK)
		on_lock(r, ev);
	else if (ev->kind == VS_EV_SPAN_END && ev->span.kind == VS_SPAN_DBUS)
		on_call(r, ev);
}

struct vs_lock_report *vs_lock_report_new(void)
{
	struct vs_lock_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->consumer.event = on_event;
	r->events.size = sizeof(struct kept_event);
	r->rows.size = sizeof(struct vs_lock_row);
	r->chains.size = sizeof(struct vs_lock_chain);
	r->calls.size = sizeof(struct call_span);
	r->jobs = vs_htab_new();
	r->row_index = vs_htab_new();
	if (!r->jobs || !r->row_index) {
		vs_lock_report_free(r);
		return NULL;
	}
	return r;
}

void vs_lock_report_free(struct vs_lock_report *r)
{
	if (!r)
		return;
	vs_htab_free(r->jobs, free);
	vs_htab_free(r->row_index, NULL);
	free(r->events.v);
	free(r->rows.v);
	free(r->chains.v);
	free(r->calls.v);
	free(r);
}

struct vs_consumer *vs_lock_report_consumer(struct vs_lock_report *r)
{
	return &r->consumer;
}

int vs_lock_report_add_stats(struct vs_lock_report *r, uint64_t addr, const struct vs_lock_stats *st)
{
	struct vs_lock_row *row = vs_vec_push(&r->rows);

	if (!row)
		return -ENOMEM;
	row->addr = addr;
	row->st = *st;
	vs_lock_name(row->name, sizeof(row->name), addr, st->kind, st->object);
	return 0;
}

static struct vs_lock_row *row_of(struct vs_lock_report *r, uint64_t addr)
{
	void *v = vs_htab_get(r->row_index, &addr, sizeof(addr));

	return v ? &((struct vs_lock_row *)r->rows.v)[(uintptr_t)v - 1] : NULL;
}

struct stack_total {
	struct {
		uint64_t addr;
		uint32_t phase;
		vs_stack_id stack;
	} key;
	uint64_t total;
};

/* Per lock, the stack that waited (or held) longest in total. */
static int top_stacks(struct vs_lock_report *r)
{
	struct vs_htab *totals = vs_htab_new();
	struct kept_event *ev = r->events.v;
	size_t pos = 0;
	void *val;

	if (!totals)
		return -ENOMEM;
	for (size_t i = 0; i < r->events.n; i++) {
		struct stack_total key = { 0 }, *t;

		if (!ev[i].stack)
			continue;
		key.key.addr = ev[i].addr;
		key.key.phase = ev[i].phase;
		key.key.stack = ev[i].stack;
		t = vs_htab_get(totals, &key.key, sizeof(key.key));
		if (!t) {
			t = malloc(sizeof(*t));
			if (!t || vs_htab_put(totals, &t->key, sizeof(t->key), t, NULL)) {
				free(t);
				vs_htab_free(totals, free);
				return -ENOMEM;
			}
			*t = key;
		}
		t->total += ev[i].dur;
	}
	while (vs_htab_next(totals, &pos, NULL, NULL, &val)) {
		struct stack_total *t = val;
		struct vs_lock_row *row = row_of(r, t->key.addr);

		if (!row)
			continue;
		if (t->key.phase == VS_LOCK_WAIT && t->total > row->top_waiter_ns) {
			row->top_waiter = t->key.stack;
			row->top_waiter_ns = t->total;
		} else if (t->key.phase == VS_LOCK_HOLD && t->total > row->top_holder_ns) {
			row->top_holder = t->key.stack;
			row->top_holder_ns = t->total;
		}
	}
	vs_htab_free(totals, free);
	return 0;
}

/* The holder's hold of the same lock that covers the wait's start. */
static const struct kept_event *hold_during(const struct vs_lock_report *r,
					    const struct kept_event *w)
{
	const struct kept_event *ev = r->events.v;

	for (size_t i = 0; i < r->events.n; i++)
		if (ev[i].phase == VS_LOCK_HOLD && ev[i].addr == w->addr && ev[i].tid == w->holder &&
		    ev[i].ts <= w->ts && ev[i].ts + ev[i].dur >= w->ts)
			return &ev[i];
	return NULL;
}

static void build_chains(struct vs_lock_report *r)
{
	const struct kept_event *ev = r->events.v;

	for (size_t i = 0; i < r->events.n; i++) {
		const struct kept_event *w = &ev[i], *h;
		const struct thread_jobs *hj;
		struct vs_lock_chain *c;
		struct vs_lock_row *hw;

		if (w->phase != VS_LOCK_WAIT || !(c = vs_vec_push(&r->chains)))
			continue;
		c->ts_ns = w->ts;
		c->dur_ns = w->dur;
		c->waiter = w->tid;
		memcpy(c->waiter_comm, w->comm, sizeof(c->waiter_comm));
		c->waiter_stack = w->stack;
		c->addr = w->addr;
		memcpy(c->lock, w->name, sizeof(c->lock));
		memcpy(c->waiter_job, w->job, sizeof(c->waiter_job));
		if (!c->waiter_job[0])
			snprintf(c->waiter_job, sizeof(c->waiter_job), "%s", job_at(r, w->tid, w->ts));
		c->holder = w->holder;
		hj = vs_htab_get(r->jobs, &w->holder, sizeof(w->holder));
		if (hj)
			memcpy(c->holder_comm, hj->comm, sizeof(c->holder_comm));
		/* What the holder was doing, read from it as the wait began,
		 * else from the jobs it announced and the holds that were seen. */
		snprintf(c->holder_job, sizeof(c->holder_job), "%s",
			 w->holder_job[0] ? w->holder_job : job_at(r, w->holder, w->ts));
		if (w->holder_comm[0])
			memcpy(c->holder_comm, w->holder_comm, sizeof(c->holder_comm));
		memcpy(c->holder_call, w->holder_call, sizeof(c->holder_call));
		c->holder_running = w->holder_seen && !w->holder_call[0];
		c->holder_stack = w->holder_stack;
		for (size_t j = 0; j < r->calls.n; j++) {
			const struct call_span *cs = &((const struct call_span *)r->calls.v)[j];

			if (cs->tid == w->holder && cs->ts <= w->ts + w->dur && w->ts <= cs->ts + cs->dur) {
				snprintf(c->holder_in, sizeof(c->holder_in), "%s", cs->name);
				c->holder_in_ns = cs->dur;
			}
		}
		h = hold_during(r, w);
		if (h) {
			c->holder_took_stack = h->stack;
			c->holder_hold_ns = h->dur;
			memcpy(c->holder_comm, h->comm, sizeof(c->holder_comm));
		}
		c->holder_waits = w->holder_waits;
		if (w->holder_waits) {
			hw = row_of(r, w->holder_waits);
			if (hw)
				memcpy(c->holder_waits_name, hw->name, sizeof(c->holder_waits_name));
			else
				vs_lock_name(c->holder_waits_name, sizeof(c->holder_waits_name),
					     w->holder_waits, NULL, NULL);
		}
	}
}

static enum vs_lock_sort sort_key;

static int row_cmp(const void *a, const void *b)
{
	const struct vs_lock_row *x = a, *y = b;
	uint64_t kx, ky;

	switch (sort_key) {
	case VS_LOCK_SORT_HOLD: kx = x->st.hold_ns; ky = y->st.hold_ns; break;
	case VS_LOCK_SORT_COUNT: kx = x->st.acquisitions; ky = y->st.acquisitions; break;
	default: kx = x->st.wait_ns; ky = y->st.wait_ns; break;
	}
	return kx < ky ? 1 : kx > ky ? -1 : (x->addr > y->addr) - (x->addr < y->addr);
}

static int chain_cmp(const void *a, const void *b)
{
	const struct vs_lock_chain *x = a, *y = b;

	return x->dur_ns < y->dur_ns ? 1 : x->dur_ns > y->dur_ns ? -1 : 0;
}

int vs_lock_report_finish(struct vs_lock_report *r, enum vs_lock_sort sort)
{
	struct vs_lock_row *rows;

	sort_key = sort;
	if (r->rows.n) /* qsort must not be handed NULL, even for 0 rows */
		qsort(r->rows.v, r->rows.n, r->rows.size, row_cmp);
	rows = r->rows.v;
	for (size_t i = 0; i < r->rows.n; i++)
		if (vs_htab_put(r->row_index, &rows[i].addr, sizeof(rows[i].addr),
				(void *)(uintptr_t)(i + 1), NULL))
			return -ENOMEM;
	if (top_stacks(r))
		return -ENOMEM;
	build_chains(r);
	if (r->chains.n)
		qsort(r->chains.v, r->chains.n, r->chains.size, chain_cmp);
	return 0;
}

size_t vs_lock_report_rows(const struct vs_lock_report *r, const struct vs_lock_row **rows)
{
	*rows = r->rows.v;
	return r->rows.n;
}

size_t vs_lock_report_chains(const struct vs_lock_report *r, const struct vs_lock_chain **chains)
{
	*chains = r->chains.v;
	return r->chains.n;
}

const struct vs_lock_chain *vs_lock_report_wait_of(const struct vs_lock_report *r, uint32_t tid,
						   uint64_t ts)
{
	const struct vs_lock_chain *c = r->chains.v;

	for (size_t i = 0; i < r->chains.n; i++)
		if (c[i].waiter == tid && c[i].ts_ns <= ts && ts <= c[i].ts_ns + c[i].dur_ns)
			return &c[i];
	return NULL;
}
