/* The live view's model (see top_model.h). Events update the `cur` figures
 * and the per-thread "now"; the command's readings of /proc and of the
 * collectors' maps are folded in once per refresh; a tick closes the
 * interval. Tables are hash tables keyed by what a row is named after. */
#include "top_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../collectors/fork_report.h"
#include "../collectors/lock_report.h"
#include "../collectors/syscall_name.h"
#include "../lib/htab.h"
#include "../lib/util.h"

#define MAX_OPEN_CALLS 100000
#define MAX_ROWS 100000 /* per table: past this, new names are not tracked */
/* Domains come and go (a define-undefine loop names a new one each time):
 * past this many rows, those seen longest ago, with nothing going on now,
 * are forgotten, down to three quarters of it, so that memory stays flat. */
#define MAX_DOMAINS 4096
/* Locks too: the kernel counts up to 16384 of them (its table forgets the
 * least recent), and objects keep coming at new addresses. Each one's last
 * counts are kept compactly while the kernel counts it, so that a lock's
 * waits are never counted twice; its row (what the view shows) only while
 * it is among the MAX_LOCK_ROWS most recently waited for. */
#define MAX_LOCK_ROWS 4096

struct lock_total {
	uint64_t addr; /* key */
	uint64_t count, sum_ns;
	uint64_t tick; /* the refresh it was last read in */
};

/* A call in progress, by span kind and id. */
struct open_call {
	struct { uint32_t kind, pad; uint64_t id; } key;
	uint32_t tid;
	uint64_t ts;
	char name[VS_TOP_NAME_LEN];
};

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int vs_top_model_init(struct vs_top_model *m)
{
	memset(m, 0, sizeof(*m));
	m->chain_min_ns = 100 * VS_NSEC_PER_MSEC;
	m->threads = vs_htab_new();
	m->domains = vs_htab_new();
	m->locks = vs_htab_new();
	m->lock_totals = vs_htab_new();
	m->rpc = vs_htab_new();
	m->dbus = vs_htab_new();
	m->qmp = vs_htab_new();
	m->forks = vs_htab_new();
	m->open = vs_htab_new();
	if (!m->threads || !m->domains || !m->locks || !m->lock_totals || !m->rpc || !m->dbus || !m->qmp ||
	    !m->forks || !m->open)
		return -ENOMEM;
	return 0;
}

void vs_top_model_release(struct vs_top_model *m)
{
	vs_htab_free(m->threads, free);
	vs_htab_free(m->domains, free);
	vs_htab_free(m->locks, free);
	vs_htab_free(m->lock_totals, free);
	vs_htab_free(m->rpc, free);
	vs_htab_free(m->dbus, free);
	vs_htab_free(m->qmp, free);
	vs_htab_free(m->forks, free);
	vs_htab_free(m->open, free);
	if (m->have_roles)
		vs_profile_release(&m->roles);
	memset(m, 0, sizeof(*m));
}

void vs_top_model_status(struct vs_top_model *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->hdr.status, sizeof(m->hdr.status), fmt, ap);
	va_end(ap);
}

/* ---- rows, created on first sight ---- */

static void *row(struct vs_htab *h, const void *key, size_t keylen, size_t size, size_t keyoff)
{
	void *r = vs_htab_get(h, key, keylen);

	if (r || vs_htab_count(h) >= MAX_ROWS)
		return r;
	r = calloc(1, size);
	if (!r)
		return NULL;
	memcpy((char *)r + keyoff, key, keylen);
	if (vs_htab_put(h, (char *)r + keyoff, keylen, r, NULL)) {
		free(r);
		return NULL;
	}
	return r;
}

static struct vs_top_entry *entry(struct vs_htab *h, const char *name)
{
	char key[VS_TOP_NAME_LEN] = { 0 };

	copy(key, sizeof(key), name && *name ? name : "(unnamed)");
	return row(h, key, strlen(key) + 1, sizeof(struct vs_top_entry),
		   offsetof(struct vs_top_entry, name));
}

static struct vs_top_domain *domain(struct vs_top_model *m, const char *name)
{
	char key[64] = { 0 };
	struct vs_top_domain *d;

	if (!name || !*name)
		return NULL;
	copy(key, sizeof(key), name);
	d = row(m->domains, key, strlen(key) + 1, sizeof(*d), offsetof(struct vs_top_domain, name));
	if (d)
		d->seen = m->tick;
	return d;
}

static struct vs_top_thread *thread(struct vs_top_model *m, uint32_t tid, const char *comm)
{
	struct vs_top_thread *t = row(m->threads, &tid, sizeof(tid), sizeof(*t),
				      offsetof(struct vs_top_thread, tid));

