/* The fork report (see fork_report.h). Events are kept as small copies
 * (strings interned) and joined once at the end: per thread, a fork falls
 * in the intervals of the spans and jobs around its entry time. */
#include "fork_report.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"

enum ivl_kind { IVL_OP, IVL_JOB, IVL_FUNC, IVL_CAPS };

struct ivl {
	uint32_t tid;
	enum ivl_kind kind;
	uint64_t start, end;
	const char *name;
};

struct job {
	uint32_t tid;
	uint64_t ts;
	const char *name; /* NULL: the job ended */
};

struct fork_ev {
	uint32_t pid, tid, child;
	char comm[VS_COMM_LEN];
	uint64_t ts, dur, created;
	vs_stack_id stack;
	/* joined */
	const char *op, *func, *program;
	int in_caps;
	uint64_t to_exec_ns, exec_ts;
	int exited;
	int32_t status;
	uint64_t lifetime_ns;
	size_t path;
};

struct proc_ev {
	uint32_t pid, root;
	uint64_t ts, end; /* creation, exec or exit */
	const char *filename;
	int32_t status;
};

#define ARRAY(type) struct { type *v; size_t n, cap; }

struct vs_fork_report {
	struct vs_consumer consumer;
	ARRAY(char *) strings;
	ARRAY(struct ivl) ivls;
	ARRAY(struct job) jobs;
	ARRAY(struct fork_ev) forks;
	ARRAY(struct proc_ev) execs;
	ARRAY(struct proc_ev) exits;
	ARRAY(struct vs_fork_op_row) ops;
	ARRAY(struct vs_fork_path_row) paths;
	ARRAY(struct vs_fork_exec_row) programs;
	ARRAY(struct vs_fork_orphan) orphans;
	struct vs_fork_totals totals;
	int oom;
};

/* Room for one more element of a; NULL when out of memory. */
#define PUSH(r, a) ((a).n < (a).cap || grow((void **)&(a).v, &(a).cap, sizeof(*(a).v)) == 0 \
			    ? memset(&(a).v[(a).n++], 0, sizeof(*(a).v)) : ((r)->oom = 1, NULL))

static int grow(void **v, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = realloc(*v, ncap * size);

	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/* One copy of each distinct string, alive as long as the report. */
static const char *intern(struct vs_fork_report *r, const char *s)
{
	char **slot;

	if (!s)
		return NULL;
	for (size_t i = 0; i < r->strings.n; i++)
		if (!strcmp(r->strings.v[i], s))
			return r->strings.v[i];
	slot = PUSH(r, r->strings);
	if (!slot)
		return NULL;
	*slot = strdup(s);
	if (!*slot) {
		r->strings.n--;
		r->oom = 1;
	}
	return *slot;
}

void vs_fork_op_name(const char *job, char *out, size_t outlen)
{
	const char *d = strstr(job, "Dispatch");
	size_t o = 0;

	if (!outlen)
		return;
	if (!d || !isupper((unsigned char)d[8])) {
		snprintf(out, outlen, "%s", job);
		return;
	}
	job = d + 8;
	for (size_t i = 0; job[i] && o + 2 < outlen; i++) {
		unsigned char c = (unsigned char)job[i], p = i ? (unsigned char)job[i - 1] : 0,
			      n = (unsigned char)job[i + 1];

		/* a word starts at an upper-case letter after a lower-case one or
		 * a digit, or at the last capital of an acronym ("XMLDesc") */
		if (i && isupper(c) && (islower(p) || isdigit(p) || (isupper(p) && islower(n))))
			out[o++] = '_';
		out[o++] = (char)toupper(c);
	}
	out[o] = '\0';
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_fork_report *r = (struct vs_fork_report *)self;

	switch (ev->kind) {
	case VS_EV_THREAD_JOB: {
		struct job *j = PUSH(r, r->jobs);
		char name[128];

		if (!j)
			return;
		j->tid = ev->tid;
		j->ts = ev->ts_ns;
		if (ev->job.name && ev->job.name[0]) {
			vs_fork_op_name(ev->job.name, name, sizeof(name));
			j->name = intern(r, name);
		}
		break;
	}
	case VS_EV_SPAN_END: {
		enum vs_span_kind k = ev->span.kind;
		struct ivl *v;

		if (k != VS_SPAN_RPC && k != VS_SPAN_OPERATION && k != VS_SPAN_FUNCTION &&
		    k != VS_SPAN_CAPS_LOOKUP)
			return;
		v = PUSH(r, r->ivls);
		if (!v)
			return;
		v->tid = ev->tid;
		v->kind = k == VS_SPAN_FUNCTION ? IVL_FUNC : k == VS_SPAN_CAPS_LOOKUP ? IVL_CAPS : IVL_OP;
		v->start = ev->ts_ns;
		v->end = ev->ts_ns + ev->dur_ns;
		v->name = intern(r, ev->span.name ? ev->span.name : "?");
		break;
	}
	case VS_EV_FORK: {
		struct fork_ev *f = PUSH(r, r->forks);

		if (!f)
			return;
		f->pid = ev->pid;
		f->tid = ev->tid;
		f->child = ev->fork.child_pid;
		memcpy(f->comm, ev->comm, sizeof(f->comm));
		f->ts = ev->ts_ns;
		f->dur = ev->dur_ns;
		f->created = ev->fork.created_ns;
		f->stack = ev->stack;
		break;
	}
	case VS_EV_EXEC:
	case VS_EV_EXIT: {
		struct proc_ev *p;

		/* only the forks collector's, which carry the lineage */
		if (!(ev->kind == VS_EV_EXEC ? ev->exec.root : ev->exit.root))
			return;
		p = ev->kind == VS_EV_EXEC ? PUSH(r, r->execs) : PUSH(r, r->exits);
		if (!p)
			return;
		p->pid = ev->pid;
		p->ts = ev->ts_ns;
		p->end = ev->ts_ns + ev->dur_ns;
		if (ev->kind == VS_EV_EXEC) {
			p->root = ev->exec.root;
			p->filename = intern(r, ev->exec.filename ? ev->exec.filename : "?");
		} else {
			p->root = ev->exit.root;
			p->status = ev->exit.status;
		}
		break;
	}
	default:
		break;
	}
}

struct vs_fork_report *vs_fork_report_new(void)
{
	struct vs_fork_report *r = calloc(1, sizeof(*r));

	if (r)
		r->consumer.event = on_event;
	return r;
}

struct vs_consumer *vs_fork_report_consumer(struct vs_fork_report *r)
{
	return &r->consumer;
}

void vs_fork_report_free(struct vs_fork_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->strings.n; i++)
		free(r->strings.v[i]);
	for (size_t i = 0; i < r->paths.n; i++)
		free(r->paths.v[i].path);
	free(r->strings.v);
	free(r->ivls.v);
	free(r->jobs.v);
	free(r->forks.v);
	free(r->execs.v);
	free(r->exits.v);
	free(r->ops.v);
	free(r->paths.v);
	free(r->programs.v);
	free(r->orphans.v);
	free(r);
}

