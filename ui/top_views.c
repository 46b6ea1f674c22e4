/* The views as tables (see top_views.h): one builder per view, then the
 * sorting, filtering and line formatting they share. */
#include "top_views.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/htab.h"
#include "../lib/util.h"

static const struct vs_top_column thread_cols[] = {
	{ "TID", "tid", 7, 0 },
	{ "NAME", "name", 15, 1 },
	{ "ROLE", "role", 9, 1 },
	{ "CPU%", "cpu_pct", 5, 0 },
	{ "OFF-CPU", "offcpu", 10, 1 },
	{ "NOW", "now", 0, 1 },
};
enum { TH_TID, TH_NAME, TH_ROLE, TH_CPU, TH_OFF, TH_NOW };

static const struct vs_top_column domain_cols[] = {
	{ "DOMAIN", "domain", 12, 1 },
	{ "WAITS", "lock_waits", 5, 0 },
	{ "WAITms", "lock_wait_ms", 7, 0 },
	{ "MAXms", "lock_wait_max_ms", 7, 0 },
	{ "WTNG", "waiting_now", 4, 0 },
	{ "HOLDER", "holder_tid", 7, 0 },
	{ "HOLD%", "lock_held_pct", 5, 0 },
	{ "HELD-s", "lock_held_s", 6, 0 },
	{ "RPCS", "rpcs_in_flight", 4, 0 },
	{ "AGE-s", "oldest_rpc_s", 5, 0 },
	{ "RPC/s", "rpcs_per_s", 5, 0 },
	{ "QMPms", "last_qmp_ms", 6, 0 },
	{ "LAST-OP", "last_op", 0, 1 },
};

static const struct vs_top_column lock_cols[] = {
	{ "LOCK", "lock", 22, 1 },
	{ "WAITS", "waits", 5, 0 },
	{ "WAITms", "wait_ms", 7, 0 },
	{ "AVGms", "avg_ms", 6, 0 },
	{ "MAXms", "max_ms", 7, 0 },
	{ "ALL-N", "waits_total", 7, 0 },
	{ "ALL-s", "wait_s_total", 7, 0 },
	{ "WTNG", "waiting_now", 4, 0 },
	{ "HOLDER", "holder_tid", 0, 0 },
};

static const struct vs_top_column rpc_cols[] = {
	{ "PROCEDURE", "procedure", 22, 1 },
	{ "CALL/s", "calls_per_s", 6, 0 },
	{ "AVGms", "avg_ms", 7, 0 },
	{ "MAXms", "max_ms", 7, 0 },
	{ "QUEms", "queue_avg_ms", 6, 0 },
	{ "ERR", "errors", 3, 0 },
	{ "INFL", "in_flight", 4, 0 },
	{ "OLD-s", "oldest_s", 5, 0 },
	{ "ALL-N", "calls_total", 7, 0 },
	{ "ALLms", "avg_ms_total", 0, 0 },
};

static const struct vs_top_column dbus_cols[] = {
	{ "METHOD", "method", 34, 1 },
	{ "CALLS", "calls", 5, 0 },
	{ "AVGms", "avg_ms", 7, 0 },
	{ "MAXms", "max_ms", 7, 0 },
	{ "ERR", "errors", 3, 0 },
	{ "NOW", "in_progress", 3, 0 },
	{ "OLD-s", "oldest_s", 5, 0 },
	{ "ALL-N", "calls_total", 6, 0 },
	{ "ALLMAX", "max_ms_total", 0, 0 },
};

static const struct vs_top_column fork_cols[] = {
	{ "OPERATION", "operation", 28, 1 },
	{ "FORKS", "forks", 5, 0 },
	{ "FORK/s", "forks_per_s", 6, 0 },
	{ "ms/FORK", "ms_per_fork", 7, 0 },
	{ "ALL-N", "forks_total", 7, 0 },
	{ "ALLms", "fork_ms_total", 8, 0 },
	{ "FAIL", "failed_total", 0, 0 },
};

static const struct vs_top_column stall_cols[] = {
	{ "AGO-s", "ago_s", 6, 0 },
	{ "KIND", "kind", 5, 1 },
	{ "TID", "tid", 7, 0 },
	{ "DURms", "dur_ms", 7, 0 },
	{ "WHAT", "what", 0, 1 },
};