	if (t && comm && *comm && strcmp(t->comm, comm)) {
		copy(t->comm, sizeof(t->comm), comm);
		t->role = m->have_roles ? vs_profile_role_of(&m->roles, t->comm) : NULL;
	}
	return t;
}

static void stat_add(struct vs_top_stat *s, uint64_t dur)
{
	s->count++;
	s->sum_ns += dur;
	if (dur > s->max_ns)
		s->max_ns = dur;
}

static void stat_merge(struct vs_top_stat *into, const struct vs_top_stat *s)
{
	into->count += s->count;
	into->sum_ns += s->sum_ns;
	into->queue_ns += s->queue_ns;
	into->errors += s->errors;
	if (s->max_ns > into->max_ns)
		into->max_ns = s->max_ns;
}

static void figure_close(struct vs_top_figure *f)
{
	f->last = f->cur;
	stat_merge(&f->cum, &f->cur);
	memset(&f->cur, 0, sizeof(f->cur));
}

/* ---- events ---- */

static int ours(const struct vs_top_model *m, const struct vs_event *ev)
{
	return ev->pid == m->hdr.pid;
}

static void open_call(struct vs_top_model *m, const struct vs_event *ev, const char *name)
{
	struct open_call *c, *old = NULL;

	if (vs_htab_count(m->open) >= MAX_OPEN_CALLS)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->key.kind = ev->span.kind;
	c->key.id = ev->span.id;
	c->tid = ev->tid;
	c->ts = ev->ts_ns;
	copy(c->name, sizeof(c->name), name);
	if (vs_htab_put(m->open, &c->key, sizeof(c->key), c, (void **)&old))
		free(c);
	free(old);
}

static struct open_call *close_call(struct vs_top_model *m, const struct vs_event *ev)
{
	struct { uint32_t kind, pad; uint64_t id; } key = { ev->span.kind, 0, ev->span.id };

	return vs_htab_del(m->open, &key, sizeof(key));
}

static void dbus_name(const struct vs_event *ev, char *buf, size_t len)
{
	const char *iface = ev->span.iface, *dot = iface ? strrchr(iface, '.') : NULL;

	/* "machine1.Manager.TerminateMachine" reads better than the full
	 * interface, and stays unique in practice. */
	if (dot && dot != iface) {
		const char *prev = dot;

		while (prev > iface && prev[-1] != '.')
			prev--;
		snprintf(buf, len, "%s.%s", prev, ev->span.name ? ev->span.name : "?");
	} else {
		snprintf(buf, len, "%s", ev->span.name ? ev->span.name : "?");
	}
}

static void on_span_begin(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_thread *t = ours(m, ev) ? thread(m, ev->tid, ev->comm) : NULL;
	char name[VS_TOP_NAME_LEN];

	switch (ev->span.kind) {
	case VS_SPAN_RPC:
		open_call(m, ev, ev->span.name);
		break;
	case VS_SPAN_DBUS:
		dbus_name(ev, name, sizeof(name));
		open_call(m, ev, name);
		if (t) {
			copy(t->dbus, sizeof(t->dbus), name);
			t->dbus_since = ev->ts_ns;
		}
		break;
	case VS_SPAN_QMP:
		open_call(m, ev, ev->span.name);
		if (t) {
			copy(t->qmp, sizeof(t->qmp), ev->span.name);
			t->qmp_since = ev->ts_ns;
			if (ev->span.object && *ev->span.object)
				copy(t->domain, sizeof(t->domain), ev->span.object);
		}
		break;
	default:
		break;
	}
}

/* The domain a vm-NAME thread (libvirt's per-domain event thread) serves. */
static const char *domain_of_thread(const char *comm)
{
	return !strncmp(comm, "vm-", 3) && comm[3] ? comm + 3 : NULL;
}

static void on_rpc_end(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_entry *e = entry(m->rpc, ev->span.name);
	struct vs_top_domain *d = domain(m, ev->span.object);

	stat_add(&m->hdr.rpcs.cur, ev->dur_ns);
	if (e) {
		stat_add(&e->f.cur, ev->dur_ns);
		e->f.cur.queue_ns += ev->span.queue_ns;
		if (ev->span.result)
			e->f.cur.errors++;
		if (ev->stack)
			e->stack = ev->stack;
	}
	if (d) {
		stat_add(&d->rpcs.cur, ev->dur_ns);
		d->last_op_ns = ev->dur_ns;
		copy(d->last_op, sizeof(d->last_op), ev->span.name);
	}
	free(close_call(m, ev));
}

