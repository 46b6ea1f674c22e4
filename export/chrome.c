/* Chrome trace-event JSON (the "JSON Array/Object Format" Perfetto UI and
 * chrome://tracing read). Every interval becomes a complete slice ("X") on
 * its thread's track. Slices of one track must nest, but a thread's
 * intervals come from different collectors with their own clocks points
 * (an off-CPU block and the lock wait it is part of start a few
 * microseconds apart), so a slice that starts inside another and ends after
 * it is cut at its parent's end, with its true length kept in its args. A
 * lock wait with a known holder gets a slice on the holder's lock track (it
 * held the lock at least that long), and a flow from the waiter to that
 * slice's end: the release that let the waiter go. Holds have a track of
 * their own beside each thread's, "COMM (locks held)": a hold spans the
 * thread's calls and blocks instead of nesting in them, and cut to nest it
 * showed a 2 s hold across a D-Bus call as the 200 ms of one of its blocks. */
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../collectors/offcpu.h"
#include "../collectors/lock_report.h"

enum slice_kind { S_SPAN, S_WAIT, S_HOLD, S_HELD_FOR, S_FORK, S_OFFCPU, S_GAP };

/* A thread's lock track: its tid with this bit, above any pid_max. */
#define LOCK_TRACK (1u << 30)

struct slice {
	uint32_t tid;
	uint64_t ts, dur, true_dur;
	enum slice_kind kind;
	const struct vs_event *ev;
	uint64_t flow;  /* S_WAIT: starts flow n+1; S_HELD_FOR: ends it */
};

struct slices {
	struct slice *v;
	size_t n, cap;
};

static int push(struct slices *s, uint32_t tid, uint64_t ts, uint64_t dur, enum slice_kind k,
		const struct vs_event *ev, uint64_t flow)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct slice *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = cap;
	}
	/* A zero-length slice is invisible: give it a nanosecond. */
	s->v[s->n++] = (struct slice){ tid, ts, dur ? dur : 1, dur ? dur : 1, k, ev, flow };
	return 0;
}

static int collect(const struct vs_timeline *t, struct slices *s)
{
	uint64_t flows = 0;
	int rc = 0;

	for (size_t i = 0; i < t->nr && !rc; i++) {
		const struct vs_event *e = &t->events[i];

		switch (e->kind) {
		case VS_EV_SPAN_END:
			if (e->span.kind == VS_SPAN_RPC && e->span.queue_ns &&
			    e->span.queue_ns < e->dur_ns)
				/* on the worker's track: from when it picked the call up */
				rc = push(s, e->tid, e->ts_ns + e->span.queue_ns,
					  e->dur_ns - e->span.queue_ns, S_SPAN, e, 0);
			else
				rc = push(s, e->tid, e->ts_ns, e->dur_ns, S_SPAN, e, 0);
			break;
		case VS_EV_LOCK:
			if (e->lock.phase == VS_LOCK_HOLD) {
				rc = push(s, e->tid | LOCK_TRACK, e->ts_ns, e->dur_ns, S_HOLD, e, 0);
				break;
			}
			if (e->lock.holder_tid && e->lock.holder_tid != e->tid) {
				flows++;
				rc = push(s, e->tid, e->ts_ns, e->dur_ns, S_WAIT, e, flows);
				if (!rc)
					rc = push(s, e->lock.holder_tid | LOCK_TRACK, e->ts_ns,
						  e->dur_ns, S_HELD_FOR, e, flows);
			} else {
				rc = push(s, e->tid, e->ts_ns, e->dur_ns, S_WAIT, e, 0);
			}
			break;
		case VS_EV_FORK:
			rc = push(s, e->tid, e->ts_ns, e->dur_ns, S_FORK, e, 0);
			break;
		case VS_EV_OFFCPU:
			rc = push(s, e->tid, e->ts_ns, e->dur_ns, S_OFFCPU, e, 0);
			break;
		case VS_EV_TARGET:
			/* on the old main thread's track, where its events stop */
			rc = push(s, e->target.old_pid, e->ts_ns, e->dur_ns, S_GAP, e, 0);
			break;
		default:
			break;
		}
	}
	return rc;
}

static int by_track(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1; /* the enclosing one first */
	return (int)x->kind - (int)y->kind;
}

/* Cuts slices that would straddle their parent's end. */
static int nest(struct slices *s)
{
	uint64_t *ends = malloc((s->n ? s->n : 1) * sizeof(*ends));
	size_t depth = 0;

	if (!ends)
		return -ENOMEM;
	if (s->n) /* never qsort a NULL array */
		qsort(s->v, s->n, sizeof(*s->v), by_track);
	for (size_t i = 0; i < s->n; i++) {
		struct slice *x = &s->v[i];

		if (i && s->v[i - 1].tid != x->tid)
			depth = 0;
		while (depth && ends[depth - 1] <= x->ts)
			depth--;
		if (depth && x->ts + x->dur > ends[depth - 1])
			x->dur = ends[depth - 1] - x->ts;
		ends[depth++] = x->ts + x->dur;
	}
	free(ends);
	return 0;
}

