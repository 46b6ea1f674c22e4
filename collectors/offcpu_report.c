/* Off-CPU report assembly. Long blocks are rare by construction (only those
 * past --min-block are events), so they are kept as they come and joined at
 * the end: with the D-Bus spans of their thread, with the jobs their lock's
 * holder had announced, and with the stalls of the event loop, which also
 * collect the keepalives they held up. */
#include "offcpu_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"
#include "../lib/vec.h"
#include "../lib/util.h"
#include "lock_report.h"
#include "stacks.h"

#define MAX_KEPT 200000   /* long blocks kept: beyond, counted only */


struct interval {
	uint32_t tid;
	uint64_t ts, dur;
};

struct job_entry {
	uint32_t tid;
	uint64_t ts;
	char name[64];
};

struct vs_offcpu_report {
	struct vs_consumer consumer;
	struct vs_vec blocks;  /* struct vs_offcpu_block */
	struct vs_vec stalls;  /* struct vs_offcpu_stall_row */
	struct vs_vec dbus;    /* struct interval */
	struct vs_vec jobs;    /* struct job_entry, in arrival order */
	struct vs_vec keepalives; /* struct vs_offcpu_late_keepalive: PINGs received, timeouts */
	struct vs_vec late;    /* struct vs_offcpu_late_keepalive, by stall */
	struct vs_vec threads; /* struct vs_offcpu_thread_row */
	struct vs_vec tops;    /* struct vs_offcpu_top */
	uint64_t dropped;
};

static void on_offcpu(struct vs_offcpu_report *r, const struct vs_event *ev)
{
	struct vs_offcpu_block *b;

	if (r->blocks.n >= MAX_KEPT || !(b = vs_vec_push(&r->blocks))) {
		r->dropped++;
		return;
	}
	b->ts_ns = ev->ts_ns;
	b->dur_ns = ev->dur_ns;
	b->tid = ev->tid;
	memcpy(b->comm, ev->comm, sizeof(b->comm));
	b->reason = ev->offcpu.reason;
	b->state = ev->offcpu.state;
	b->syscall = ev->offcpu.syscall;
	b->stack = ev->stack;
	b->waker_tid = ev->offcpu.waker_tid;
	b->waker_pid = ev->offcpu.waker_pid;
	if (ev->offcpu.waker_comm)
		snprintf(b->waker_comm, sizeof(b->waker_comm), "%s", ev->offcpu.waker_comm);
	b->waker_stack = ev->offcpu.waker_stack;
	b->lock_addr = ev->offcpu.lock_addr;
	if (b->lock_addr)
		vs_lock_name(b->lock, sizeof(b->lock), b->lock_addr, ev->offcpu.lock_kind,
			     ev->offcpu.lock_object);
	b->holder = ev->offcpu.lock_holder;
	if (ev->offcpu.lock_holder_job)
		snprintf(b->holder_job, sizeof(b->holder_job), "%s", ev->offcpu.lock_holder_job);
}

static void on_span(struct vs_offcpu_report *r, const struct vs_event *ev)
{
	if (ev->span.kind == VS_SPAN_DBUS) {
		struct interval *i = vs_vec_push(&r->dbus);

		if (i)
			*i = (struct interval){ ev->tid, ev->ts_ns, ev->dur_ns };
	} else if (ev->span.kind == VS_SPAN_LOOP_ITERATION && ev->span.name &&
		   !strcmp(ev->span.name, "stall")) {
		struct vs_offcpu_stall_row *s = vs_vec_push(&r->stalls);

		if (!s)
			return;
		s->ts_ns = ev->ts_ns;
		s->dur_ns = ev->dur_ns;
		s->tid = ev->tid;
		memcpy(s->comm, ev->comm, sizeof(s->comm));
	}
}

static void on_job(struct vs_offcpu_report *r, const struct vs_event *ev)
{
	struct job_entry *j = vs_vec_push(&r->jobs);

	if (!j)
		return;
	j->tid = ev->tid;
	j->ts = ev->ts_ns;
	snprintf(j->name, sizeof(j->name), "%s", ev->job.name ? ev->job.name : "");
}

