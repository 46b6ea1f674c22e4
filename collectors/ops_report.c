/* Operations report assembly. Every table is a hash of rows keyed by name,
 * each with log-linear histograms, so percentiles stay right whatever the
 * number of calls, in bounded memory. */
#include "ops_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/hist.h"
#include "../lib/htab.h"
#include "../lib/util.h"
#include "stacks.h"

#define NAME_LEN 128
/* Calls that took at least this share of their timeout ran into it. */
#define TIMEOUT_SHARE 0.95
/* Calls under this share of their timeout are "fast". */
#define FAST_SHARE 0.10
#define DBUS_DEFAULT_TIMEOUT_MS 25000
#define DBUS_DECADES 6

struct latency_row {
	char name[NAME_LEN]; /* key */
	uint64_t calls, errors, timeouts, fast, middle;
	struct vs_hist total;
	struct vs_hist queue;   /* RPC: read to picked up */
	uint64_t service_ns;    /* RPC: picked up to replied, summed */
	uint64_t timeout_ms;
	vs_stack_id stack;      /* a caller's stack (the first seen) */
	uint32_t pid;
	char locks[160];        /* D-Bus: locks others waited for across a call */
	char path[96];          /* D-Bus: the object path of the first call */
	int paths_vary;         /* ... and later calls went to others */
	/* D-Bus: calls by decade of latency, from under 1 ms to 10 s and more.
	 * Decades, not the percentiles' fine buckets, because the question is
	 * whether anything lies between "at once" and "the whole timeout". */
	uint64_t decades[DBUS_DECADES];
};

struct worker_row {
	uint32_t tid; /* key */
	char comm[VS_COMM_LEN];
	uint64_t calls, busy_ns;
};

struct keepalive_row {
	uint64_t client; /* key */
	uint64_t pings_in, pongs_out, pings_out, pongs_in, timeouts;
	int64_t max_idle_s;
	uint64_t ping_ts;       /* a PING received, not yet answered */
	struct vs_hist answer;  /* PING received to PONG queued */
};

/* A lock wait whose holder was known: joined with the D-Bus calls at the
 * end, since the two come from different collectors in no fixed order. */
struct held_wait {
	uint32_t holder;
	uint64_t ts, end;
	char name[96];
};

/* A finished D-Bus call, for that join. */
struct dbus_call {
	uint32_t tid;
	uint64_t ts, end;
	struct latency_row *row;
};

struct vs_ops_report {
	struct vs_consumer consumer;
	struct vs_htab *procs, *clients, *domains, *dbus, *qmp; /* name -> latency_row */
	struct vs_htab *workers;    /* tid -> worker_row */
	struct vs_htab *keepalives; /* client -> keepalive_row */
	struct vs_htab *open_rpcs;  /* span id -> 1, for calls in flight */
	struct dbus_call *calls;    /* finished D-Bus calls, for the lock join */
	size_t nr_calls, cap_calls;
	struct held_wait *waits;    /* lock waits with a holder */
	size_t nr_waits, cap_waits;
	uint64_t rpc_first_ts, rpc_last_ts;
	uint64_t lost;
	/* By collector and kind, so that the report says where they went. */
	struct lost_row {
		char collector[24];
		enum vs_event_kind what;
		uint64_t count;
	} lost_by[16];
	size_t nr_lost_by;
};

static void count_lost(struct vs_ops_report *r, const struct vs_event *ev)
{
	const char *who = ev->lost.collector ? ev->lost.collector : "?";
	size_t i;

	r->lost += ev->lost.count;
	for (i = 0; i < r->nr_lost_by; i++)
		if (r->lost_by[i].what == ev->lost.what && !strcmp(r->lost_by[i].collector, who))
			break;
	/* Past the table's end the rest is in the total only. */
	if (i == VS_ARRAY_SIZE(r->lost_by))
		return;
	if (i == r->nr_lost_by) {
		snprintf(r->lost_by[i].collector, sizeof(r->lost_by[i].collector), "%s", who);
		r->lost_by[i].what = ev->lost.what;
		r->lost_by[i].count = 0;
		r->nr_lost_by++;
	}
	r->lost_by[i].count += ev->lost.count;
}

