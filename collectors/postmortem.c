/* The post-mortem report; see postmortem.h. The breakdown of an operation
 * joins, on the operation's worker thread and inside its time window (from
 * when a worker picked the call up to the reply), the events the other
 * modules also aggregate; it never reads anything but the events. */
#include "postmortem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"

#define MAX_HELD 8

int vs_postmortem_init(struct vs_postmortem *pm)
{
	memset(pm, 0, sizeof(*pm));
	if (vs_timeline_init(&pm->timeline))
		return -ENOMEM;
	pm->ops = vs_ops_report_new();
	pm->locks = vs_lock_report_new();
	pm->offcpu = vs_offcpu_report_new();
	pm->forks = vs_fork_report_new();
	return pm->ops && pm->locks && pm->offcpu && pm->forks ? 0 : -ENOMEM;
}

void vs_postmortem_release(struct vs_postmortem *pm)
{
	vs_timeline_release(&pm->timeline);
	vs_ops_report_free(pm->ops);
	vs_lock_report_free(pm->locks);
	vs_offcpu_report_free(pm->offcpu);
	vs_fork_report_free(pm->forks);
	memset(pm, 0, sizeof(*pm));
}

int vs_postmortem_consumers(struct vs_postmortem *pm,
			    int (*add)(void *owner, struct vs_consumer *c), void *owner)
{
	int rc;

	if ((rc = add(owner, vs_timeline_consumer(&pm->timeline))) ||
	    (rc = add(owner, vs_ops_report_consumer(pm->ops))) ||
	    (rc = add(owner, vs_lock_report_consumer(pm->locks))) ||
	    (rc = add(owner, vs_offcpu_report_consumer(pm->offcpu))) ||
	    (rc = add(owner, vs_fork_report_consumer(pm->forks))))
		return rc;
	return 0;
}

int vs_postmortem_add_lock_stats(struct vs_postmortem *pm, uint64_t addr,
				 const struct vs_lock_stats *st)
{
	return vs_lock_report_add_stats(pm->locks, addr, st);
}

int vs_postmortem_add_thread(struct vs_postmortem *pm, const struct vs_offcpu_totals *t)
{
	return vs_offcpu_report_add_thread(pm->offcpu, t);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* The part of [ts, ts+dur) inside [from, to). */
static uint64_t overlap(uint64_t ts, uint64_t dur, uint64_t from, uint64_t to)
{
	uint64_t a = ts > from ? ts : from, b = ts + dur < to ? ts + dur : to;

	return b > a ? b - a : 0;
}

struct window {
	uint32_t tid;
	uint64_t from, to;
};

static int by_dur_desc(const void *a, const void *b)
{
	const struct vs_event *x = *(const struct vs_event *const *)a;
	const struct vs_event *y = *(const struct vs_event *const *)b;

	if (x->dur_ns != y->dur_ns)
		return x->dur_ns > y->dur_ns ? -1 : 1;
	return x->ts_ns < y->ts_ns ? -1 : x->ts_ns > y->ts_ns;
}

static void print_offcpu(FILE *out, const struct vs_timeline *t, const struct window *w)
{
	uint64_t by_reason[VS_OFFCPU_NR_REASONS] = { 0 }, total = 0;
	uint64_t samples = 0, sampled_ns = 0;

	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->tid != w->tid)
			continue;
		if (e->kind == VS_EV_OFFCPU && e->offcpu.reason < VS_OFFCPU_NR_REASONS) {
			uint64_t o = overlap(e->ts_ns, e->dur_ns, w->from, w->to);

			by_reason[e->offcpu.reason] += o;
			total += o;
		} else if (e->kind == VS_EV_SAMPLE && e->ts_ns >= w->from && e->ts_ns < w->to) {
			samples++;
			sampled_ns += e->sample.period_ns;
		}
	}
	fprintf(out, "       on-CPU: %.3f ms (%" PRIu64 " samples)\n", ms(sampled_ns), samples);
	fprintf(out, "       off-CPU in long blocks: %.3f ms", ms(total));
	for (int k = 0; k < VS_OFFCPU_NR_REASONS; k++)
		if (by_reason[k])
			fprintf(out, ", %s %.3f ms", vs_offcpu_reason_name((uint32_t)k),
				ms(by_reason[k]));
	fputc('\n', out);
}

