/* Pairing state, all keyed in hash tables (locks are paired in BPF):
 *   thread -> its open spans (a small stack per thread: spans nest; an end
 *             with an id may close a span another thread opened, as a QMP
 *             reply arrives on the monitor's thread)
 *   thread -> the fork it is making, the object it works on, its RPC
 *   (client, program, procedure, serial) -> an RPC call in progress
 * Strings from records are copied into this state, because an event's
 * strings must stay valid while consumers look at them. */
#include "probe_events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"
#include "../lib/util.h"
#include "session.h"

#define MAX_OPEN_SPANS 8
/* Calls read but never answered (a lost reply, a client gone) are dropped
 * past this many, oldest information first: they are counted as lost. */
#define MAX_RPC_CALLS 65536

/* libvirt's virNetMessageType values, as the RPC probes report them. */
enum { RPC_CALL = 0, RPC_REPLY = 1, RPC_CALL_WITH_FDS = 4, RPC_REPLY_WITH_FDS = 5 };

struct rpc_key {
	uint64_t client;
	uint32_t prog, proc, serial, pad;
};

struct rpc_call {
	struct rpc_key key;
	uint64_t ts, dispatch_ts;
	uint32_t loop_tid;
	char object[VS_PROBE_STR_LEN];
};

struct open_span {
	enum vs_span_kind kind;
	uint64_t id;
	uint64_t ts;
	uint64_t timeout_ms;
	int has_id;
	int quiet;         /* an unnested span inside one of its kind: never reported */
	vs_stack_id stack;
	char strs[VS_PROBE_STRS][VS_PROBE_STR_LEN];
};

struct thread_state {
	uint32_t tid; /* key */
	struct open_span spans[MAX_OPEN_SPANS];
	int nr_spans;
	uint64_t fork_ts; /* 0: no fork in progress */
	vs_stack_id fork_stack;
	char fork_reason[VS_PROBE_STR_LEN];
	char object[VS_PROBE_STR_LEN]; /* what thread.object said last */
	struct rpc_key serving;        /* the RPC this worker runs, when has_rpc */
	int has_rpc;
};

struct vs_probe_events {
	struct vs_collector *c;
	const struct vs_profile *profile;
	struct vs_htab *threads;  /* tid -> struct thread_state */
	struct vs_htab *rpcs;     /* struct rpc_key -> struct rpc_call */
	struct vs_htab *objects;  /* lock address -> struct vs_probe_object */
	int want_objects;         /* someone asks for them: else none are kept */
	struct vs_probe_record *whole; /* a record sent short, made whole */
};

struct vs_probe_events *vs_probe_events_new(struct vs_collector *c, const struct vs_profile *p)
{
	struct vs_probe_events *pe = calloc(1, sizeof(*pe));

	if (!pe)
		return NULL;
	pe->c = c;
	pe->profile = p;
	pe->threads = vs_htab_new();
	pe->rpcs = vs_htab_new();
	pe->objects = vs_htab_new();
	pe->whole = malloc(sizeof(*pe->whole));
	if (!pe->threads || !pe->rpcs || !pe->objects || !pe->whole) {
		vs_probe_events_free(pe);
		return NULL;
	}
	return pe;
}

void vs_probe_events_free(struct vs_probe_events *pe)
{
	if (!pe)
		return;
	vs_htab_free(pe->threads, free);
	vs_htab_free(pe->rpcs, free);
	vs_htab_free(pe->objects, free);
	free(pe->whole);
	free(pe);
}

/* The entry of key in h, created zeroed (with its key set by the caller's
 * init) when missing. NULL when out of memory. */
static void *entry(struct vs_htab *h, const void *key, size_t keylen, size_t size,
		   size_t key_offset)
{
	void *e = vs_htab_get(h, key, keylen);

	if (e)
		return e;
	e = calloc(1, size);
	if (!e)
		return NULL;
	memcpy((char *)e + key_offset, key, keylen);
	if (vs_htab_put(h, (char *)e + key_offset, keylen, e, NULL)) {
		free(e);
		return NULL;
	}
	return e;
}