static void write_lost(const struct vs_ops_report *r, FILE *out)
{
	fprintf(out, "\n%" PRIu64 " events were lost: the tables above are partial\n", r->lost);
	for (size_t i = 0; i < r->nr_lost_by; i++)
		fprintf(out, "  %" PRIu64 " %s events lost by the %s collector\n", r->lost_by[i].count,
			vs_event_kind_name(r->lost_by[i].what), r->lost_by[i].collector);
}

int vs_ops_bimodal(uint64_t fast, uint64_t middle, uint64_t timed_out)
{
	return fast > 0 && timed_out > 0 && middle == 0;
}

static struct latency_row *latency_row(struct vs_htab *h, const char *name)
{
	struct latency_row *row = vs_htab_get(h, name, strnlen(name, NAME_LEN - 1));

	if (row)
		return row;
	row = calloc(1, sizeof(*row));
	if (!row)
		return NULL;
	snprintf(row->name, sizeof(row->name), "%s", name);
	vs_hist_reset(&row->total);
	vs_hist_reset(&row->queue);
	if (vs_htab_put(h, row->name, strlen(row->name), row, NULL)) {
		free(row);
		return NULL;
	}
	return row;
}

static void *keyed_row(struct vs_htab *h, const void *key, size_t len, size_t size)
{
	void *row = vs_htab_get(h, key, len);

	if (row)
		return row;
	row = calloc(1, size);
	if (!row)
		return NULL;
	memcpy(row, key, len); /* every keyed row starts with its key */
	if (vs_htab_put(h, row, len, row, NULL)) {
		free(row);
		return NULL;
	}
	return row;
}

static void add_call(struct latency_row *row, const struct vs_event *ev)
{
	row->calls++;
	vs_hist_add(&row->total, ev->dur_ns);
	if (ev->span.result < 0)
		row->errors++;
	if (!row->stack && ev->stack) {
		row->stack = ev->stack;
		row->pid = ev->pid;
	}
}

static void on_rpc(struct vs_ops_report *r, const struct vs_event *ev)
{
	struct latency_row *row;
	struct worker_row *w;
	char name[NAME_LEN];
	uint64_t id = ev->span.id;

	if (ev->kind == VS_EV_SPAN_BEGIN) {
		keyed_row(r->open_rpcs, &id, sizeof(id), sizeof(id));
		return;
	}
	free(vs_htab_del(r->open_rpcs, &id, sizeof(id)));
	if (!r->rpc_first_ts || ev->ts_ns < r->rpc_first_ts)
		r->rpc_first_ts = ev->ts_ns;
	if (ev->ts_ns + ev->dur_ns > r->rpc_last_ts)
		r->rpc_last_ts = ev->ts_ns + ev->dur_ns;
	if ((row = latency_row(r->procs, ev->span.name ? ev->span.name : "?"))) {
		add_call(row, ev);
		vs_hist_add(&row->queue, ev->span.queue_ns);
		row->service_ns += ev->dur_ns - ev->span.queue_ns;
	}
	snprintf(name, sizeof(name), "0x%" PRIx64, ev->span.client);
	if ((row = latency_row(r->clients, name)))
		add_call(row, ev);
	if (ev->span.object && (row = latency_row(r->domains, ev->span.object))) {
		add_call(row, ev);
		vs_hist_add(&row->queue, ev->span.queue_ns);
	}
	if ((w = keyed_row(r->workers, &ev->tid, sizeof(ev->tid), sizeof(*w)))) {
		memcpy(w->comm, ev->comm, sizeof(w->comm));
		w->calls++;
		w->busy_ns += ev->dur_ns - ev->span.queue_ns;
	}
}