static const struct {
	const char *name, *title;
	const struct vs_top_column *cols;
	int ncols, sort;
} views[VS_TOP_NR_VIEWS] = {
	[VS_TOP_THREADS] = { "threads", "Threads", thread_cols, VS_ARRAY_SIZE(thread_cols), TH_CPU },
	[VS_TOP_DOMAINS] = { "domains", "Domains", domain_cols, VS_ARRAY_SIZE(domain_cols), 2 },
	[VS_TOP_LOCKS] = { "locks", "Locks", lock_cols, VS_ARRAY_SIZE(lock_cols), 2 },
	[VS_TOP_RPC] = { "rpc", "RPC procedures", rpc_cols, VS_ARRAY_SIZE(rpc_cols), 1 },
	[VS_TOP_DBUS] = { "dbus", "D-Bus methods", dbus_cols, VS_ARRAY_SIZE(dbus_cols), 1 },
	[VS_TOP_FORKS] = { "forks", "Forks", fork_cols, VS_ARRAY_SIZE(fork_cols), 1 },
	[VS_TOP_STALLS] = { "stalls", "Stalls", stall_cols, VS_ARRAY_SIZE(stall_cols), 0 },
};

const char *vs_top_view_name(enum vs_top_view v)
{
	return views[v].name;
}

const char *vs_top_view_title(enum vs_top_view v)
{
	return views[v].title;
}

int vs_top_view_find(const char *name)
{
	for (int v = 0; v < VS_TOP_NR_VIEWS; v++)
		if (!strcmp(views[v].name, name))
			return v;
	return -1;
}

int vs_top_view_default_sort(enum vs_top_view v)
{
	return views[v].sort;
}

/* ---- cells ---- */

static void __attribute__((format(printf, 2, 3))) text(struct vs_top_cell *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	c->has_num = 0;
	c->num = NAN;
}

/* A figure shown with fmt ("%.1f"); "-" when unknown (NaN). */
static void num(struct vs_top_cell *c, double v, const char *fmt)
{
	c->has_num = 1;
	c->num = v;
	if (isnan(v))
		snprintf(c->text, sizeof(c->text), "-");
	else
		snprintf(c->text, sizeof(c->text), fmt, v);
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double avg_ms(const struct vs_top_stat *s)
{
	return s->count ? (double)s->sum_ns / (double)s->count / 1e6 : NAN;
}

static double age_s(const struct vs_top_model *m, uint64_t since)
{
	return since && m->last_tick_ns > since ? (double)(m->last_tick_ns - since) / 1e9
						: since ? 0 : NAN;
}

static double per_s(const struct vs_top_model *m, uint64_t count)
{
	return m->hdr.interval_s > 0 ? (double)count / m->hdr.interval_s : NAN;
}

static struct vs_top_row *add_row(struct vs_top_table *t)
{
	struct vs_top_row *r;

	if (t->nr == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct vs_top_row *rows = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		memset(rows + t->cap, 0, (cap - t->cap) * sizeof(*rows));
		t->rows = rows;
		t->cap = cap;
	}
	r = &t->rows[t->nr];
	/* Cells are sized for any view: tables are reused across views. */
	if (!r->cells && !(r->cells = malloc(VS_TOP_MAX_COLS * sizeof(*r->cells))))
		return NULL;
	r->tid = 0;
	r->stack = 0;
	t->nr++;
	return r;
}

/* ---- the views ---- */

static void offcpu_cell(struct vs_top_cell *c, const struct vs_top_model *m,
			const struct vs_top_thread *th)
{
	uint64_t total = 0, best = 0;
	int best_r = -1;

	for (int r = 0; r < VS_OFFCPU_NR_REASONS; r++) {
		total += th->off_last[r];
		if (th->off_last[r] > best) {
			best = th->off_last[r];
			best_r = r;
		}
	}
	/* A poll inside a D-Bus call is the call's wait. */
	if (best_r == VS_OFFCPU_POLL && th->dbus[0])
		best_r = VS_OFFCPU_DBUS;
	if (!th->have_off || best_r < 0 || !m->interval_ns) {
		num(c, th->have_off ? 0 : NAN, "%.0f");
		if (th->have_off)
			text(c, "-");
		c->has_num = 1;
		c->num = 0;
		return;
	}
	snprintf(c->text, sizeof(c->text), "%s %.0f%%", vs_offcpu_reason_name((uint32_t)best_r),
		 100.0 * (double)best / (double)m->interval_ns);
	c->has_num = 1;
	c->num = ms(total);
}

/* What a thread is doing now, and since when (its sort key). A long one is
 * cut at the cell's end: its start says most. */
static void now_cell(struct vs_top_cell *c, const struct vs_top_model *m,
		     const struct vs_top_thread *th)
{
	char job[128] = "";
	uint64_t since = 0;

	if (th->job[0])
		snprintf(job, sizeof(job), "%s%s%s", th->job, th->domain[0] ? " " : "", th->domain);
	if (th->wait_lock[0]) {
		since = th->wait_since;
		text(c, "wait %.60s %.1fs <- %u%s%.40s%s%.40s", th->wait_lock,
			 age_s(m, since), th->wait_owner, th->wait_owner_job[0] ? " " : "",
			 th->wait_owner_job, job[0] ? " | " : "", job);
	} else if (th->dbus[0]) {
		since = th->dbus_since;
		text(c, "%s%sD-Bus %s %.1fs", job, job[0] ? ": " : "",
			 th->dbus, age_s(m, since));
	} else if (th->qmp[0]) {
		since = th->qmp_since;
		text(c, "%s%sQMP %s %.1fs", job, job[0] ? ": " : "",
			 th->qmp, age_s(m, since));
	} else if (job[0]) {
		since = th->job_since;
		text(c, "%s %.1fs", job, age_s(m, since));
	} else {
		text(c, "%s", th->state == 'R' ? "running" : "-");
	}
	c->has_num = 1;
	c->num = since ? age_s(m, since) : 0;
}

static int build_threads(struct vs_top_table *t, const struct vs_top_model *m)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(m->threads, &pos, NULL, NULL, &val)) {
		const struct vs_top_thread *th = val;
		struct vs_top_row *r;

		if (th->seen != m->tick)
			continue;
		if (!(r = add_row(t)))
			return -ENOMEM;
		r->tid = th->tid;
		r->stack = th->last_stack;
		num(&r->cells[TH_TID], th->tid, "%.0f");
		text(&r->cells[TH_NAME], "%s", th->comm);
		text(&r->cells[TH_ROLE], "%s", th->role ? th->role : "-");
		num(&r->cells[TH_CPU], th->cpu_pct, "%.1f");
		offcpu_cell(&r->cells[TH_OFF], m, th);
		now_cell(&r->cells[TH_NOW], m, th);
	}
	return 0;
}