static void on_qmp_end(struct vs_top_model *m, const struct vs_event *ev)
{
	struct open_call *c = close_call(m, ev);
	struct vs_top_entry *e = entry(m->qmp, ev->span.name);
	const char *dom = ev->span.object && *ev->span.object ? ev->span.object
							      : domain_of_thread(ev->comm);
	struct vs_top_domain *d = domain(m, dom);
	struct vs_top_thread *t = c ? vs_htab_get(m->threads, &c->tid, sizeof(c->tid)) : NULL;

	if (e)
		stat_add(&e->f.cur, ev->dur_ns);
	if (d) {
		stat_add(&d->qmp.cur, ev->dur_ns);
		d->last_qmp_ns = ev->dur_ns;
		copy(d->last_qmp, sizeof(d->last_qmp), ev->span.name);
	}
	if (t)
		t->qmp[0] = '\0';
	free(c);
}

static void on_dbus_end(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_thread *t = vs_htab_get(m->threads, &ev->tid, sizeof(ev->tid));
	char name[VS_TOP_NAME_LEN];
	struct vs_top_entry *e;

	dbus_name(ev, name, sizeof(name));
	e = entry(m->dbus, name);
	stat_add(&m->hdr.dbus.cur, ev->dur_ns);
	if (e) {
		stat_add(&e->f.cur, ev->dur_ns);
		if (ev->span.result < 0)
			e->f.cur.errors++;
		if (ev->stack)
			e->stack = ev->stack;
	}
	if (t)
		t->dbus[0] = '\0';
	free(close_call(m, ev));
}

static void add_story(struct vs_top_model *m, enum vs_top_story_kind kind, const struct vs_event *ev,
		      const char *what)
{
	struct vs_top_story *s = &m->stories[m->stories_next];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->ts_ns = ev->ts_ns;
	s->dur_ns = ev->dur_ns;
	s->tid = ev->tid;
	copy(s->comm, sizeof(s->comm), ev->comm);
	copy(s->what, sizeof(s->what), what);
	s->stack = ev->stack;
	m->stories_next = (m->stories_next + 1) % VS_TOP_MAX_STORIES;
	if (m->nr_stories < VS_TOP_MAX_STORIES)
		m->nr_stories++;
}

static void on_stall(struct vs_top_model *m, const struct vs_event *ev)
{
	stat_add(&m->hdr.stalls.cur, ev->dur_ns);
	if (ev->dur_ns >= m->chain_min_ns)
		add_story(m, VS_TOP_STALL, ev, ""); /* explained at the tick */
}

static void on_span_end(struct vs_top_model *m, const struct vs_event *ev)
{
	switch (ev->span.kind) {
	case VS_SPAN_RPC: on_rpc_end(m, ev); break;
	case VS_SPAN_DBUS: on_dbus_end(m, ev); break;
	case VS_SPAN_QMP: on_qmp_end(m, ev); break;
	case VS_SPAN_LOOP_ITERATION:
		if (ev->span.name && !strcmp(ev->span.name, "stall"))
			on_stall(m, ev);
		break;
	default: break;
	}
}

static void on_job(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_thread *t = ours(m, ev) ? thread(m, ev->tid, ev->comm) : NULL;

	if (!t)
		return;
	if (!ev->job.name || !*ev->job.name) {
		t->job[0] = t->domain[0] = '\0';
		return;
	}
	vs_fork_op_name(ev->job.name, t->job, sizeof(t->job));
	t->job_since = ev->ts_ns;
	t->domain[0] = '\0';
}

static void on_fork(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_thread *t = vs_htab_get(m->threads, &ev->tid, sizeof(ev->tid));
	const char *op = t && t->job[0] ? t->job : ev->fork.reason ? ev->fork.reason : VS_FORK_NO_OP;
	struct vs_top_entry *e = entry(m->forks, op);

	stat_add(&m->hdr.forks.cur, ev->dur_ns);
	if (e) {
		stat_add(&e->f.cur, ev->dur_ns);
		if (!ev->fork.child_pid)
			e->f.cur.errors++;
		if (ev->stack)
			e->stack = ev->stack;
	}
}

static void on_offcpu(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_thread *t = vs_htab_get(m->threads, &ev->tid, sizeof(ev->tid));
	struct vs_top_block *b;
	char call[48] = "";

	if (t && ev->stack)
		t->last_stack = ev->stack;
	if (ev->tid != m->loop_tid)
		return;
	b = &m->loop_blocks[m->loop_next];
	m->loop_next = (m->loop_next + 1) % VS_ARRAY_SIZE(m->loop_blocks);
	b->ts = ev->ts_ns;
	b->dur = ev->dur_ns;
	b->reason = ev->offcpu.reason;
	b->stack = ev->stack;
	if (ev->offcpu.syscall >= 0)
		vs_syscall_name(ev->offcpu.syscall, call, sizeof(call));
	if (ev->offcpu.lock_addr) {
		char lock[VS_TOP_NAME_LEN];
		const struct vs_top_thread *h =
			ev->offcpu.lock_holder
				? vs_htab_get(m->threads, &ev->offcpu.lock_holder,
					      sizeof(ev->offcpu.lock_holder))
				: NULL;

		vs_lock_name(lock, sizeof(lock), ev->offcpu.lock_addr, ev->offcpu.lock_kind,
			     ev->offcpu.lock_object);
		snprintf(b->what, sizeof(b->what), "waiting for %.50s held by %s %u%s%.30s", lock,
			 h ? h->comm : "thread", ev->offcpu.lock_holder,
			 h && h->job[0] ? " in " : "", h && h->job[0] ? h->job : "");
	} else {
		snprintf(b->what, sizeof(b->what), "blocked (%s%s%s)",
			 vs_offcpu_reason_name(ev->offcpu.reason), call[0] ? " in " : "", call);
	}
}