static void print_spans(FILE *out, const struct vs_timeline *t, const struct window *w,
			enum vs_span_kind kind, const char *label)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->kind != VS_EV_SPAN_END || e->span.kind != kind || e->tid != w->tid ||
		    !overlap(e->ts_ns, e->dur_ns ? e->dur_ns : 1, w->from, w->to))
			continue;
		fprintf(out, "       %s: %s", label, e->span.name ? e->span.name : "?");
		if (e->span.iface)
			fprintf(out, " (%s)", e->span.iface);
		if (e->span.object)
			fprintf(out, " on %s", e->span.object);
		fprintf(out, " %.3f ms%s\n", ms(e->dur_ns), e->span.result < 0 ? ", failed" : "");
	}
}

static void lock_name(char *buf, size_t len, const struct vs_event *e)
{
	vs_lock_name(buf, len, e->lock.addr, e->lock.kind, e->lock.object);
}

/* Waits of this thread, and waits of others on locks this thread held. */
static void print_locks(FILE *out, const struct vs_timeline *t, const struct window *w)
{
	char name[80];

	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->kind != VS_EV_LOCK || e->lock.phase != VS_LOCK_WAIT ||
		    !overlap(e->ts_ns, e->dur_ns, w->from, w->to))
			continue;
		lock_name(name, sizeof(name), e);
		if (e->tid == w->tid) {
			fprintf(out, "       waited for %s %.3f ms, held by %s[%u]%s%s\n", name,
				ms(e->dur_ns), e->lock.holder_comm ? e->lock.holder_comm : "?",
				e->lock.holder_tid, e->lock.holder_job ? " in " : "",
				e->lock.holder_job ? e->lock.holder_job : "");
		} else if (e->lock.holder_tid == w->tid) {
			fprintf(out, "       held %s while %s[%u] waited %.3f ms for it\n", name,
				e->comm, e->tid, ms(e->dur_ns));
		}
	}
	/* Mutex blocks the off-CPU collector saw with this thread as owner. */
	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->kind != VS_EV_OFFCPU || !e->offcpu.lock_addr ||
		    e->offcpu.lock_holder != w->tid || e->tid == w->tid ||
		    !overlap(e->ts_ns, e->dur_ns, w->from, w->to))
			continue;
		vs_lock_name(name, sizeof(name), e->offcpu.lock_addr, e->offcpu.lock_kind,
			     e->offcpu.lock_object);
		fprintf(out, "       held %s while %s[%u] was blocked %.3f ms on it\n", name, e->comm,
			e->tid, ms(e->dur_ns));
	}
}

static void print_forks(FILE *out, const struct vs_timeline *t, const struct window *w)
{
	uint64_t n = 0, ns = 0;

	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->kind == VS_EV_FORK && e->tid == w->tid && e->ts_ns >= w->from &&
		    e->ts_ns < w->to) {
			n++;
			ns += e->dur_ns;
		}
	}
	if (n)
		fprintf(out, "       forks: %" PRIu64 ", %.3f ms in fork\n", n, ms(ns));
}

static void print_slowest(FILE *out, struct vs_postmortem *pm, const struct vs_postmortem_view *v)
{
	const struct vs_timeline *t = &pm->timeline;
	const struct vs_event **ops;
	uint64_t base = t->nr ? t->events[0].ts_ns : 0;
	size_t n = 0;

	ops = calloc(t->nr ? t->nr : 1, sizeof(*ops));
	if (!ops)
		return;
	for (size_t i = 0; i < t->nr; i++)
		if (t->events[i].kind == VS_EV_SPAN_END && t->events[i].span.kind == VS_SPAN_RPC)
			ops[n++] = &t->events[i];
	qsort(ops, n, sizeof(*ops), by_dur_desc);
	fprintf(out, "Slowest operations (%zu RPC calls):\n", n);
	for (size_t i = 0; i < n && i < v->slowest; i++) {
		const struct vs_event *e = ops[i];
		struct window w = { e->tid, e->ts_ns, e->ts_ns + e->dur_ns };

		if (e->span.queue_ns && e->span.queue_ns < e->dur_ns)
			w.from += e->span.queue_ns;
		fprintf(out, "  %zu. %s%s%s: %.3f ms (queued %.3f ms) on %s[%u] at +%.3f s\n", i + 1,
			e->span.name ? e->span.name : "?", e->span.object ? " " : "",
			e->span.object ? e->span.object : "", ms(e->dur_ns), ms(e->span.queue_ns),
			e->comm, e->tid, (double)(e->ts_ns - base) / 1e9);
		print_offcpu(out, t, &w);
		print_locks(out, t, &w);
		print_spans(out, t, &w, VS_SPAN_DBUS, "D-Bus");
		print_spans(out, t, &w, VS_SPAN_QMP, "QMP");
		print_forks(out, t, &w);
	}
	free(ops);
}