static void on_keepalive(struct vs_offcpu_report *r, const struct vs_event *ev)
{
	struct vs_offcpu_late_keepalive *k;

	/* a client's PING waits to be read; our PONGs and PINGs are sent on time */
	if (ev->keepalive.phase == VS_KEEPALIVE_SENT ||
	    (ev->keepalive.phase == VS_KEEPALIVE_RECEIVED && ev->keepalive.proc != 1))
		return;
	if (r->keepalives.n >= MAX_KEPT || !(k = vs_vec_push(&r->keepalives)))
		return;
	k->ts_ns = ev->ts_ns;
	k->client = ev->keepalive.client;
	k->phase = ev->keepalive.phase;
	k->count = ev->keepalive.count;
	k->idle_s = ev->keepalive.idle_s;
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_offcpu_report *r = (struct vs_offcpu_report *)self;

	switch (ev->kind) {
	case VS_EV_OFFCPU: on_offcpu(r, ev); break;
	case VS_EV_SPAN_END: on_span(r, ev); break;
	case VS_EV_THREAD_JOB: on_job(r, ev); break;
	case VS_EV_KEEPALIVE: on_keepalive(r, ev); break;
	default: break;
	}
}

struct vs_offcpu_report *vs_offcpu_report_new(void)
{
	struct vs_offcpu_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->consumer.event = on_event;
	r->blocks.size = sizeof(struct vs_offcpu_block);
	r->stalls.size = sizeof(struct vs_offcpu_stall_row);
	r->dbus.size = sizeof(struct interval);
	r->jobs.size = sizeof(struct job_entry);
	r->keepalives.size = sizeof(struct vs_offcpu_late_keepalive);
	r->late.size = sizeof(struct vs_offcpu_late_keepalive);
	r->threads.size = sizeof(struct vs_offcpu_thread_row);
	r->tops.size = sizeof(struct vs_offcpu_top);
	return r;
}

void vs_offcpu_report_free(struct vs_offcpu_report *r)
{
	if (!r)
		return;
	free(r->blocks.v);
	free(r->stalls.v);
	free(r->dbus.v);
	free(r->jobs.v);
	free(r->keepalives.v);
	free(r->late.v);
	free(r->threads.v);
	free(r->tops.v);
	free(r);
}

struct vs_consumer *vs_offcpu_report_consumer(struct vs_offcpu_report *r)
{
	return &r->consumer;
}

int vs_offcpu_report_add_thread(struct vs_offcpu_report *r, const struct vs_offcpu_totals *t)
{
	struct vs_offcpu_thread_row *row = vs_vec_push(&r->threads);

	if (!row)
		return -ENOMEM;
	row->t = *t;
	return 0;
}

/* Functions a thread blocks in while it waits for a D-Bus reply. */
static const char *const dbus_frames[] = {
	"virGDBusCallMethod",
	"g_dbus_connection_call_sync",
	"g_dbus_connection_send_message_with_reply_sync",
	"dbus_connection_send_with_reply_and_block",
	"dbus_pending_call_block",
	"sd_bus_call",
	"ref_dbus_call",
};

static int stack_in_dbus(const struct vs_stacks *stacks, struct vs_symbolizer *sym,
			 vs_stack_id id)
{
	const struct vs_stack *st = vs_stacks_get(stacks, id);

	if (!st)
		return 0;
	for (unsigned int i = 0; i < st->nr_user; i++) {
		const char *name = vs_symbolize_user(sym, st->pid,
						     vs_stack_lookup_ip(st->ips + st->nr_kernel, i));

		for (size_t k = 0; k < VS_ARRAY_SIZE(dbus_frames); k++)
			if (!strcmp(name, dbus_frames[k]))
				return 1;
	}
	return 0;
}

static int span_covers(const struct vs_offcpu_report *r, const struct vs_offcpu_block *b)
{
	const struct interval *iv = r->dbus.v;

	for (size_t i = 0; i < r->dbus.n; i++)
		if (iv[i].tid == b->tid && iv[i].ts <= b->ts_ns &&
		    iv[i].ts + iv[i].dur >= b->ts_ns + b->dur_ns / 2)
			return 1;
	return 0;
}

static struct vs_offcpu_thread_row *thread_row(struct vs_offcpu_report *r, uint32_t tid)
{
	struct vs_offcpu_thread_row *rows = r->threads.v;

	for (size_t i = 0; i < r->threads.n; i++)
		if (rows[i].t.tid == tid)
			return &rows[i];
	return NULL;
}

/* A block inside a D-Bus call is a D-Bus wait, whatever system call it is
 * made of (poll in GLib's, futex in a GDBus worker hand-off). */
static void refine_dbus(struct vs_offcpu_report *r, const struct vs_stacks *stacks,
			struct vs_symbolizer *sym)
{
	struct vs_offcpu_block *b = r->blocks.v;