static unsigned int decade(uint64_t ns)
{
	unsigned int d = 0;

	for (uint64_t bound = VS_NSEC_PER_MSEC; ns >= bound && d + 1 < DBUS_DECADES; bound *= 10)
		d++;
	return d;
}

static void note_path(struct latency_row *row, const char *path)
{
	if (!path || !path[0])
		return;
	if (!row->path[0])
		snprintf(row->path, sizeof(row->path), "%s", path);
	else if (strncmp(row->path, path, sizeof(row->path) - 1))
		row->paths_vary = 1;
}

/* "/org/freedesktop/machine1: <1ms 4, 1-10ms 0, ..., >=10s 0" */
static void write_decades(FILE *out, const struct latency_row *row)
{
	static const char *const names[DBUS_DECADES] = { "<1ms",     "1-10ms", "10-100ms",
							 "0.1-1s",   "1-10s",  ">=10s" };

	fprintf(out, "      %s%s:", row->path[0] ? row->path : "(no object path)",
		row->paths_vary ? " and others" : "");
	for (unsigned int d = 0; d < DBUS_DECADES; d++)
		fprintf(out, "%s %s %" PRIu64, d ? "," : "", names[d], row->decades[d]);
	fputc('\n', out);
}

/* "org.freedesktop.machine1 TerminateMachine" and the like. */
static void on_dbus(struct vs_ops_report *r, const struct vs_event *ev)
{
	struct latency_row *row;
	char name[NAME_LEN];
	uint64_t timeout_ns = ev->span.timeout_ms * VS_NSEC_PER_MSEC;

	snprintf(name, sizeof(name), "%s %s.%s", ev->span.peer ? ev->span.peer : "?",
		 ev->span.iface ? ev->span.iface : "?", ev->span.name ? ev->span.name : "?");
	row = latency_row(r->dbus, name);
	if (!row)
		return;
	/* -1 asks the library for its default, 25 s in GLib, sd-bus and libdbus */
	if (ev->span.timeout_ms > INT32_MAX) {
		timeout_ns = DBUS_DEFAULT_TIMEOUT_MS * VS_NSEC_PER_MSEC;
		row->timeout_ms = DBUS_DEFAULT_TIMEOUT_MS;
	} else {
		row->timeout_ms = ev->span.timeout_ms;
	}
	add_call(row, ev);
	note_path(row, ev->span.object);
	row->decades[decade(ev->dur_ns)]++;
	if (timeout_ns && ev->dur_ns >= (uint64_t)(TIMEOUT_SHARE * (double)timeout_ns))
		row->timeouts++;
	else if (timeout_ns && ev->dur_ns >= (uint64_t)(FAST_SHARE * (double)timeout_ns))
		row->middle++;
	else
		row->fast++;
	if (r->nr_calls == r->cap_calls) {
		size_t cap = r->cap_calls ? r->cap_calls * 2 : 64;
		struct dbus_call *grown = realloc(r->calls, cap * sizeof(*grown));

		if (!grown)
			return;
		r->calls = grown;
		r->cap_calls = cap;
	}
	r->calls[r->nr_calls++] = (struct dbus_call){
		.tid = ev->tid, .ts = ev->ts_ns, .end = ev->ts_ns + ev->dur_ns, .row = row
	};
}

/* QMP commands by name: {"execute":"query-status","id":"libvirt-12"}. */
static void qmp_command(char *buf, size_t len, const char *json)
{
	const char *p = json ? strstr(json, "\"execute\"") : NULL;
	size_t n = 0;

	if (p && (p = strchr(p + 9, '"'))) {
		p++;
		while (p[n] && p[n] != '"' && n + 1 < len)
			n++;
	}
	if (n)
		snprintf(buf, len, "%.*s", (int)n, p);
	else
		snprintf(buf, len, "%s", "?");
}