static void on_lock(struct vs_top_model *m, const struct vs_event *ev)
{
	struct vs_top_lock *l = vs_htab_get(m->locks, &ev->lock.addr, sizeof(ev->lock.addr));
	struct vs_top_thread *t = vs_htab_get(m->threads, &ev->tid, sizeof(ev->tid));
	char lock[VS_TOP_NAME_LEN], what[200], job[64] = "", holder_job[64] = "";

	if (ev->lock.phase != VS_LOCK_WAIT)
		return;
	if (l && ev->stack)
		l->stack = ev->stack;
	if (t && ev->stack)
		t->last_stack = ev->stack;
	if (ev->dur_ns < m->chain_min_ns)
		return;
	vs_lock_name(lock, sizeof(lock), ev->lock.addr, ev->lock.kind, ev->lock.object);
	if (ev->lock.job)
		vs_fork_op_name(ev->lock.job, job, sizeof(job));
	if (ev->lock.holder_job)
		vs_fork_op_name(ev->lock.holder_job, holder_job, sizeof(holder_job));
	/* cut at the story's end when long: its start says most */
	if (snprintf(what, sizeof(what), "%s%s%s waited for %s, held by %s %u%s%s%s%s",
		 ev->comm, job[0] ? " in " : "", job, lock,
		 ev->lock.holder_comm ? ev->lock.holder_comm : "thread", ev->lock.holder_tid,
		 holder_job[0] ? " in " : "", holder_job,
		 ev->lock.holder_call ? ", blocked in " : "",
		 ev->lock.holder_call ? ev->lock.holder_call : "") < 0)
		return;
	add_story(m, VS_TOP_CHAIN, ev, what);
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	/* The consumer is the model's first member. */
	struct vs_top_model *m = (struct vs_top_model *)self;

	switch (ev->kind) {
	case VS_EV_SPAN_BEGIN: on_span_begin(m, ev); break;
	case VS_EV_SPAN_END: on_span_end(m, ev); break;
	case VS_EV_THREAD_JOB: on_job(m, ev); break;
	case VS_EV_FORK:
		if (ours(m, ev))
			on_fork(m, ev);
		break;
	case VS_EV_OFFCPU: on_offcpu(m, ev); break;
	case VS_EV_LOCK: on_lock(m, ev); break;
	case VS_EV_KEEPALIVE:
		if (ev->keepalive.phase == VS_KEEPALIVE_TIMEOUT)
			stat_add(&m->hdr.keepalive_timeouts.cur, 0);
		break;
	case VS_EV_LOST:
		m->hdr.lost.cur.count += ev->lost.count;
		break;
	default: break;
	}
}

struct vs_consumer *vs_top_model_consumer(struct vs_top_model *m)
{
	m->consumer.event = on_event;
	return &m->consumer;
}

/* ---- readings, once per refresh ---- */

void vs_top_model_attach(struct vs_top_model *m, uint32_t pid, const char *comm,
			 const struct vs_profile *roles, uint64_t now_ns)
{
	size_t pos = 0;
	void *val;

	vs_htab_free(m->threads, free);
	m->threads = vs_htab_new();
	vs_htab_free(m->open, free);
	m->open = vs_htab_new();
	/* The new process's lock counts start again from zero. */
	while (m->lock_totals && vs_htab_next(m->lock_totals, &pos, NULL, NULL, &val)) {
		struct lock_total *lt = val;

		lt->count = lt->sum_ns = 0;
	}
	if (m->have_roles)
		vs_profile_release(&m->roles);
	m->have_roles = 0;
	if (roles) {
		memset(&m->roles, 0, sizeof(m->roles));
		memcpy(m->roles.roles, roles->roles, sizeof(roles->roles));
		m->roles.nr_roles = roles->nr_roles;
		m->have_roles = 1;
	}
	m->hdr.pid = pid;
	copy(m->hdr.daemon, sizeof(m->hdr.daemon), comm);
	m->have_proc_ticks = 0;
	m->loop_tid = pid; /* the main thread runs the event loop */
	if (!m->started_ns)
		m->started_ns = now_ns;
	m->last_tick_ns = now_ns;
}