static void print_stalls(FILE *out, const struct vs_offcpu_report *r, unsigned int rows)
{
	const struct vs_offcpu_stall_row *s;
	size_t n = vs_offcpu_report_stalls(r, &s);

	fprintf(out, "\nMain-loop stalls (%zu):\n", n);
	for (size_t i = 0; i < n && i < rows; i++) {
		const struct vs_offcpu_block *c = s[i].cause;

		fprintf(out, "  %s[%u] stalled %.3f ms, %.3f ms of it blocked", s[i].comm, s[i].tid,
			ms(s[i].dur_ns), ms(s[i].blocked_ns));
		if (!c) {
			fputs(": on CPU\n", out);
			continue;
		}
		fprintf(out, "; longest block %.3f ms (%s)", ms(c->dur_ns),
			vs_offcpu_reason_name(c->reason));
		if (c->lock[0])
			fprintf(out, " on %s held by %s[%u]%s%s", c->lock,
				c->holder_comm[0] ? c->holder_comm : "?", c->holder,
				c->holder_job[0] ? " in " : "", c->holder_job);
		if (c->waker_comm[0])
			fprintf(out, ", woken by %s[%u]", c->waker_comm, c->waker_tid);
		fputc('\n', out);
	}
}

static void print_chains(FILE *out, const struct vs_lock_report *r, unsigned int rows)
{
	const struct vs_lock_chain *c;
	size_t n = vs_lock_report_chains(r, &c);

	fprintf(out, "\nWorst lock chains (%zu waits):\n", n);
	for (size_t i = 0; i < n && i < rows; i++) {
		fprintf(out, "  %.3f ms: %s[%u]%s%s waited for %s", ms(c[i].dur_ns), c[i].waiter_comm,
			c[i].waiter, c[i].waiter_job[0] ? " in " : "", c[i].waiter_job, c[i].lock);
		if (c[i].holder)
			fprintf(out, ", held by %s[%u]%s%s", c[i].holder_comm, c[i].holder,
				c[i].holder_job[0] ? " in " : "", c[i].holder_job);
		if (c[i].holder_call[0])
			fprintf(out, ", blocked in %s()", c[i].holder_call);
		if (c[i].holder_waits)
			fprintf(out, ", itself waiting for %s", c[i].holder_waits_name);
		fputc('\n', out);
	}
}

static void print_locks_table(FILE *out, const struct vs_lock_report *r, unsigned int rows)
{
	const struct vs_lock_row *l;
	size_t n = vs_lock_report_rows(r, &l);

	fprintf(out, "\nPer lock (%zu):\n  %-32s %9s %14s %14s\n", n, "LOCK", "CONTENDED",
		"WAIT TOTAL ms", "WAIT MAX ms");
	for (size_t i = 0; i < n && i < rows; i++)
		fprintf(out, "  %-32.32s %9" PRIu64 " %14.3f %14.3f\n", l[i].name,
			(uint64_t)l[i].st.contended, ms(l[i].st.wait_ns), ms(l[i].st.wait_max_ns));
}