static struct thread_state *thread(struct vs_probe_events *pe, uint32_t tid)
{
	return entry(pe->threads, &tid, sizeof(tid), sizeof(struct thread_state), 0);
}

static void base_event(struct vs_event *ev, enum vs_event_kind kind, const struct vs_probe_record *r)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->pid = r->pid;
	ev->tid = r->tid;
	ev->ts_ns = r->ts_ns;
	memcpy(ev->comm, r->comm, sizeof(ev->comm));
	ev->comm[sizeof(ev->comm) - 1] = '\0';
}

static int has_num(const struct vs_probe_spec *spec, const struct vs_probe_record *r, int i)
{
	return (spec->nums_mask & (1u << i)) && !(r->f.failed & (1u << i));
}

static const char *str_or_null(const char *s)
{
	return s[0] ? s : NULL;
}

static vs_stack_id stack_of(struct vs_probe_events *pe, const struct vs_probe_record *r,
			    size_t size)
{
	const struct vs_probe_spec *spec = &pe->profile->probes[r->probe].spec;

	/* A hold's record carries where its lock was taken when the acquiring
	 * probe asks for stacks, whatever the releasing one asks for. */
	if (!(spec->flags & VS_PF_STACK) && spec->kind != VS_PK_LOCK_RELEASE &&
	    spec->kind != VS_PK_LOCK_COND_WAIT)
		return 0;
	if (size < VS_PROBE_RECORD_SNAP_HDR_SIZE ||
	    size < VS_PROBE_RECORD_SNAP_HDR_SIZE + r->snap.len)
		return 0;
	return vs_collector_stack(pe->c, r->pid, NULL, 0, &r->snap, NULL, 0);
}

/* ---- locks ----
 * Locks are paired in BPF (bpf/probes.h); what arrives is a wait (on the
 * lock.acquired probe) or a hold (on lock.release) past the threshold. */

static void lock_record(struct vs_probe_events *pe, const struct vs_probe_record *r, size_t size,
			enum vs_lock_phase phase)
{
	struct vs_event ev;

	base_event(&ev, VS_EV_LOCK, r);
	ev.ts_ns = r->f.nums[VS_PN_TIMEOUT];
	ev.dur_ns = r->f.nums[VS_PN_VALUE];
	ev.stack = stack_of(pe, r, size);
	ev.lock.phase = phase;
	ev.lock.addr = r->f.nums[VS_PN_ADDR];
	ev.lock.kind = str_or_null(r->f.strs[VS_PS_KIND]);
	ev.lock.object = str_or_null(r->f.strs[VS_PS_OBJECT]);
	if (phase == VS_LOCK_WAIT) {
		ev.lock.holder_tid = (uint32_t)r->f.nums[VS_PN_ID];
		ev.lock.holder_waits = r->f.nums[VS_PN_AUX];
	} else {
		ev.lock.holder_tid = r->tid;
	}
	vs_collector_emit(pe->c, &ev);
}

/* ---- spans ---- */

static void fill_span(struct vs_event *ev, const struct open_span *s)
{
	ev->span.kind = s->kind;
	ev->span.id = s->id;
	ev->span.name = str_or_null(s->strs[VS_PS_NAME]);
	ev->span.object = str_or_null(s->strs[VS_PS_OBJECT]);
	ev->span.iface = str_or_null(s->strs[VS_PS_KIND]);
	ev->span.peer = str_or_null(s->strs[VS_PS_DETAIL]);
	ev->span.timeout_ms = s->timeout_ms;
}

static void span_begin(struct vs_probe_events *pe, const struct vs_probe_record *r,
		       enum vs_span_kind kind, size_t size)
{
	const struct vs_profile_probe *pp = &pe->profile->probes[r->probe];
	const struct vs_probe_spec *spec = &pp->spec;
	struct thread_state *t = thread(pe, r->tid);
	struct open_span *s;
	struct vs_event ev;
	int quiet = 0;