void vs_top_model_begin_refresh(struct vs_top_model *m)
{
	size_t pos = 0;
	void *val;

	m->tick++;
	while (vs_htab_next(m->threads, &pos, NULL, NULL, &val)) {
		struct vs_top_thread *t = val;

		t->wait_lock[0] = t->wait_owner_job[0] = '\0';
		t->wait_owner = 0;
	}
	pos = 0;
	while (vs_htab_next(m->locks, &pos, NULL, NULL, &val)) {
		struct vs_top_lock *l = val;

		l->waiters_now = l->holder_now = 0;
		l->oldest_wait = 0;
	}
	pos = 0;
	while (vs_htab_next(m->domains, &pos, NULL, NULL, &val)) {
		struct vs_top_domain *d = val;

		d->busy_now = d->waiting_now = d->holder_now = 0;
		d->oldest_rpc = 0;
		d->hold_samples = d->hold_held = 0;
		d->hold_owner = 0;
		d->held_since_ns = 0;
	}
}

void vs_top_model_task(struct vs_top_model *m, const struct vs_proc_task *pt)
{
	struct vs_top_thread *t = thread(m, pt->tid, pt->comm);

	if (!t)
		return;
	t->state = pt->state;
	t->prev_ticks = t->have_ticks ? t->ticks : pt->cpu_ticks;
	t->ticks = pt->cpu_ticks;
	t->have_ticks = 1;
	t->seen = m->tick;
}

void vs_top_model_offcpu(struct vs_top_model *m, const struct vs_offcpu_totals *ot)
{
	struct vs_top_thread *t = vs_htab_get(m->threads, &ot->tid, sizeof(ot->tid));

	if (!t)
		return;
	for (int r = 0; r < VS_OFFCPU_NR_REASONS; r++) {
		uint64_t now = ot->off_ns[r];

		t->off_last[r] = t->have_off && now >= t->off_prev[r] ? now - t->off_prev[r] : 0;
		t->off_prev[r] = now;
	}
	t->have_off = 1;
}

static void older(uint64_t *oldest, uint64_t ts)
{
	if (ts && (!*oldest || ts < *oldest))
		*oldest = ts;
}

void vs_top_model_lock(struct vs_top_model *m, uint64_t addr, const struct vs_lock_stats *st)
{
	struct lock_total *lt = row(m->lock_totals, &addr, sizeof(addr), sizeof(*lt),
				    offsetof(struct lock_total, addr));
	struct vs_top_stat d = { 0 };
	struct vs_top_domain *dom;
	struct vs_top_lock *l;

	if (!lt)
		return;
	lt->tick = m->tick;
	if (st->contended >= lt->count && st->wait_ns >= lt->sum_ns) {
		d.count = st->contended - lt->count;
		d.sum_ns = st->wait_ns - lt->sum_ns;
	}
	lt->count = st->contended;
	lt->sum_ns = st->wait_ns;
	l = d.count ? row(m->locks, &addr, sizeof(addr), sizeof(*l),
			  offsetof(struct vs_top_lock, addr))
		    : vs_htab_get(m->locks, &addr, sizeof(addr));
	if (!l)
		return;
	if (d.count)
		l->seen = m->tick;
	if (!l->name[0] || (st->kind[0] && !strchr(l->name, ' ')))
		vs_lock_name(l->name, sizeof(l->name), addr, st->kind, st->object);
	if (!strcmp(st->kind, "virDomainObj") && st->object[0])
		copy(l->domain, sizeof(l->domain), st->object);
	if (st->wait_max_ns > l->max_wait_ns)
		l->max_wait_ns = st->wait_max_ns;
	stat_merge(&l->f.cur, &d);
	/* The interval's longest wait is not counted apart: the longest ever
	 * stands in when it grew during the interval. */
	if (d.count && st->wait_max_ns > l->f.cum.max_ns && st->wait_max_ns > l->f.cur.max_ns)
		l->f.cur.max_ns = st->wait_max_ns;
	dom = l->domain[0] ? domain(m, l->domain) : NULL;
	if (dom)
		stat_merge(&dom->lock_wait.cur, &d);
}