static void on_qmp(struct vs_ops_report *r, const struct vs_event *ev)
{
	char cmd[64], name[NAME_LEN];
	struct latency_row *row;

	qmp_command(cmd, sizeof(cmd), ev->span.peer);
	snprintf(name, sizeof(name), "%s %s", cmd, ev->span.object ? ev->span.object : "-");
	if ((row = latency_row(r->qmp, name)))
		add_call(row, ev);
}

static void on_keepalive(struct vs_ops_report *r, const struct vs_event *ev)
{
	struct keepalive_row *k =
		keyed_row(r->keepalives, &ev->keepalive.client, sizeof(uint64_t), sizeof(*k));

	if (!k)
		return;
	if (!k->answer.min && !k->answer.count)
		vs_hist_reset(&k->answer);
	switch (ev->keepalive.phase) {
	case VS_KEEPALIVE_RECEIVED:
		if (ev->keepalive.proc == 1) {
			k->pings_in++;
			k->ping_ts = ev->ts_ns;
		} else {
			k->pongs_in++;
		}
		break;
	case VS_KEEPALIVE_SENT:
		if (ev->keepalive.proc == 2) {
			k->pongs_out++;
			if (k->ping_ts) {
				vs_hist_add(&k->answer, ev->ts_ns - k->ping_ts);
				k->ping_ts = 0;
			}
		} else {
			k->pings_out++;
		}
		break;
	case VS_KEEPALIVE_TIMEOUT:
		k->timeouts++;
		if (ev->keepalive.idle_s > k->max_idle_s)
			k->max_idle_s = ev->keepalive.idle_s;
		break;
	}
}

#define MAX_HELD_WAITS 65536 /* long waits are rare; beyond this, not joined */

static void on_lock(struct vs_ops_report *r, const struct vs_event *ev)
{
	struct held_wait *w;

	if (ev->lock.phase != VS_LOCK_WAIT || !ev->lock.holder_tid || r->nr_waits >= MAX_HELD_WAITS)
		return;
	if (r->nr_waits == r->cap_waits) {
		size_t cap = r->cap_waits ? r->cap_waits * 2 : 64;
		struct held_wait *grown = realloc(r->waits, cap * sizeof(*grown));

		if (!grown)
			return;
		r->waits = grown;
		r->cap_waits = cap;
	}
	w = &r->waits[r->nr_waits++];
	w->holder = ev->lock.holder_tid;
	w->ts = ev->ts_ns;
	w->end = ev->ts_ns + ev->dur_ns;
	if (ev->lock.kind && ev->lock.object)
		snprintf(w->name, sizeof(w->name), "%s %s", ev->lock.kind, ev->lock.object);
	else if (ev->lock.kind)
		snprintf(w->name, sizeof(w->name), "%s", ev->lock.kind);
	else
		snprintf(w->name, sizeof(w->name), "0x%" PRIx64, ev->lock.addr);
}

/* A lock someone waited for while its holder was in a D-Bus call: the
 * call was made with that lock held. */
static void join_locks(struct vs_ops_report *r)
{
	for (size_t i = 0; i < r->nr_calls; i++) {
		struct dbus_call *c = &r->calls[i];
		struct latency_row *row = c->row;

		for (size_t k = 0; k < r->nr_waits; k++) {
			const struct held_wait *w = &r->waits[k];

			/* the wait and the call overlap: the lock was held in it */
			if (w->holder != c->tid || w->end < c->ts || w->ts > c->end ||
			    strstr(row->locks, w->name) ||
			    strlen(row->locks) + strlen(w->name) + 3 >= sizeof(row->locks))
				continue;
			snprintf(row->locks + strlen(row->locks), sizeof(row->locks) - strlen(row->locks),
				 "%s%s", row->locks[0] ? ", " : "", w->name);
		}
	}
	r->nr_waits = 0;
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_ops_report *r = (struct vs_ops_report *)self;

	switch (ev->kind) {
	case VS_EV_SPAN_BEGIN:
		if (ev->span.kind == VS_SPAN_RPC)
			on_rpc(r, ev);
		break;
	case VS_EV_SPAN_END:
		if (ev->span.kind == VS_SPAN_RPC)
			on_rpc(r, ev);
		else if (ev->span.kind == VS_SPAN_DBUS)
			on_dbus(r, ev);
		else if (ev->span.kind == VS_SPAN_QMP)
			on_qmp(r, ev);
		break;
	case VS_EV_KEEPALIVE: on_keepalive(r, ev); break;
	case VS_EV_LOCK: on_lock(r, ev); break;
	case VS_EV_LOST: count_lost(r, ev); break;
	default: break;
	}
}