	if (!t)
		return;
	if (pp->unnested)
		for (int i = 0; i < t->nr_spans; i++)
			quiet |= t->spans[i].kind == kind;
	/* Spans that never ended (a lost hit) must not block the thread's
	 * stack for good: the oldest one is dropped. */
	if (t->nr_spans == MAX_OPEN_SPANS) {
		memmove(&t->spans[0], &t->spans[1], sizeof(t->spans[0]) * (MAX_OPEN_SPANS - 1));
		t->nr_spans--;
	}
	s = &t->spans[t->nr_spans++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->ts = r->ts_ns;
	s->has_id = has_num(spec, r, VS_PN_ID);
	s->id = s->has_id ? r->f.nums[VS_PN_ID] : r->ts_ns;
	s->timeout_ms = r->f.nums[VS_PN_TIMEOUT];
	if (pp->timeout_us)
		s->timeout_ms /= 1000;
	if (!s->timeout_ms)
		s->timeout_ms = pp->timeout_default_ms;
	s->quiet = quiet;
	if (quiet)
		return; /* kept only to take its end */
	s->stack = stack_of(pe, r, size);
	memcpy(s->strs, r->f.strs, sizeof(s->strs));
	/* A function span is named after the function its probe is on. */
	if (kind == VS_SPAN_FUNCTION && !s->strs[VS_PS_NAME][0])
		snprintf(s->strs[VS_PS_NAME], sizeof(s->strs[VS_PS_NAME]), "%.*s",
			 VS_PROBE_STR_LEN - 1, pe->profile->probes[r->probe].name);
	/* A span that does not name its object concerns the one its thread
	 * works on (the domain of the API a QMP command serves). */
	if (!s->strs[VS_PS_OBJECT][0])
		memcpy(s->strs[VS_PS_OBJECT], t->object, sizeof(t->object));
	base_event(&ev, VS_EV_SPAN_BEGIN, r);
	ev.stack = s->stack;
	fill_span(&ev, s);
	vs_collector_emit(pe->c, &ev);
}

/* The open span an end closes: on the same thread, the innermost of its kind
 * (with the same id when both have one). */
static int find_span(const struct thread_state *t, enum vs_span_kind kind, int has_id, uint64_t id)
{
	for (int i = t->nr_spans - 1; i >= 0; i--)
		if (t->spans[i].kind == kind &&
		    (!has_id || !t->spans[i].has_id || t->spans[i].id == id))
			return i;
	return -1;
}

static void span_end(struct vs_probe_events *pe, const struct vs_probe_record *r,
		     enum vs_span_kind kind)
{
	const struct vs_probe_spec *spec = &pe->profile->probes[r->probe].spec;
	struct thread_state *t = vs_htab_get(pe->threads, &r->tid, sizeof(r->tid));
	int has_id = has_num(spec, r, VS_PN_ID);
	struct open_span s;
	struct vs_event ev;
	int i = t ? find_span(t, kind, has_id, r->f.nums[VS_PN_ID]) : -1;