void vs_top_model_wait_now(struct vs_top_model *m, const struct vs_lock_wait_now *w)
{
	struct vs_top_thread *t = vs_htab_get(m->threads, &w->tid, sizeof(w->tid));
	struct vs_top_thread *o = w->owner ? vs_htab_get(m->threads, &w->owner, sizeof(w->owner))
					   : NULL;
	struct vs_top_lock *l = vs_htab_get(m->locks, &w->addr, sizeof(w->addr));
	struct vs_top_domain *d = NULL;

	if (w->kind && !strcmp(w->kind, "virDomainObj"))
		d = domain(m, w->object);
	if (t) {
		vs_lock_name(t->wait_lock, sizeof(t->wait_lock), w->addr, w->kind, w->object);
		t->wait_since = w->since_ns;
		t->wait_owner = w->owner;
		copy(t->wait_owner_job, sizeof(t->wait_owner_job),
		     o && o->job[0] ? o->job : w->owner_job);
		if (d && !t->domain[0] && !domain_of_thread(t->comm))
			copy(t->domain, sizeof(t->domain), d->name);
	}
	/* The owner works on the domain whose lock it holds. */
	if (o && d)
		copy(o->domain, sizeof(o->domain), d->name);
	if (l) {
		l->waiters_now++;
		older(&l->oldest_wait, w->since_ns);
		l->holder_now = w->owner;
	}
	if (d) {
		d->waiting_now++;
		d->holder_now = w->owner;
	}
}

void vs_top_model_hold(struct vs_top_model *m, const struct vs_lock_hold *h)
{
	char key[64] = { 0 };
	struct vs_top_domain *d;
	struct vs_top_thread *o;

	copy(key, sizeof(key), h->name);
	d = vs_htab_get(m->domains, key, strlen(key) + 1);
	if (!d && (h->held || h->owner))
		d = domain(m, h->name);
	if (!d)
		return;
	d->hold_samples += h->samples;
	d->hold_held += h->held;
	if (h->longest_ns > d->hold_longest_ns)
		d->hold_longest_ns = h->longest_ns;
	if (!h->owner)
		return;
	d->hold_owner = h->owner;
	d->held_since_ns = h->held_since_ns;
	/* A waiter saw the same holder, or none waits: either way it holds. */
	d->holder_now = h->owner;
	o = vs_htab_get(m->threads, &h->owner, sizeof(h->owner));
	if (o && !o->domain[0])
		copy(o->domain, sizeof(o->domain), d->name);
}

void vs_top_model_process(struct vs_top_model *m, uint64_t cpu_ticks, uint64_t start_ticks,
			  uint64_t self_ticks, uint64_t stall_max_ever_ns, uint64_t events)
{
	long hz = sysconf(_SC_CLK_TCK);
	double elapsed = (double)(vs_now_ns() - m->last_tick_ns) / 1e9;
	struct timespec boot;

	if (hz <= 0)
		hz = 100;
	if (m->have_proc_ticks && elapsed > 0) {
		m->hdr.cpu_pct = (double)(cpu_ticks - m->proc_ticks_prev) / (double)hz / elapsed * 100;
		m->hdr.self_cpu_pct =
			(double)(self_ticks - m->self_ticks_prev) / (double)hz / elapsed * 100;
	}
	m->proc_ticks_prev = cpu_ticks;
	m->self_ticks_prev = self_ticks;
	m->have_proc_ticks = 1;
	clock_gettime(CLOCK_BOOTTIME, &boot);
	m->hdr.uptime_s = (uint64_t)boot.tv_sec > start_ticks / (uint64_t)hz
				  ? (uint64_t)boot.tv_sec - start_ticks / (uint64_t)hz
				  : 0;
	if (stall_max_ever_ns > m->hdr.stall_max_ever_ns)
		m->hdr.stall_max_ever_ns = stall_max_ever_ns;
	m->hdr.events = events;
}

void vs_top_model_self_rss(struct vs_top_model *m, uint64_t rss_kib)
{
	m->hdr.self_rss_kib = rss_kib;
}

/* ---- the tick ---- */

static void close_entries(struct vs_htab *h)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(h, &pos, NULL, NULL, &val)) {
		struct vs_top_entry *e = val;

		figure_close(&e->f);
		e->inflight = 0;
		e->oldest_ns = 0;
	}
}

static void count_open_calls(struct vs_top_model *m)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(m->open, &pos, NULL, NULL, &val)) {
		struct open_call *c = val;
		struct vs_htab *h = c->key.kind == VS_SPAN_RPC	 ? m->rpc
				    : c->key.kind == VS_SPAN_DBUS ? m->dbus
								  : m->qmp;
		struct vs_top_entry *e = entry(h, c->name);

		if (e) {
			e->inflight++;
			older(&e->oldest_ns, c->ts);
		}
	}
}