struct vs_ops_report *vs_ops_report_new(void)
{
	struct vs_ops_report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->consumer.event = on_event;
	r->procs = vs_htab_new();
	r->clients = vs_htab_new();
	r->domains = vs_htab_new();
	r->dbus = vs_htab_new();
	r->qmp = vs_htab_new();
	r->workers = vs_htab_new();
	r->keepalives = vs_htab_new();
	r->open_rpcs = vs_htab_new();
	if (!r->procs || !r->clients || !r->domains || !r->dbus || !r->qmp || !r->workers ||
	    !r->keepalives || !r->open_rpcs) {
		vs_ops_report_free(r);
		return NULL;
	}
	return r;
}

void vs_ops_report_free(struct vs_ops_report *r)
{
	if (!r)
		return;
	vs_htab_free(r->procs, free);
	vs_htab_free(r->clients, free);
	vs_htab_free(r->domains, free);
	vs_htab_free(r->dbus, free);
	vs_htab_free(r->qmp, free);
	vs_htab_free(r->workers, free);
	vs_htab_free(r->keepalives, free);
	vs_htab_free(r->open_rpcs, free);
	free(r->calls);
	free(r->waits);
	free(r);
}

struct vs_consumer *vs_ops_report_consumer(struct vs_ops_report *r)
{
	return &r->consumer;
}

/* ---- writing ---- */

/* The rows of h, busiest (most total time) first. */
static size_t sorted_rows(struct vs_htab *h, struct latency_row ***out)
{
	size_t n = vs_htab_count(h), pos = 0, i = 0;
	struct latency_row **rows = calloc(n ? n : 1, sizeof(*rows));
	void *val;

	*out = rows;
	if (!rows)
		return 0;
	while (vs_htab_next(h, &pos, NULL, NULL, &val))
		rows[i++] = val;
	for (size_t a = 1; a < i; a++) /* insertion sort: tables are short */
		for (size_t b = a; b > 0 && rows[b]->total.sum > rows[b - 1]->total.sum; b--) {
			struct latency_row *t = rows[b];

			rows[b] = rows[b - 1];
			rows[b - 1] = t;
		}
	return i;
}

static void latency_cols(FILE *out, const struct latency_row *row)
{
	char p50[24], p99[24], max[24], avg[24];

	vs_fmt_ns(p50, sizeof(p50), vs_hist_percentile(&row->total, 0.5));
	vs_fmt_ns(p99, sizeof(p99), vs_hist_percentile(&row->total, 0.99));
	vs_fmt_ns(max, sizeof(max), row->total.max);
	vs_fmt_ns(avg, sizeof(avg), row->calls ? row->total.sum / row->calls : 0);
	fprintf(out, " %8" PRIu64 " %6" PRIu64 " %12s %12s %12s %12s", row->calls, row->errors, p50,
		p99, max, avg);
}