static double us(const struct vs_export_input *in, uint64_t ns)
{
	return ns >= in->start_ns ? (double)(ns - in->start_ns) / 1e3
				  : -(double)(in->start_ns - ns) / 1e3;
}

static const char *span_cat(enum vs_span_kind k)
{
	switch (k) {
	case VS_SPAN_RPC: return "rpc";
	case VS_SPAN_DBUS: return "dbus";
	case VS_SPAN_CAPS_LOOKUP: return "caps";
	case VS_SPAN_QMP: return "qmp";
	case VS_SPAN_LOOP_ITERATION: return "stall";
	case VS_SPAN_OPERATION: return "operation";
	case VS_SPAN_FUNCTION: return "function";
	default: return "span";
	}
}

static void write_name(FILE *out, const struct slice *x)
{
	const struct vs_event *e = x->ev;
	char lock[80], name[160];

	switch (x->kind) {
	case S_SPAN:
		snprintf(name, sizeof(name), "%s%s%s", e->span.name ? e->span.name : "?",
			 e->span.object && e->span.kind == VS_SPAN_RPC ? " " : "",
			 e->span.object && e->span.kind == VS_SPAN_RPC ? e->span.object : "");
		break;
	case S_WAIT:
	case S_HOLD:
	case S_HELD_FOR:
		vs_lock_name(lock, sizeof(lock), e->lock.addr, e->lock.kind, e->lock.object);
		snprintf(name, sizeof(name), "%s %s",
			 x->kind == S_WAIT ? "lock wait" : x->kind == S_HOLD ? "lock hold" : "lock held",
			 lock);
		break;
	case S_FORK:
		snprintf(name, sizeof(name), "fork%s%s", e->fork.reason ? " " : "",
			 e->fork.reason ? e->fork.reason : "");
		break;
	case S_OFFCPU:
		snprintf(name, sizeof(name), "off-CPU %s", vs_offcpu_reason_name(e->offcpu.reason));
		break;
	case S_GAP:
		if (e->target.new_pid)
			snprintf(name, sizeof(name), "target restarted as pid %u (not seen)",
				 e->target.new_pid);
		else
			snprintf(name, sizeof(name), "target exited (not seen)");
		break;
	}
	vs_json_string(out, name);
}

static const char *cat_of(const struct slice *x)
{
	switch (x->kind) {
	case S_SPAN: return span_cat(x->ev->span.kind);
	case S_WAIT: return "lock-wait";
	case S_HOLD:
	case S_HELD_FOR: return "lock-hold";
	case S_FORK: return "fork";
	case S_OFFCPU: return "offcpu";
	case S_GAP: return "target";
	}
	return "?";
}

static void write_args(FILE *out, const struct slice *x)
{
	const struct vs_event *e = x->ev;

	fprintf(out, "{\"dur_ns\":%llu", (unsigned long long)x->true_dur);
	if (x->dur != x->true_dur)
		fputs(",\"cut_to_nest\":true", out);
	if (x->kind == S_SPAN) {
		if (e->span.object) {
			fputs(",\"object\":", out);
			vs_json_string(out, e->span.object);
		}
		if (e->span.iface) {
			fputs(",\"interface\":", out);
			vs_json_string(out, e->span.iface);
		}
		if (e->span.kind == VS_SPAN_RPC)
			fprintf(out, ",\"queue_ns\":%llu,\"client\":%llu",
				(unsigned long long)e->span.queue_ns,
				(unsigned long long)e->span.client);
		fprintf(out, ",\"result\":%lld", (long long)e->span.result);
	} else if (x->kind == S_WAIT || x->kind == S_HELD_FOR) {
		fprintf(out, ",\"waiter\":%u,\"holder\":%u", e->tid, e->lock.holder_tid);
		if (e->lock.holder_job) {
			fputs(",\"holder_job\":", out);
			vs_json_string(out, e->lock.holder_job);
		}
	} else if (x->kind == S_FORK) {
		fprintf(out, ",\"child\":%u", e->fork.child_pid);
	} else if (x->kind == S_GAP) {
		fprintf(out, ",\"old_pid\":%u,\"new_pid\":%u", e->target.old_pid,
			e->target.new_pid);
	}
	fputc('}', out);
}

struct thread_name {
	uint32_t tid;
	const char *comm;
};