static int build_domains(struct vs_top_table *t, const struct vs_top_model *m)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(m->domains, &pos, NULL, NULL, &val)) {
		const struct vs_top_domain *d = val;
		struct vs_top_row *r;
		struct vs_top_cell *c;

		if (!(r = add_row(t)))
			return -ENOMEM;
		c = r->cells;
		r->tid = d->holder_now;
		text(&c[0], "%s", d->name);
		num(&c[1], (double)d->lock_wait.last.count, "%.0f");
		num(&c[2], ms(d->lock_wait.last.sum_ns), "%.1f");
		num(&c[3], d->lock_wait.cum.max_ns ? ms(d->lock_wait.cum.max_ns) : NAN, "%.1f");
		num(&c[4], d->waiting_now, "%.0f");
		num(&c[5], d->holder_now ? d->holder_now : NAN, "%.0f");
		num(&c[6], d->hold_samples ? 100.0 * (double)d->hold_held / (double)d->hold_samples
					   : NAN, "%.0f");
		num(&c[7], d->hold_owner ? age_s(m, d->held_since_ns) : NAN, "%.1f");
		num(&c[8], d->busy_now, "%.0f");
		num(&c[9], d->oldest_rpc ? age_s(m, d->oldest_rpc) : NAN, "%.1f");
		num(&c[10], per_s(m, d->rpcs.last.count), "%.1f");
		num(&c[11], d->last_qmp_ns ? ms(d->last_qmp_ns) : NAN, "%.1f");
		if (d->last_op[0])
			text(&c[12], "%s %.0fms", d->last_op, ms(d->last_op_ns));
		else
			text(&c[12], "-");
		c[12].has_num = 1;
		c[12].num = ms(d->last_op_ns);
	}
	return 0;
}