	if (i < 0 && has_id) {
		size_t pos = 0;
		void *val;

		/* Opened by another thread: only an exact id match counts. */
		while (i < 0 && vs_htab_next(pe->threads, &pos, NULL, NULL, &val)) {
			t = val;
			i = find_span(t, kind, 1, r->f.nums[VS_PN_ID]);
			if (i >= 0 && !t->spans[i].has_id)
				i = -1;
		}
	}
	if (i < 0)
		return;
	s = t->spans[i];
	memmove(&t->spans[i], &t->spans[i + 1], sizeof(t->spans[0]) * (size_t)(t->nr_spans - i - 1));
	t->nr_spans--;
	if (s.quiet)
		return;
	base_event(&ev, VS_EV_SPAN_END, r);
	ev.ts_ns = s.ts;
	ev.dur_ns = r->ts_ns - s.ts;
	ev.stack = s.stack;
	fill_span(&ev, &s);
	ev.span.result = has_num(spec, r, VS_PN_RESULT) ? (int64_t)r->f.nums[VS_PN_RESULT] : 0;
	if (pe->profile->probes[r->probe].error_if_null && has_num(spec, r, VS_PN_RESULT))
		ev.span.result = ev.span.result ? 0 : -1;
	vs_collector_emit(pe->c, &ev);
}

/* ---- forks ---- */

static void fork_begin(struct vs_probe_events *pe, const struct vs_probe_record *r, size_t size)
{
	struct thread_state *t = thread(pe, r->tid);

	if (!t)
		return;
	t->fork_ts = r->ts_ns;
	t->fork_stack = stack_of(pe, r, size);
	memcpy(t->fork_reason, r->f.strs[VS_PS_NAME], sizeof(t->fork_reason));
}

static void fork_end(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	struct thread_state *t = vs_htab_get(pe->threads, &r->tid, sizeof(r->tid));
	int64_t child = (int64_t)r->f.nums[VS_PN_VALUE];
	struct vs_event ev;

	/* The child runs the end of a fork wrapper too, but it is not the
	 * target: only the parent's end counts. */
	if (!t || !t->fork_ts || r->pid != (uint32_t)pe->c->session->target.pid)
		return;
	base_event(&ev, VS_EV_FORK, r);
	ev.ts_ns = t->fork_ts;
	ev.dur_ns = r->ts_ns - t->fork_ts;
	ev.stack = t->fork_stack;
	ev.fork.child_pid = child > 0 ? (uint32_t)child : 0;
	ev.fork.reason = str_or_null(t->fork_reason);
	t->fork_ts = 0;
	vs_collector_emit(pe->c, &ev);
}

static void exec_hit(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	struct vs_event ev;

	base_event(&ev, VS_EV_EXEC, r);
	ev.exec.filename = r->f.strs[VS_PS_NAME];
	vs_collector_emit(pe->c, &ev);
}

/* ---- the loop, keepalives, thread jobs ---- */

static void loop_iteration(struct vs_probe_events *pe, const struct vs_probe_record *r,
			   int begin, size_t size)
{
	if (begin)
		span_begin(pe, r, VS_SPAN_LOOP_ITERATION, size);
	else
		span_end(pe, r, VS_SPAN_LOOP_ITERATION);
}

static void dispatch(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	struct vs_event ev;

	base_event(&ev, VS_EV_DISPATCH, r);
	ev.dispatch.source = r->f.strs[VS_PS_NAME];
	ev.dispatch.fd = (int64_t)r->f.nums[VS_PN_VALUE];
	vs_collector_emit(pe->c, &ev);
}

static void keepalive(struct vs_probe_events *pe, const struct vs_probe_record *r,
		      enum vs_keepalive_phase phase)
{
	struct vs_event ev;

	base_event(&ev, VS_EV_KEEPALIVE, r);
	ev.keepalive.phase = phase;
	ev.keepalive.client = r->f.nums[VS_PN_ADDR];
	if (phase == VS_KEEPALIVE_TIMEOUT) {
		ev.keepalive.count = (int64_t)r->f.nums[VS_PN_VALUE];
		ev.keepalive.idle_s = (int64_t)r->f.nums[VS_PN_AUX];
	} else {
		ev.keepalive.proc = (int64_t)r->f.nums[VS_PN_VALUE];
	}
	vs_collector_emit(pe->c, &ev);
}

static void thread_job(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	struct vs_event ev;

	base_event(&ev, VS_EV_THREAD_JOB, r);
	ev.job.name = r->f.strs[VS_PS_NAME];
	vs_collector_emit(pe->c, &ev);
}

/* ---- RPC calls ---- */

static struct rpc_key rpc_key_of(const struct vs_probe_record *r)
{
	struct rpc_key k = {
		.client = r->f.nums[VS_PN_ADDR],
		.prog = (uint32_t)r->f.nums[VS_PN_PROG],
		.proc = (uint32_t)r->f.nums[VS_PN_VALUE],
		.serial = (uint32_t)r->f.nums[VS_PN_ID],
	};