static void close_threads(struct vs_top_model *m, double elapsed_s)
{
	long hz = sysconf(_SC_CLK_TCK);
	struct vs_top_thread *gone[64];
	size_t pos = 0, nr_gone = 0;
	void *val;

	if (hz <= 0)
		hz = 100;
	m->hdr.threads = 0;
	while (vs_htab_next(m->threads, &pos, NULL, NULL, &val)) {
		struct vs_top_thread *t = val;
		struct vs_top_domain *d;

		if (t->seen != m->tick) {
			if (nr_gone < VS_ARRAY_SIZE(gone))
				gone[nr_gone++] = t;
			continue;
		}
		m->hdr.threads++;
		t->cpu_pct = elapsed_s > 0 ? (double)(t->ticks - t->prev_ticks) / (double)hz /
						     elapsed_s * 100
					   : 0;
		d = t->domain[0] && t->job[0] ? domain(m, t->domain) : NULL;
		if (d) {
			d->busy_now++;
			older(&d->oldest_rpc, t->job_since);
		}
	}
	/* Threads that exited are dropped (a few per tick: the rest next). */
	for (size_t i = 0; i < nr_gone; i++)
		free(vs_htab_del(m->threads, &gone[i]->tid, sizeof(gone[i]->tid)));
}

/* A stall is explained by the longest block of the loop thread inside it. */
static void explain_stalls(struct vs_top_model *m)
{
	for (size_t i = 0; i < m->nr_stories; i++) {
		struct vs_top_story *s = &m->stories[i];
		const struct vs_top_block *best = NULL;
		uint64_t end = s->ts_ns + s->dur_ns;

		if (s->kind != VS_TOP_STALL || s->what[0])
			continue;
		for (size_t b = 0; b < VS_ARRAY_SIZE(m->loop_blocks); b++) {
			const struct vs_top_block *k = &m->loop_blocks[b];

			if (k->dur && k->ts >= s->ts_ns && k->ts < end && (!best || k->dur > best->dur))
				best = k;
		}
		if (best) {
			snprintf(s->what, sizeof(s->what), "main loop busy %.0f ms: %.150s for %.0f ms",
				 (double)s->dur_ns / 1e6, best->what, (double)best->dur / 1e6);
			s->stack = best->stack;
		} else {
			snprintf(s->what, sizeof(s->what), "main loop busy %.0f ms, on CPU",
				 (double)s->dur_ns / 1e6);
		}
	}
}

static int by_seen(const void *a, const void *b)
{
	const struct vs_top_domain *x = *(struct vs_top_domain *const *)a;
	const struct vs_top_domain *y = *(struct vs_top_domain *const *)b;

	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static int lock_by_seen(const void *a, const void *b)
{
	const struct vs_top_lock *x = *(struct vs_top_lock *const *)a;
	const struct vs_top_lock *y = *(struct vs_top_lock *const *)b;

	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

/* Counts of locks the kernel no longer counts go (after a few refreshes, so
 * that a refresh that could not read them forgets nothing); past
 * MAX_LOCK_ROWS rows, those waited for longest ago, with no waiter now, go
 * down to three quarters of it. */
static void prune_locks(struct vs_top_model *m)
{
	size_t n = vs_htab_count(m->lock_totals), nr = 0, pos = 0, drop;
	void **doomed = n ? malloc(n * sizeof(*doomed)) : NULL;
	void *val;

	if (doomed) {
		while (vs_htab_next(m->lock_totals, &pos, NULL, NULL, &val) && nr < n)
			if (((struct lock_total *)val)->tick + 10 < m->tick)
				doomed[nr++] = val;
		for (size_t i = 0; i < nr; i++)
			free(vs_htab_del(m->lock_totals, &((struct lock_total *)doomed[i])->addr,
					 sizeof(uint64_t)));
		free(doomed);
	}
	n = vs_htab_count(m->locks);
	if (n <= MAX_LOCK_ROWS || !(doomed = malloc(n * sizeof(*doomed))))
		return;
	nr = pos = 0;
	while (vs_htab_next(m->locks, &pos, NULL, NULL, &val)) {
		struct vs_top_lock *l = val;

		if (!l->waiters_now && l->seen != m->tick)
			doomed[nr++] = l;
	}
	qsort(doomed, nr, sizeof(*doomed), lock_by_seen);
	drop = n - MAX_LOCK_ROWS * 3 / 4;
	for (size_t i = 0; i < nr && i < drop; i++)
		free(vs_htab_del(m->locks, &((struct vs_top_lock *)doomed[i])->addr, sizeof(uint64_t)));
	free(doomed);
}

static void prune_domains(struct vs_top_model *m)
{
	size_t n = vs_htab_count(m->domains), nr = 0, pos = 0, drop;
	struct vs_top_domain **idle;
	void *val;

	if (n <= MAX_DOMAINS)
		return;
	idle = malloc(n * sizeof(*idle));
	if (!idle)
		return;
	while (vs_htab_next(m->domains, &pos, NULL, NULL, &val)) {
		struct vs_top_domain *d = val;

		if (!d->busy_now && !d->waiting_now && d->seen != m->tick)
			idle[nr++] = d;
	}
	qsort(idle, nr, sizeof(*idle), by_seen);
	drop = n - MAX_DOMAINS * 3 / 4;
	for (size_t i = 0; i < nr && i < drop; i++)
		free(vs_htab_del(m->domains, idle[i]->name, strlen(idle[i]->name) + 1));
	free(idle);
}

void vs_top_model_tick(struct vs_top_model *m, uint64_t now_ns)
{
	double elapsed = (double)(now_ns - m->last_tick_ns) / 1e9;
	size_t pos = 0;
	void *val;

	m->hdr.interval_s = elapsed;
	m->interval_ns = now_ns - m->last_tick_ns;
	m->last_tick_ns = now_ns;
	close_threads(m, elapsed);
	close_entries(m->rpc);
	close_entries(m->dbus);
	close_entries(m->qmp);
	close_entries(m->forks);
	count_open_calls(m);
	while (vs_htab_next(m->locks, &pos, NULL, NULL, &val))
		figure_close(&((struct vs_top_lock *)val)->f);
	pos = 0;
	while (vs_htab_next(m->domains, &pos, NULL, NULL, &val)) {
		struct vs_top_domain *d = val;

		figure_close(&d->lock_wait);
		figure_close(&d->rpcs);
		figure_close(&d->qmp);
	}
	figure_close(&m->hdr.rpcs);
	figure_close(&m->hdr.forks);
	figure_close(&m->hdr.dbus);
	figure_close(&m->hdr.keepalive_timeouts);
	figure_close(&m->hdr.lost);
	figure_close(&m->hdr.stalls);
	explain_stalls(m);
	prune_domains(m);
	prune_locks(m);
}

static void reset_entries(struct vs_htab *h)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(h, &pos, NULL, NULL, &val))
		memset(&((struct vs_top_entry *)val)->f.cum, 0, sizeof(struct vs_top_stat));
}