	for (size_t i = 0; i < r->blocks.n; i++) {
		struct vs_offcpu_thread_row *row;

		if (b[i].reason == VS_OFFCPU_RUNQUEUE || b[i].reason == VS_OFFCPU_LOCK)
			continue;
		if (!span_covers(r, &b[i]) && !stack_in_dbus(stacks, sym, b[i].stack))
			continue;
		row = thread_row(r, b[i].tid);
		if (row && b[i].reason < VS_OFFCPU_NR_REASONS &&
		    row->t.off_ns[b[i].reason] >= b[i].dur_ns) {
			row->t.off_ns[b[i].reason] -= b[i].dur_ns;
			row->t.blocks[b[i].reason]--;
			row->t.off_ns[VS_OFFCPU_DBUS] += b[i].dur_ns;
			row->t.blocks[VS_OFFCPU_DBUS]++;
		}
		b[i].reason = VS_OFFCPU_DBUS;
	}
}

/* The holder's name and, where it was not read from its memory as the
 * wait began, the job it had announced by then. */
static void name_holders(struct vs_offcpu_report *r)
{
	struct vs_offcpu_block *b = r->blocks.v;
	const struct job_entry *j = r->jobs.v;

	for (size_t i = 0; i < r->blocks.n; i++) {
		const struct job_entry *best = NULL;
		const struct vs_offcpu_thread_row *row;

		if (!b[i].holder)
			continue;
		row = thread_row(r, b[i].holder);
		if (row)
			memcpy(b[i].holder_comm, row->t.comm, sizeof(b[i].holder_comm));
		if (b[i].holder_job[0])
			continue;
		for (size_t k = 0; k < r->jobs.n; k++)
			if (j[k].tid == b[i].holder && j[k].ts <= b[i].ts_ns &&
			    (!best || j[k].ts >= best->ts))
				best = &j[k];
		if (best)
			snprintf(b[i].holder_job, sizeof(b[i].holder_job), "%s", best->name);
	}
}

struct top_key {
	char comm[VS_COMM_LEN];
	uint32_t reason;
	vs_stack_id stack;
};

static int build_tops(struct vs_offcpu_report *r)
{
	struct vs_htab *index = vs_htab_new();
	/* one key per top at most one per block; the table does not copy keys */
	struct top_key *keys = calloc(r->blocks.n ? r->blocks.n : 1, sizeof(*keys));
	const struct vs_offcpu_block *b = r->blocks.v;
	int rc = 0;

	if (!index || !keys) {
		rc = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0; i < r->blocks.n; i++) {
		struct top_key *k = &keys[r->tops.n];
		struct vs_offcpu_top *t;
		void *v;

		memset(k, 0, sizeof(*k));
		memcpy(k->comm, b[i].comm, sizeof(k->comm));
		k->reason = b[i].reason;
		k->stack = b[i].stack;
		v = vs_htab_get(index, k, sizeof(*k));
		if (v) {
			t = &((struct vs_offcpu_top *)r->tops.v)[(uintptr_t)v - 1];
		} else {
			if (!(t = vs_vec_push(&r->tops)) ||
			    vs_htab_put(index, k, sizeof(*k), (void *)(uintptr_t)r->tops.n, NULL)) {
				rc = -ENOMEM;
				goto cleanup;
			}
			memcpy(t->comm, k->comm, sizeof(t->comm));
			t->reason = k->reason;
			t->stack = k->stack;
		}
		t->total_ns += b[i].dur_ns;
		t->count++;
		if (b[i].dur_ns > t->max_ns) {
			t->max_ns = b[i].dur_ns;
			t->longest = &b[i];
		}
	}
cleanup:
	vs_htab_free(index, NULL);
	free(keys);
	return rc;
}

/* What the loop thread did during each stall: its long blocks inside it. */
static void explain_stalls(struct vs_offcpu_report *r)
{
	struct vs_offcpu_stall_row *s = r->stalls.v;
	const struct vs_offcpu_block *b = r->blocks.v;

	for (size_t i = 0; i < r->stalls.n; i++) {
		uint64_t a = s[i].ts_ns, z = s[i].ts_ns + s[i].dur_ns;

		for (size_t k = 0; k < r->blocks.n; k++) {
			uint64_t ba = b[k].ts_ns, bz = b[k].ts_ns + b[k].dur_ns;

			if (b[k].tid != s[i].tid || bz <= a || ba >= z)
				continue;
			s[i].blocked_ns += (bz < z ? bz : z) - (ba > a ? ba : a);
			if (!s[i].cause || b[k].dur_ns > s[i].cause->dur_ns)
				s[i].cause = &b[k];
		}
	}
}

/* qsort, which must not be handed the NULL of an empty vector */
static void sort_vec(struct vs_vec *v, int (*cmp)(const void *, const void *))
{
	if (v->n)
		qsort(v->v, v->n, v->size, cmp);
}