	return k;
}

static void rpc_fill(struct vs_probe_events *pe, struct vs_event *ev, const struct rpc_call *call,
		     char *name, size_t namelen)
{
	const char *known = vs_profile_procedure_name(pe->profile, call->key.prog, call->key.proc);

	if (known)
		snprintf(name, namelen, "%s", known);
	else
		snprintf(name, namelen, "PROC_%u", call->key.proc);
	ev->span.kind = VS_SPAN_RPC;
	ev->span.id = vs_hash_bytes(&call->key, sizeof(call->key), 0);
	ev->span.name = name;
	ev->span.object = str_or_null(call->object);
	ev->span.client = call->key.client;
	ev->span.prog = call->key.prog;
	ev->span.proc = call->key.proc;
}

static void rpc_receive(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	uint64_t type = r->f.nums[VS_PN_TYPE];
	struct rpc_call *call, *old;
	struct vs_event ev;
	char name[64];

	if (type != RPC_CALL && type != RPC_CALL_WITH_FDS)
		return;
	if (vs_htab_count(pe->rpcs) >= MAX_RPC_CALLS) {
		/* Unanswered calls pile up only when replies are lost. */
		vs_collector_lost(pe->c, VS_EV_SPAN_END, vs_htab_count(pe->rpcs));
		vs_htab_free(pe->rpcs, free);
		pe->rpcs = vs_htab_new();
		if (!pe->rpcs)
			return;
	}
	call = calloc(1, sizeof(*call));
	if (!call)
		return;
	call->key = rpc_key_of(r);
	call->ts = r->ts_ns;
	call->loop_tid = r->tid;
	if (vs_htab_put(pe->rpcs, &call->key, sizeof(call->key), call, (void **)&old)) {
		free(call);
		return;
	}
	free(old); /* a client reusing a serial: the old call is gone */
	base_event(&ev, VS_EV_SPAN_BEGIN, r);
	rpc_fill(pe, &ev, call, name, sizeof(name));
	vs_collector_emit(pe->c, &ev);
}

static void rpc_dispatch(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	struct rpc_key k = rpc_key_of(r);
	struct rpc_call *call = vs_htab_get(pe->rpcs, &k, sizeof(k));
	struct thread_state *t = thread(pe, r->tid);

	if (!call || !t)
		return;
	call->dispatch_ts = r->ts_ns;
	t->serving = k;
	t->has_rpc = 1;
	t->object[0] = '\0';
}

static void rpc_reply(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	uint64_t type = r->f.nums[VS_PN_TYPE];
	struct rpc_key k = rpc_key_of(r);
	struct thread_state *t = vs_htab_get(pe->threads, &r->tid, sizeof(r->tid));
	struct rpc_call *call;
	struct vs_event ev;
	char name[64];

	if (type != RPC_REPLY && type != RPC_REPLY_WITH_FDS)
		return;
	call = vs_htab_del(pe->rpcs, &k, sizeof(k));
	if (t && t->has_rpc && !memcmp(&t->serving, &k, sizeof(k)))
		t->has_rpc = 0;
	if (!call)
		return;
	base_event(&ev, VS_EV_SPAN_END, r);
	ev.ts_ns = call->ts;
	ev.dur_ns = r->ts_ns - call->ts;
	rpc_fill(pe, &ev, call, name, sizeof(name));
	ev.span.queue_ns = call->dispatch_ts > call->ts ? call->dispatch_ts - call->ts : 0;
	/* status: 0 OK, 1 ERROR (2 CONTINUE is a stream's, not an end) */
	ev.span.result = r->f.nums[VS_PN_RESULT] ? -1 : 0;
	vs_collector_emit(pe->c, &ev);
	free(call);
}

/* The object a thread now works on: the domain an API looked up. It names
 * the RPC that thread serves, if that has no object yet. */
static void note_object(struct vs_probe_events *pe, uint64_t lock, const char *name, uint64_t ts)
{
	struct vs_probe_object *o = vs_htab_get(pe->objects, &lock, sizeof(lock));

	if (!o) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return;
		o->lock = lock;
		if (vs_htab_put(pe->objects, &o->lock, sizeof(o->lock), o, NULL)) {
			free(o);
			return;
		}
	}
	o->seen_ns = ts;
	snprintf(o->name, sizeof(o->name), "%s", name);
}