static int build_locks(struct vs_top_table *t, const struct vs_top_model *m)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(m->locks, &pos, NULL, NULL, &val)) {
		const struct vs_top_lock *l = val;
		struct vs_top_row *r;
		struct vs_top_cell *c;

		if (!(r = add_row(t)))
			return -ENOMEM;
		c = r->cells;
		r->stack = l->stack;
		r->tid = l->holder_now;
		text(&c[0], "%s", l->name);
		num(&c[1], (double)l->f.last.count, "%.0f");
		num(&c[2], ms(l->f.last.sum_ns), "%.1f");
		num(&c[3], avg_ms(&l->f.last), "%.2f");
		num(&c[4], l->f.last.count ? ms(l->f.last.max_ns) : NAN, "%.1f");
		num(&c[5], (double)l->f.cum.count, "%.0f");
		num(&c[6], (double)l->f.cum.sum_ns / 1e9, "%.2f");
		num(&c[7], l->waiters_now, "%.0f");
		num(&c[8], l->holder_now ? l->holder_now : NAN, "%.0f");
	}
	return 0;
}

static int build_entries(struct vs_top_table *t, const struct vs_top_model *m,
			 const struct vs_htab *h, enum vs_top_view v)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(h, &pos, NULL, NULL, &val)) {
		const struct vs_top_entry *e = val;
		const struct vs_top_stat *l = &e->f.last, *a = &e->f.cum;
		struct vs_top_row *r;
		struct vs_top_cell *c;

		if (!(r = add_row(t)))
			return -ENOMEM;
		c = r->cells;
		r->stack = e->stack;
		text(&c[0], "%s", e->name);
		if (v == VS_TOP_RPC) {
			num(&c[1], per_s(m, l->count), "%.1f");
			num(&c[2], avg_ms(l), "%.1f");
			num(&c[3], l->count ? ms(l->max_ns) : NAN, "%.1f");
			num(&c[4], l->count ? ms(l->queue_ns) / (double)l->count : NAN, "%.1f");
			num(&c[5], (double)l->errors, "%.0f");
			num(&c[6], e->inflight, "%.0f");
			num(&c[7], age_s(m, e->oldest_ns), "%.1f");
			num(&c[8], (double)a->count, "%.0f");
			num(&c[9], avg_ms(a), "%.1f");
		} else if (v == VS_TOP_DBUS) {
			num(&c[1], (double)l->count, "%.0f");
			num(&c[2], avg_ms(l), "%.1f");
			num(&c[3], l->count ? ms(l->max_ns) : NAN, "%.1f");
			num(&c[4], (double)l->errors, "%.0f");
			num(&c[5], e->inflight, "%.0f");
			num(&c[6], age_s(m, e->oldest_ns), "%.1f");
			num(&c[7], (double)a->count, "%.0f");
			num(&c[8], a->count ? ms(a->max_ns) : NAN, "%.1f");
		} else {
			num(&c[1], (double)l->count, "%.0f");
			num(&c[2], per_s(m, l->count), "%.1f");
			num(&c[3], avg_ms(l), "%.2f");
			num(&c[4], (double)a->count, "%.0f");
			num(&c[5], ms(a->sum_ns), "%.1f");
			num(&c[6], (double)a->errors, "%.0f");
		}
	}
	return 0;
}

static int build_stalls(struct vs_top_table *t, const struct vs_top_model *m)
{
	const struct vs_top_story *s;

	for (size_t i = 0; (s = vs_top_model_story(m, i)); i++) {
		struct vs_top_row *r = add_row(t);

		if (!r)
			return -ENOMEM;
		r->tid = s->tid;
		r->stack = s->stack;
		num(&r->cells[0], age_s(m, s->ts_ns + s->dur_ns), "%.1f");
		text(&r->cells[1], "%s", s->kind == VS_TOP_STALL ? "stall" : "chain");
		num(&r->cells[2], s->tid, "%.0f");
		num(&r->cells[3], ms(s->dur_ns), "%.0f");
		text(&r->cells[4], "%s", s->what[0] ? s->what : "(explained at the next refresh)");
	}
	return 0;
}

/* ---- filter, sort ---- */

static int row_matches(const struct vs_top_table *t, const struct vs_top_row *r, const char *f)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcasestr(r->cells[i].text, f))
			return 1;
	return 0;
}

static void filter_rows(struct vs_top_table *t, const char *f)
{
	size_t keep = 0;

	for (size_t i = 0; i < t->nr; i++) {
		if (!row_matches(t, &t->rows[i], f))
			continue;
		if (i != keep) {
			struct vs_top_row tmp = t->rows[keep];

			t->rows[keep] = t->rows[i];
			t->rows[i] = tmp; /* keeps every cells array owned once */
		}
		keep++;
	}
	t->nr = keep;
}