static int keepalive_cmp(const void *a, const void *b)
{
	const struct vs_offcpu_late_keepalive *x = a, *y = b;

	return (x->ts_ns > y->ts_ns) - (x->ts_ns < y->ts_ns);
}

/* Each keepalive handled during a stall, or within the window after it,
 * goes under the last stall that began before it. Stalls and keepalives
 * are in time order. */
static int late_keepalives(struct vs_offcpu_report *r)
{
	struct vs_offcpu_stall_row *s = r->stalls.v;
	const struct vs_offcpu_late_keepalive *k = r->keepalives.v;
	size_t *first = calloc(r->stalls.n + 1, sizeof(*first)), si = 0;

	if (!first)
		return -ENOMEM;
	for (size_t i = 0; i < r->keepalives.n; i++) {
		struct vs_offcpu_late_keepalive *l;

		while (si < r->stalls.n && s[si].ts_ns < k[i].ts_ns)
			si++;
		/* s[si - 1] is the last stall that began before it */
		if (!si || k[i].ts_ns > s[si - 1].ts_ns + s[si - 1].dur_ns + VS_OFFCPU_LATE_WINDOW_NS)
			continue;
		if (!(l = vs_vec_push(&r->late))) {
			free(first);
			return -ENOMEM;
		}
		*l = k[i];
		l->late_ns = k[i].ts_ns - s[si - 1].ts_ns;
		if (!s[si - 1].nr_late++)
			first[si - 1] = r->late.n - 1;
	}
	/* pointers into late only now that it has stopped moving */
	for (size_t i = 0; i < r->stalls.n; i++)
		s[i].late = s[i].nr_late ? (struct vs_offcpu_late_keepalive *)r->late.v + first[i] : NULL;
	free(first);
	return 0;
}

static int thread_cmp(const void *a, const void *b)
{
	const struct vs_offcpu_thread_row *x = a, *y = b;

	if (x->off_total_ns != y->off_total_ns)
		return x->off_total_ns < y->off_total_ns ? 1 : -1;
	return (x->t.tid > y->t.tid) - (x->t.tid < y->t.tid);
}

static int top_cmp(const void *a, const void *b)
{
	const struct vs_offcpu_top *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

static int stall_cmp(const void *a, const void *b)
{
	const struct vs_offcpu_stall_row *x = a, *y = b;

	return (x->ts_ns > y->ts_ns) - (x->ts_ns < y->ts_ns);
}

static int block_cmp(const void *a, const void *b)
{
	const struct vs_offcpu_block *x = a, *y = b;

	return x->dur_ns < y->dur_ns ? 1 : x->dur_ns > y->dur_ns ? -1 : 0;
}

int vs_offcpu_report_finish(struct vs_offcpu_report *r, const struct vs_stacks *stacks,
			    struct vs_symbolizer *sym)
{
	struct vs_offcpu_thread_row *rows = r->threads.v;
	int rc;

	refine_dbus(r, stacks, sym);
	name_holders(r);
	for (size_t i = 0; i < r->threads.n; i++) {
		rows[i].off_total_ns = 0;
		for (int k = 0; k < VS_OFFCPU_NR_REASONS; k++)
			rows[i].off_total_ns += rows[i].t.off_ns[k];
	}
	sort_vec(&r->threads, thread_cmp);
	/* Pointers into blocks are taken from here on: sort them first. */
	sort_vec(&r->blocks, block_cmp);
	rc = build_tops(r);
	if (rc)
		return rc;
	sort_vec(&r->tops, top_cmp);
	sort_vec(&r->stalls, stall_cmp);
	explain_stalls(r);
	sort_vec(&r->keepalives, keepalive_cmp);
	return late_keepalives(r);
}

size_t vs_offcpu_report_threads(const struct vs_offcpu_report *r,
				const struct vs_offcpu_thread_row **rows)
{
	*rows = r->threads.v;
	return r->threads.n;
}

size_t vs_offcpu_report_tops(const struct vs_offcpu_report *r, const struct vs_offcpu_top **tops)
{
	*tops = r->tops.v;
	return r->tops.n;
}

size_t vs_offcpu_report_blocks(const struct vs_offcpu_report *r,
			       const struct vs_offcpu_block **blocks)
{
	*blocks = r->blocks.v;
	return r->blocks.n;
}

size_t vs_offcpu_report_stalls(const struct vs_offcpu_report *r,
			       const struct vs_offcpu_stall_row **stalls)
{
	*stalls = r->stalls.v;
	return r->stalls.n;
}