static void write_procs(struct vs_ops_report *r, FILE *out, unsigned int rows_max)
{
	struct latency_row **rows;
	size_t n = sorted_rows(r->procs, &rows);
	char qp50[24], qmax[24], svc[24];
	uint64_t inflight = vs_htab_count(r->open_rpcs);

	fprintf(out, "RPC procedures (%zu), %" PRIu64 " in flight at the end:\n", n, inflight);
	fprintf(out, "  %-36s %8s %6s %12s %12s %12s %12s %12s %12s %12s\n", "PROCEDURE", "CALLS",
		"ERRORS", "P50", "P99", "MAX", "AVG", "QUEUE P50", "QUEUE MAX", "SERVICE AVG");
	for (size_t i = 0; i < n && i < rows_max; i++) {
		fprintf(out, "  %-36.36s", rows[i]->name);
		latency_cols(out, rows[i]);
		vs_fmt_ns(qp50, sizeof(qp50), vs_hist_percentile(&rows[i]->queue, 0.5));
		vs_fmt_ns(qmax, sizeof(qmax), rows[i]->queue.max);
		vs_fmt_ns(svc, sizeof(svc), rows[i]->calls ? rows[i]->service_ns / rows[i]->calls : 0);
		fprintf(out, " %12s %12s %12s\n", qp50, qmax, svc);
	}
	free(rows);
}

static void write_simple(FILE *out, struct vs_htab *h, const char *title, const char *col,
			 unsigned int rows_max, int with_queue)
{
	struct latency_row **rows;
	size_t n = sorted_rows(h, &rows);
	char q[24];

	fprintf(out, "\n%s (%zu):\n", title, n);
	fprintf(out, "  %-36s %8s %6s %12s %12s %12s %12s%s\n", col, "CALLS", "ERRORS", "P50", "P99",
		"MAX", "AVG", with_queue ? "    QUEUE MAX" : "");
	for (size_t i = 0; i < n && i < rows_max; i++) {
		fprintf(out, "  %-36.36s", rows[i]->name);
		latency_cols(out, rows[i]);
		if (with_queue) {
			vs_fmt_ns(q, sizeof(q), rows[i]->queue.max);
			fprintf(out, " %12s", q);
		}
		fputc('\n', out);
	}
	free(rows);
}

static void write_workers(struct vs_ops_report *r, FILE *out, const struct vs_profile *p,
			  uint64_t interval_ns)
{
	uint64_t calls = 0, busy = 0, prio_calls = 0, prio_busy = 0, n = 0, nprio = 0;
	size_t pos = 0;
	void *val;

	while (vs_htab_next(r->workers, &pos, NULL, NULL, &val)) {
		const struct worker_row *w = val;
		const char *role = p ? vs_profile_role_of(p, w->comm) : NULL;

		if (role && strstr(role, "priority")) {
			nprio++;
			prio_calls += w->calls;
			prio_busy += w->busy_ns;
		} else {
			n++;
			calls += w->calls;
			busy += w->busy_ns;
		}
	}
	fprintf(out, "\nWorker pool: %" PRIu64 " workers served %" PRIu64
		" calls, busy %.1f %% of the time; %" PRIu64 " priority workers served %" PRIu64
		" calls (%.1f %% of all), busy %.1f %%\n",
		n, calls, interval_ns && n ? 100.0 * (double)busy / ((double)interval_ns * (double)n) : 0,
		nprio, prio_calls,
		calls + prio_calls ? 100.0 * (double)prio_calls / (double)(calls + prio_calls) : 0,
		interval_ns && nprio ? 100.0 * (double)prio_busy / ((double)interval_ns * (double)nprio)
				     : 0);
}

static void print_stack(FILE *out, const struct vs_stacks *stacks, struct vs_symbolizer *sym,
			vs_stack_id id, uint32_t pid, unsigned int max)
{
	const struct vs_stack *st = vs_stacks_get(stacks, id);

	if (!st || !st->nr_user)
		return;
	fputs("      caller: ", out);
	for (unsigned int i = 0; i < st->nr_user && i < max; i++)
		fprintf(out, "%s%s", i ? " <- " : "",
			vs_symbolize_user(sym, pid, vs_stack_lookup_ip(st->ips + st->nr_kernel, i)));
	fputc('\n', out);
}