/* ---- joining ---- */

static int cmp_job(const void *a, const void *b)
{
	const struct job *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* A job lasts from its announcement to the thread's next one. */
static void jobs_to_intervals(struct vs_fork_report *r)
{
	if (r->jobs.n)
		qsort(r->jobs.v, r->jobs.n, sizeof(*r->jobs.v), cmp_job);
	for (size_t i = 0; i < r->jobs.n; i++) {
		const struct job *j = &r->jobs.v[i];
		struct ivl *v;

		if (!j->name)
			continue;
		v = PUSH(r, r->ivls);
		if (!v)
			return;
		v->tid = j->tid;
		v->kind = IVL_JOB;
		v->start = j->ts;
		v->end = i + 1 < r->jobs.n && r->jobs.v[i + 1].tid == j->tid ? r->jobs.v[i + 1].ts
									   : UINT64_MAX;
		v->name = j->name;
	}
}

/* The innermost interval of a kind around ts on tid, or NULL. */
static const struct ivl *around(const struct vs_fork_report *r, enum ivl_kind kind, uint32_t tid,
				uint64_t ts)
{
	const struct ivl *best = NULL;

	for (size_t i = 0; i < r->ivls.n; i++) {
		const struct ivl *v = &r->ivls.v[i];

		if (v->kind == kind && v->tid == tid && v->start <= ts && ts <= v->end &&
		    (!best || v->start > best->start))
			best = v;
	}
	return best;
}

static const char *op_at(const struct vs_fork_report *r, uint32_t tid, uint64_t ts)
{
	const struct ivl *v = around(r, IVL_OP, tid, ts);

	if (!v)
		v = around(r, IVL_JOB, tid, ts);
	return v ? v->name : VS_FORK_NO_OP;
}

static struct vs_fork_op_row *op_row(struct vs_fork_report *r, const char *name)
{
	struct vs_fork_op_row *row;

	for (size_t i = 0; i < r->ops.n; i++)
		if (r->ops.v[i].name == name)
			return &r->ops.v[i];
	row = PUSH(r, r->ops);
	if (row)
		row->name = (char *)name;
	return row;
}

/* The child's fate: the first exec in its line, and its own exit. */
static void join_fate(struct vs_fork_report *r, struct fork_ev *f)
{
	const struct proc_ev *first = NULL;

	if (!f->child)
		return;
	for (size_t i = 0; i < r->execs.n; i++) {
		const struct proc_ev *e = &r->execs.v[i];

		if (e->root == f->child && (!first || e->end < first->end))
			first = e;
	}
	if (first) {
		f->program = first->filename;
		f->exec_ts = first->end;
		f->to_exec_ns = f->created && first->end > f->created ? first->end - f->created : 0;
	}
	for (size_t i = 0; i < r->exits.n; i++) {
		const struct proc_ev *e = &r->exits.v[i];

		if (e->pid == f->child) {
			f->exited = 1;
			f->status = e->status;
			f->lifetime_ns = e->end - e->ts;
		}
	}
}

static void join_forks(struct vs_fork_report *r)
{
	for (size_t i = 0; i < r->forks.n; i++) {
		struct fork_ev *f = &r->forks.v[i];
		const struct ivl *fn = around(r, IVL_FUNC, f->tid, f->ts);
		struct vs_fork_op_row *row;

		f->op = op_at(r, f->tid, f->ts);
		f->func = fn ? fn->name : NULL;
		f->in_caps = around(r, IVL_CAPS, f->tid, f->ts) != NULL;
		join_fate(r, f);
		row = op_row(r, f->op);
		if (!row)
			return;
		row->forks++;
		row->forks_timed += f->dur != 0;
		row->fork_ns += f->dur;
		row->caps_forks += f->in_caps;
		if (f->program) {
			row->execs++;
			row->to_exec_ns += f->to_exec_ns;
		}
		r->totals.forks++;
		r->totals.forks_timed += f->dur != 0;
		r->totals.fork_ns += f->dur;
		r->totals.failed += !f->child;
		r->totals.execs += f->program != NULL;
		r->totals.caps_forks += f->in_caps;
	}
}

static void count_ops_and_caps(struct vs_fork_report *r)
{
	for (size_t i = 0; i < r->ivls.n; i++) {
		const struct ivl *v = &r->ivls.v[i];
		struct vs_fork_op_row *row;

		if (v->kind == IVL_OP || v->kind == IVL_JOB) {
			/* a job announced inside an operation span is that operation */
			if (v->kind == IVL_JOB && around(r, IVL_OP, v->tid, v->start))
				continue;
			row = op_row(r, v->name);
			if (row)
				row->ops++;
		} else if (v->kind == IVL_CAPS) {
			row = op_row(r, op_at(r, v->tid, v->start));
			if (!row)
				continue;
			row->caps++;
			row->caps_ns += v->end - v->start;
			r->totals.caps++;
			r->totals.caps_ns += v->end - v->start;
		}
	}
}

/* ---- tables ---- */

static size_t path_row(struct vs_fork_report *r, const struct fork_ev *f, vs_fork_path_fn path,
		       void *arg)
{
	char *name = f->stack && path ? path(f->stack, arg) : NULL;
	struct vs_fork_path_row *row;

	if (!name)
		name = strdup("(no stack)");
	if (!name) {
		r->oom = 1;
		return SIZE_MAX;
	}
	for (size_t i = 0; i < r->paths.n; i++)
		if (!strcmp(r->paths.v[i].path, name)) {
			free(name);
			return i;
		}
	row = PUSH(r, r->paths);
	if (!row) {
		free(name);
		return SIZE_MAX;
	}
	row->path = name;
	row->stack = f->stack;
	return r->paths.n - 1;
}

/* The value of field most common among the forks of path row p. */
static const char *mode(const struct vs_fork_report *r, size_t p, size_t field_off)
{
	const char *best = NULL;
	size_t best_n = 0;

	for (size_t i = 0; i < r->forks.n; i++) {
		const char *v = *(const char *const *)((const char *)&r->forks.v[i] + field_off);
		size_t n = 0;

		if (r->forks.v[i].path != p || !v)
			continue;
		for (size_t j = 0; j < r->forks.n; j++)
			n += r->forks.v[j].path == p &&
			     *(const char *const *)((const char *)&r->forks.v[j] + field_off) == v;
		if (n > best_n) {
			best = v;
			best_n = n;
		}
	}
	return best;
}

static void build_paths(struct vs_fork_report *r, vs_fork_path_fn path, void *arg)
{
	for (size_t i = 0; i < r->forks.n; i++) {
		struct fork_ev *f = &r->forks.v[i];
		struct vs_fork_path_row *row;

		f->path = path_row(r, f, path, arg);
		if (f->path == SIZE_MAX)
			return;
		row = &r->paths.v[f->path];
		row->forks++;
		row->forks_timed += f->dur != 0;
		row->fork_ns += f->dur;
		if (f->dur > row->fork_max_ns)
			row->fork_max_ns = f->dur;
	}
	for (size_t p = 0; p < r->paths.n; p++) {
		r->paths.v[p].op = (char *)mode(r, p, offsetof(struct fork_ev, op));
		r->paths.v[p].func = (char *)mode(r, p, offsetof(struct fork_ev, func));
		r->paths.v[p].program = (char *)mode(r, p, offsetof(struct fork_ev, program));
	}
}

static const struct fork_ev *fork_of_child(const struct vs_fork_report *r, uint32_t child)
{
	for (size_t i = 0; i < r->forks.n; i++)
		if (r->forks.v[i].child == child)
			return &r->forks.v[i];
	return NULL;
}

static void build_programs(struct vs_fork_report *r)
{
	for (size_t i = 0; i < r->execs.n; i++) {
		const struct proc_ev *e = &r->execs.v[i];
		const struct fork_ev *f = fork_of_child(r, e->root);
		struct vs_fork_exec_row *row = NULL;
		uint64_t since = f && f->created ? f->created : e->ts;
		uint64_t d = e->end > since ? e->end - since : 0;

		for (size_t j = 0; j < r->programs.n && !row; j++)
			if (r->programs.v[j].program == e->filename)
				row = &r->programs.v[j];
		if (!row) {
			row = PUSH(r, r->programs);
			if (!row)
				return;
			row->program = (char *)e->filename;
			row->op = f ? (char *)f->op : NULL;
			row->func = f ? (char *)f->func : NULL;
		}
		row->count++;
		row->to_exec_ns += d;
		if (d > row->to_exec_max_ns)
			row->to_exec_max_ns = d;
	}
}

static void build_orphans(struct vs_fork_report *r)
{
	for (size_t i = 0; i < r->forks.n; i++) {
		const struct fork_ev *f = &r->forks.v[i];
		struct vs_fork_orphan *o;

		if (!f->child || f->program)
			continue;
		o = PUSH(r, r->orphans);
		if (!o)
			return;
		o->pid = f->child;
		o->tid = f->tid;
		memcpy(o->comm, f->comm, sizeof(o->comm));
		o->op = (char *)f->op;
		o->func = (char *)f->func;
		o->stack = f->stack;
		o->exited = f->exited;
		o->status = f->status;
		o->lifetime_ns = f->lifetime_ns;
		o->fork_ns = f->dur;
	}
}

static int cmp_op(const void *a, const void *b)
{
	const struct vs_fork_op_row *x = a, *y = b;

	if (x->forks != y->forks)
		return x->forks > y->forks ? -1 : 1;
	if (x->ops != y->ops)
		return x->ops > y->ops ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_path(const void *a, const void *b)
{
	const struct vs_fork_path_row *x = a, *y = b;

	if (x->forks != y->forks)
		return x->forks > y->forks ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int cmp_program(const void *a, const void *b)
{
	const struct vs_fork_exec_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->program, y->program);
}

int vs_fork_report_finish(struct vs_fork_report *r, vs_fork_path_fn path, void *arg)
{
	jobs_to_intervals(r);
	join_forks(r);
	count_ops_and_caps(r);
	build_paths(r, path, arg);
	build_programs(r);
	build_orphans(r);
	if (r->oom)
		return -ENOMEM;
	/* qsort must not be given NULL, even with nothing to sort */
	if (r->ops.n)
		qsort(r->ops.v, r->ops.n, sizeof(*r->ops.v), cmp_op);
	if (r->paths.n)
		qsort(r->paths.v, r->paths.n, sizeof(*r->paths.v), cmp_path);
	if (r->programs.n)
		qsort(r->programs.v, r->programs.n, sizeof(*r->programs.v), cmp_program);
	return 0;
}

size_t vs_fork_report_ops(const struct vs_fork_report *r, const struct vs_fork_op_row **rows)
{
	*rows = r->ops.v;
	return r->ops.n;
}

size_t vs_fork_report_paths(const struct vs_fork_report *r, const struct vs_fork_path_row **rows)
{
	*rows = r->paths.v;
	return r->paths.n;
}

size_t vs_fork_report_execs(const struct vs_fork_report *r, const struct vs_fork_exec_row **rows)
{
	*rows = r->programs.v;
	return r->programs.n;
}

size_t vs_fork_report_orphans(const struct vs_fork_report *r, const struct vs_fork_orphan **rows)
{
	*rows = r->orphans.v;
	return r->orphans.n;
}

void vs_fork_report_totals(const struct vs_fork_report *r, struct vs_fork_totals *t)
{
	*t = r->totals;
}