static void print_threads(FILE *out, const struct vs_offcpu_report *r, unsigned int rows)
{
	const struct vs_offcpu_thread_row *t;
	size_t n = vs_offcpu_report_threads(r, &t);

	fprintf(out, "\nOff-CPU per thread (%zu):\n", n);
	for (size_t i = 0; i < n && i < rows; i++) {
		fprintf(out, "  %s[%u]: on %.3f ms, off %.3f ms", t[i].t.comm, t[i].t.tid,
			ms(t[i].t.on_ns), ms(t[i].off_total_ns));
		for (int k = 0; k < VS_OFFCPU_NR_REASONS; k++)
			if (t[i].t.off_ns[k])
				fprintf(out, ", %s %.3f", vs_offcpu_reason_name((uint32_t)k),
					ms(t[i].t.off_ns[k]));
		fputc('\n', out);
	}
}

static void print_forks_table(FILE *out, const struct vs_fork_report *r)
{
	const struct vs_fork_op_row *o;
	size_t n = vs_fork_report_ops(r, &o);
	struct vs_fork_totals t;

	vs_fork_report_totals(r, &t);
	fprintf(out, "\nForks: %" PRIu64 " (%.3f ms in fork), %" PRIu64 " exec'd; per operation:\n",
		t.forks, ms(t.fork_ns), t.execs);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %s: %" PRIu64 " runs, %" PRIu64 " forks, %.3f ms in fork\n",
			o[i].name, o[i].ops, o[i].forks, ms(o[i].fork_ns));
}


static char *name_path(vs_stack_id id, void *arg)
{
	const struct vs_postmortem_view *v = arg;
	const struct vs_stack *st = vs_stacks_get(v->stacks, id);
	struct vs_strbuf sb = { 0 };

	if (!st || !st->nr_user)
		return NULL;
	for (unsigned int i = 0; i < st->nr_user; i++)
		if (vs_strbuf_addf(&sb, "%s%s", i ? " <- " : "",
				   vs_symbolize_user(v->sym, st->pid,
						     vs_stack_lookup_ip(st->ips + st->nr_kernel, i)))) {
			vs_strbuf_release(&sb);
			return NULL;
		}
	return sb.buf;
}

/* The daemon's restarts: what happened in the gaps was not seen. */
static void print_restarts(FILE *out, const struct vs_timeline *t)
{
	uint64_t origin = t->nr ? t->events[0].ts_ns : 0;
	int any = 0;

	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];

		if (e->kind != VS_EV_TARGET)
			continue;
		if (!any++)
			fputs("Target restarts (nothing was seen in the gaps):\n", out);
		if (e->target.new_pid)
			fprintf(out, "  %s pid %u exited at +%.1f s; pid %u attached %.1f s later\n",
				e->comm, e->target.old_pid, (double)(e->ts_ns - origin) / 1e9,
				e->target.new_pid, (double)e->dur_ns / 1e9);
		else
			fprintf(out, "  %s pid %u exited at +%.1f s and was not back %.1f s later\n",
				e->comm, e->target.old_pid, (double)(e->ts_ns - origin) / 1e9,
				(double)e->dur_ns / 1e9);
	}
	if (any)
		fputc('\n', out);
}

int vs_postmortem_write(struct vs_postmortem *pm, FILE *out, const struct vs_postmortem_view *v)
{
	int rc;

	if (pm->timeline.oom)
		return -ENOMEM;
	if ((rc = vs_lock_report_finish(pm->locks, VS_LOCK_SORT_WAIT)) ||
	    (rc = vs_offcpu_report_finish(pm->offcpu, v->stacks, v->sym)) ||
	    (rc = vs_fork_report_finish(pm->forks, name_path, (void *)v)))
		return rc;
	vs_timeline_sort(&pm->timeline);
	fprintf(out, "Over %.1f s, %zu events.\n", (double)v->interval_ns / 1e9, pm->timeline.nr);
	if (v->trigger && v->trigger[0])
		fprintf(out, "A flight recording, kept when a trigger fired: %s.\n", v->trigger);
	fputc('\n', out);
	print_restarts(out, &pm->timeline);
	print_slowest(out, pm, v);
	print_stalls(out, pm->offcpu, v->rows);
	print_chains(out, pm->locks, v->rows);
	fputs("\nOperations:\n", out);
	vs_ops_report_write(pm->ops, out, v->stacks, v->sym, v->roles, v->interval_ns, v->rows);
	print_locks_table(out, pm->locks, v->rows);
	print_threads(out, pm->offcpu, v->rows);
	print_forks_table(out, pm->forks);
	return 0;
}