static void write_dbus(struct vs_ops_report *r, FILE *out, const struct vs_stacks *stacks,
		       struct vs_symbolizer *sym, unsigned int rows_max)
{
	struct latency_row **rows;
	size_t n;

	join_locks(r);
	n = sorted_rows(r->dbus, &rows);
	fprintf(out, "\nD-Bus method calls (%zu):\n", n);
	fprintf(out, "  %-76s %8s %6s %12s %12s %12s %8s %9s\n", "BUS INTERFACE.METHOD", "CALLS",
		"ERRORS", "P50", "P99", "MAX", "TIMEOUT", "TIMED OUT");
	for (size_t i = 0; i < n && i < rows_max; i++) {
		const struct latency_row *row = rows[i];
		char p50[24], p99[24], max[24];

		vs_fmt_ns(p50, sizeof(p50), vs_hist_percentile(&row->total, 0.5));
		vs_fmt_ns(p99, sizeof(p99), vs_hist_percentile(&row->total, 0.99));
		vs_fmt_ns(max, sizeof(max), row->total.max);
		fprintf(out, "  %-76s %8" PRIu64 " %6" PRIu64 " %12s %12s %12s %6" PRIu64 "ms %9" PRIu64
			     "\n",
			row->name, row->calls, row->errors, p50, p99, max, row->timeout_ms,
			row->timeouts);
		write_decades(out, row);
		if (vs_ops_bimodal(row->fast, row->middle, row->timeouts))
			fprintf(out, "      !! either fast (%" PRIu64 " calls under %.0f %% of the timeout) or "
				     "the whole timeout (%" PRIu64 "), nothing in between\n",
				row->fast, FAST_SHARE * 100, row->timeouts);
		else if (row->timeouts)
			fprintf(out, "      !! %" PRIu64 " call%s ran into the %" PRIu64 " ms timeout\n",
				row->timeouts, row->timeouts == 1 ? "" : "s", row->timeout_ms);
		if (row->locks[0])
			fprintf(out, "      held across the call, and waited for: %s\n", row->locks);
		print_stack(out, stacks, sym, row->stack, row->pid, 8);
	}
	free(rows);
}

static void write_keepalives(struct vs_ops_report *r, FILE *out)
{
	size_t pos = 0;
	void *val;

	fprintf(out, "\nKeepalives (%zu clients):\n", vs_htab_count(r->keepalives));
	fprintf(out, "  %-18s %8s %8s %8s %8s %14s %8s %10s\n", "CLIENT", "PINGS IN", "PONGS OUT",
		"PINGS OUT", "PONGS IN", "ANSWER MAX", "TIMEOUTS", "MAX IDLE");
	while (vs_htab_next(r->keepalives, &pos, NULL, NULL, &val)) {
		const struct keepalive_row *k = val;
		char ans[24];

		vs_fmt_ns(ans, sizeof(ans), k->answer.count ? k->answer.max : 0);
		fprintf(out, "  0x%-16" PRIx64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			     " %14s %8" PRIu64 " %8" PRId64 " s\n",
			k->client, k->pings_in, k->pongs_out, k->pings_out, k->pongs_in, ans,
			k->timeouts, k->max_idle_s);
	}
}

void vs_ops_report_write(struct vs_ops_report *r, FILE *out, const struct vs_stacks *stacks,
			 struct vs_symbolizer *sym, const struct vs_profile *p,
			 uint64_t interval_ns, unsigned int rows)
{
	write_procs(r, out, rows);
	write_simple(out, r->domains, "RPC calls per domain", "DOMAIN", rows, 1);
	write_simple(out, r->clients, "RPC calls per client", "CLIENT", rows, 0);
	write_workers(r, out, p, interval_ns);
	write_dbus(r, out, stacks, sym, rows);
	write_simple(out, r->qmp, "QEMU monitor commands", "COMMAND DOMAIN", rows, 0);
	write_keepalives(r, out);
	if (r->lost)
		write_lost(r, out);
}