static int sort_col, sort_asc; /* qsort has no context argument */

static int compare_rows(const void *a, const void *b)
{
	const struct vs_top_cell *x = &((const struct vs_top_row *)a)->cells[sort_col];
	const struct vs_top_cell *y = &((const struct vs_top_row *)b)->cells[sort_col];
	int d;

	if (x->has_num && y->has_num) {
		double xv = isnan(x->num) ? -INFINITY : x->num, yv = isnan(y->num) ? -INFINITY : y->num;

		d = xv < yv ? -1 : xv > yv;
	} else {
		d = strcmp(x->text, y->text);
	}
	if (!d) /* a stable order between refreshes */
		d = strcmp(((const struct vs_top_row *)a)->cells[0].text,
			   ((const struct vs_top_row *)b)->cells[0].text);
	return sort_asc ? d : -d;
}

int vs_top_table_build(struct vs_top_table *t, const struct vs_top_model *m, enum vs_top_view v,
		       const char *filter, int col, int ascending)
{
	int rc;

	t->view = v;
	t->cols = views[v].cols;
	t->ncols = views[v].ncols;
	t->nr = 0;
	switch (v) {
	case VS_TOP_THREADS: rc = build_threads(t, m); break;
	case VS_TOP_DOMAINS: rc = build_domains(t, m); break;
	case VS_TOP_LOCKS: rc = build_locks(t, m); break;
	case VS_TOP_RPC: rc = build_entries(t, m, m->rpc, v); break;
	case VS_TOP_DBUS: rc = build_entries(t, m, m->dbus, v); break;
	case VS_TOP_FORKS: rc = build_entries(t, m, m->forks, v); break;
	case VS_TOP_STALLS: rc = build_stalls(t, m); break;
	default: rc = -EINVAL; break;
	}
	if (rc)
		return rc;
	if (filter && *filter)
		filter_rows(t, filter);
	/* Stalls stay newest first unless another column is chosen. */
	if (v == VS_TOP_STALLS && col == 0 && !ascending)
		return 0;
	sort_col = col >= 0 && col < t->ncols ? col : views[v].sort;
	sort_asc = ascending;
	qsort(t->rows, t->nr, sizeof(*t->rows), compare_rows);
	return 0;
}

void vs_top_table_release(struct vs_top_table *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->rows[i].cells);
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/* ---- lines ---- */

static size_t put(char *buf, size_t len, size_t at, const char *s, int width, int left)
{
	int n;

	if (at >= len)
		return at;
	if (width <= 0)
		n = snprintf(buf + at, len - at, "%s", s);
	else
		n = snprintf(buf + at, len - at, left ? "%-*.*s" : "%*.*s", width, width, s);
	return n < 0 ? at : at + (size_t)n;
}

static void format_cells(const struct vs_top_table *t, const char *const *texts, char *buf,
			 size_t len, int width)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < t->ncols; i++) {
		if (i)
			at = put(buf, len, at, " ", 0, 0);
		at = put(buf, len, at, texts[i], t->cols[i].width, t->cols[i].left);
	}
	if (width > 0 && (size_t)width < len)
		buf[width] = '\0';
	/* Trailing blanks help nobody, in a pane or a file. */
	for (size_t n = strlen(buf); n && buf[n - 1] == ' '; n--)
		buf[n - 1] = '\0';
}

void vs_top_format_row(const struct vs_top_table *t, const struct vs_top_cell *cells, char *buf,
		       size_t len, int width)
{
	const char *texts[16];

	for (int i = 0; i < t->ncols && i < 16; i++)
		texts[i] = cells[i].text;
	format_cells(t, texts, buf, len, width);
}

void vs_top_format_titles(const struct vs_top_table *t, char *buf, size_t len, int width)
{
	const char *texts[16];

	for (int i = 0; i < t->ncols && i < 16; i++)
		texts[i] = t->cols[i].title;
	format_cells(t, texts, buf, len, width);
}

int vs_top_column_span(const struct vs_top_table *t, int col, int *width)
{
	int x = 0;

	if (col < 0 || col >= t->ncols)
		return -1;
	for (int i = 0; i < col; i++)
		x += t->cols[i].width + 1;
	*width = t->cols[col].width > 0 ? t->cols[col].width : (int)strlen(t->cols[col].title);
	return x;
}