void vs_top_model_reset(struct vs_top_model *m)
{
	size_t pos = 0;
	void *val;

	reset_entries(m->rpc);
	reset_entries(m->dbus);
	reset_entries(m->qmp);
	reset_entries(m->forks);
	while (vs_htab_next(m->locks, &pos, NULL, NULL, &val)) {
		struct vs_top_lock *l = val;

		memset(&l->f.cum, 0, sizeof(l->f.cum));
		l->max_wait_ns = 0;
	}
	pos = 0;
	while (vs_htab_next(m->domains, &pos, NULL, NULL, &val)) {
		struct vs_top_domain *d = val;

		memset(&d->lock_wait.cum, 0, sizeof(d->lock_wait.cum));
		memset(&d->rpcs.cum, 0, sizeof(d->rpcs.cum));
		memset(&d->qmp.cum, 0, sizeof(d->qmp.cum));
	}
	memset(&m->hdr.rpcs.cum, 0, sizeof(struct vs_top_stat));
	memset(&m->hdr.forks.cum, 0, sizeof(struct vs_top_stat));
	memset(&m->hdr.dbus.cum, 0, sizeof(struct vs_top_stat));
	memset(&m->hdr.keepalive_timeouts.cum, 0, sizeof(struct vs_top_stat));
	memset(&m->hdr.stalls.cum, 0, sizeof(struct vs_top_stat));
	/* Lost events are never hidden: a reset keeps their count. */
	m->hdr.stall_max_ever_ns = 0;
	m->nr_stories = m->stories_next = 0;
	m->started_ns = vs_now_ns();
}

const struct vs_top_story *vs_top_model_story(const struct vs_top_model *m, size_t i)
{
	if (i >= m->nr_stories)
		return NULL;
	return &m->stories[(m->stories_next + VS_TOP_MAX_STORIES - 1 - i) % VS_TOP_MAX_STORIES];
}

static void touch_entries(struct vs_htab *h, struct vs_stacks *stacks)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(h, &pos, NULL, NULL, &val))
		vs_stacks_touch(stacks, ((struct vs_top_entry *)val)->stack);
}

void vs_top_model_touch_stacks(const struct vs_top_model *m, struct vs_stacks *stacks)
{
	size_t pos = 0;
	void *val;

	while (vs_htab_next(m->threads, &pos, NULL, NULL, &val))
		vs_stacks_touch(stacks, ((struct vs_top_thread *)val)->last_stack);
	pos = 0;
	while (vs_htab_next(m->locks, &pos, NULL, NULL, &val))
		vs_stacks_touch(stacks, ((struct vs_top_lock *)val)->stack);
	touch_entries(m->rpc, stacks);
	touch_entries(m->dbus, stacks);
	touch_entries(m->qmp, stacks);
	touch_entries(m->forks, stacks);
	for (size_t i = 0; i < VS_ARRAY_SIZE(m->stories); i++)
		vs_stacks_touch(stacks, m->stories[i].stack);
	for (size_t i = 0; i < VS_ARRAY_SIZE(m->loop_blocks); i++)
		vs_stacks_touch(stacks, m->loop_blocks[i].stack);
}