static int by_tid(const void *a, const void *b)
{
	const struct thread_name *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static void write_thread_name(const struct vs_export_input *in, FILE *out, uint32_t tid,
			      const char *comm, const char *suffix)
{
	char name[VS_COMM_LEN + 32];

	snprintf(name, sizeof(name), "%.*s%s", VS_COMM_LEN, comm, suffix);
	fprintf(out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
		     "\"args\":{\"name\":", in->pid, tid);
	vs_json_string(out, name);
	fputs("}}", out);
	/* each lock track right under its thread's */
	fprintf(out, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%u,\"tid\":%u,"
		     "\"args\":{\"sort_index\":%llu}}",
		in->pid, tid, (unsigned long long)(tid & ~LOCK_TRACK) * 2 + !!(tid & LOCK_TRACK));
}

static int write_thread_names(const struct vs_export_input *in, const struct slices *s,
			      FILE *out)
{
	const struct vs_timeline *t = in->timeline;
	struct thread_name *names = malloc((2 * t->nr + 1) * sizeof(*names));
	size_t n = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->tid && e->comm[0])
			names[n++] = (struct thread_name){ e->tid, e->comm };
		if (e->kind == VS_EV_LOCK && e->lock.holder_tid && e->lock.holder_comm)
			names[n++] = (struct thread_name){ e->lock.holder_tid, e->lock.holder_comm };
	}
	qsort(names, n, sizeof(*names), by_tid);
	fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":", out);
	fprintf(out, "%u,\"tid\":%u,\"args\":{\"name\":", in->pid, in->pid);
	vs_json_string(out, in->comm);
	fputs("}}", out);
	for (size_t i = 0; i < n; i++) {
		if (i && names[i - 1].tid == names[i].tid)
			continue;
		write_thread_name(in, out, names[i].tid, names[i].comm, "");
	}
	/* the lock tracks in use (s is in track order), named after their thread */
	for (size_t i = 0; i < s->n; i++) {
		uint32_t tid = s->v[i].tid;
		struct thread_name key = { tid & ~LOCK_TRACK, NULL }, *found;

		if (!(tid & LOCK_TRACK) || (i && s->v[i - 1].tid == tid))
			continue;
		found = n ? bsearch(&key, names, n, sizeof(*names), by_tid) : NULL;
		write_thread_name(in, out, tid, found ? found->comm : "thread", " (locks held)");
	}
	free(names);
	return 0;
}

static void write_slice(const struct vs_export_input *in, FILE *out, const struct slice *x)
{
	fputs(",\n{\"ph\":\"X\",\"name\":", out);
	write_name(out, x);
	fprintf(out, ",\"cat\":\"%s\",\"pid\":%u,\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"args\":",
		cat_of(x), in->pid, x->tid, us(in, x->ts), (double)x->dur / 1e3);
	write_args(out, x);
	fputc('}', out);
	if (!x->flow)
		return;
	/* The flow starts at the wait's start on the waiter's track and ends
	 * just inside the holder's slice, as it released the lock. */
	if (x->kind == S_WAIT)
		fprintf(out, ",\n{\"ph\":\"s\",\"name\":\"lock\",\"cat\":\"lock-flow\",\"id\":%llu,"
			     "\"pid\":%u,\"tid\":%u,\"ts\":%.3f}",
			(unsigned long long)x->flow, in->pid, x->tid, us(in, x->ts));
	else
		fprintf(out, ",\n{\"ph\":\"f\",\"bp\":\"e\",\"name\":\"lock\",\"cat\":\"lock-flow\","
			     "\"id\":%llu,\"pid\":%u,\"tid\":%u,\"ts\":%.3f}",
			(unsigned long long)x->flow, in->pid, x->tid,
			us(in, x->ts + (x->dur > 1 ? x->dur - 1 : 0)));
}

static int by_time(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->dur != y->dur)
		return x->dur > y->dur ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

int vs_export_chrome(const struct vs_export_input *in, FILE *out)
{
	struct slices s = { 0 };
	int rc = collect(in->timeline, &s);

	if (!rc)
		rc = nest(&s);
	if (rc)
		goto out;
	fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"source\":\"virtscope\"},\n"
	      "\"traceEvents\":[\n", out);
	rc = write_thread_names(in, &s, out); /* while s is in track order */
	/* In time order, parents before their children, as viewers like. */
	if (s.n)
		qsort(s.v, s.n, sizeof(*s.v), by_time);
	for (size_t i = 0; !rc && i < s.n; i++)
		write_slice(in, out, &s.v[i]);
	fputs("\n]}\n", out);
	if (!rc && ferror(out))
		rc = -EIO;
out:
	free(s.v);
	return rc;
}