static void thread_object(struct vs_probe_events *pe, const struct vs_probe_record *r)
{
	struct thread_state *t = thread(pe, r->tid);
	struct rpc_call *call;

	if (!t || !r->f.strs[VS_PS_NAME][0])
		return;
	memcpy(t->object, r->f.strs[VS_PS_NAME], sizeof(t->object));
	t->object[sizeof(t->object) - 1] = '\0';
	if (t->has_rpc && (call = vs_htab_get(pe->rpcs, &t->serving, sizeof(t->serving))) &&
	    !call->object[0])
		memcpy(call->object, t->object, sizeof(call->object));
	if (pe->want_objects && r->f.nums[VS_PN_ADDR])
		note_object(pe, r->f.nums[VS_PN_ADDR], t->object, r->ts_ns);
}

int vs_probe_events_objects(struct vs_probe_events *pe, uint64_t since_ns,
			    int (*fn)(const struct vs_probe_object *o, void *arg), void *arg)
{
	size_t n = vs_htab_count(pe->objects), nr = 0, pos = 0;
	struct vs_probe_object **stale = n ? malloc(n * sizeof(*stale)) : NULL;
	void *val;
	int rc = 0;

	pe->want_objects = 1;
	while (vs_htab_next(pe->objects, &pos, NULL, NULL, &val)) {
		struct vs_probe_object *o = val;

		if (o->seen_ns < since_ns) {
			if (stale && nr < n)
				stale[nr++] = o;
			continue;
		}
		if (!rc)
			rc = fn(o, arg);
	}
	/* Without memory for the list, they go at a later call. */
	for (size_t i = 0; i < nr; i++)
		free(vs_htab_del(pe->objects, &stale[i]->lock, sizeof(stale[i]->lock)));
	free(stale);
	return rc;
}

void vs_probe_events_handle(struct vs_probe_events *pe, const struct vs_probe_record *r,
			    size_t size)
{
	const struct vs_probe_spec *spec;

	if (size < VS_PROBE_RECORD_STRS_OFFSET || r->probe >= pe->profile->nr_probes)
		return;
	if (size < VS_PROBE_RECORD_HDR_SIZE) {
		/* sent without its unused string fields: they read as empty */
		memset(pe->whole, 0, VS_PROBE_RECORD_HDR_SIZE);
		memcpy(pe->whole, r, size);
		r = pe->whole;
		size = VS_PROBE_RECORD_HDR_SIZE;
	}
	spec = &pe->profile->probes[r->probe].spec;
	switch (spec->kind) {
	case VS_PK_LOCK_ACQUIRED: lock_record(pe, r, size, VS_LOCK_WAIT); break;
	case VS_PK_LOCK_RELEASE: lock_record(pe, r, size, VS_LOCK_HOLD); break;
	case VS_PK_SPAN_BEGIN: span_begin(pe, r, (enum vs_span_kind)spec->span, size); break;
	case VS_PK_SPAN_END: span_end(pe, r, (enum vs_span_kind)spec->span); break;
	case VS_PK_FORK_BEGIN: fork_begin(pe, r, size); break;
	case VS_PK_FORK_END: fork_end(pe, r); break;
	case VS_PK_EXEC: exec_hit(pe, r); break;
	case VS_PK_LOOP_BEGIN: loop_iteration(pe, r, 1, size); break;
	case VS_PK_LOOP_END: loop_iteration(pe, r, 0, size); break;
	case VS_PK_LOOP_DISPATCH: dispatch(pe, r); break;
	case VS_PK_KEEPALIVE_SENT: keepalive(pe, r, VS_KEEPALIVE_SENT); break;
	case VS_PK_KEEPALIVE_RECV: keepalive(pe, r, VS_KEEPALIVE_RECEIVED); break;
	case VS_PK_KEEPALIVE_TIMEOUT: keepalive(pe, r, VS_KEEPALIVE_TIMEOUT); break;
	case VS_PK_THREAD_JOB: thread_job(pe, r); break;
	case VS_PK_RPC_RECEIVE: rpc_receive(pe, r); break;
	case VS_PK_RPC_DISPATCH: rpc_dispatch(pe, r); break;
	case VS_PK_RPC_REPLY: rpc_reply(pe, r); break;
	case VS_PK_THREAD_OBJECT: thread_object(pe, r); break;
	default: break;
	}
}
