/* Encoding and decoding of a recording's records; see recevent.h. */
#include "recevent.h"

#include <errno.h>
#include <string.h>

static void put_comm(struct vs_rec_buf *b, const char comm[VS_COMM_LEN])
{
	char tmp[VS_COMM_LEN + 1];

	memcpy(tmp, comm, VS_COMM_LEN);
	tmp[VS_COMM_LEN] = '\0';
	vs_rec_buf_str(b, tmp);
}

void vs_rec_put_meta(struct vs_rec_buf *b, const struct vs_rec_meta *m)
{
	vs_rec_buf_uv(b, m->pid);
	put_comm(b, m->comm);
	vs_rec_buf_str(b, m->host);
	vs_rec_buf_str(b, m->kernel);
	vs_rec_buf_str(b, m->collectors);
	vs_rec_buf_uv(b, m->start_ns);
	vs_rec_buf_uv(b, m->start_realtime_ns);
	vs_rec_buf_uv(b, m->freq_hz);
	vs_rec_buf_uv(b, m->lock_min_ns);
	vs_rec_buf_uv(b, m->offcpu_min_ns);
	vs_rec_buf_uv(b, m->stall_ns);
	vs_rec_buf_uv(b, m->ring_bytes);
	vs_rec_buf_str(b, m->trigger);
	vs_rec_buf_str(b, m->roles.name);
	vs_rec_buf_uv(b, m->roles.nr_roles);
	for (size_t i = 0; i < m->roles.nr_roles; i++) {
		vs_rec_buf_str(b, m->roles.roles[i].thread);
		vs_rec_buf_uv(b, (uint64_t)m->roles.roles[i].prefix);
		vs_rec_buf_str(b, m->roles.roles[i].role);
	}
}

int vs_rec_get_meta(struct vs_rec_cur *c, struct vs_rec_meta *m)
{
	uint64_t n;

	memset(m, 0, sizeof(*m));
	m->pid = (uint32_t)vs_rec_get_uv(c);
	vs_rec_get_strn(c, m->comm, sizeof(m->comm));
	vs_rec_get_strn(c, m->host, sizeof(m->host));
	vs_rec_get_strn(c, m->kernel, sizeof(m->kernel));
	vs_rec_get_strn(c, m->collectors, sizeof(m->collectors));
	m->start_ns = vs_rec_get_uv(c);
	m->start_realtime_ns = vs_rec_get_uv(c);
	m->freq_hz = (uint32_t)vs_rec_get_uv(c);
	m->lock_min_ns = vs_rec_get_uv(c);
	m->offcpu_min_ns = vs_rec_get_uv(c);
	m->stall_ns = vs_rec_get_uv(c);
	m->ring_bytes = vs_rec_get_uv(c);
	vs_rec_get_strn(c, m->trigger, sizeof(m->trigger));
	vs_rec_get_strn(c, m->roles.name, sizeof(m->roles.name));
	n = vs_rec_get_uv(c);
	if (n > VS_PROFILE_MAX_ROLES)
		c->bad = 1;
	for (size_t i = 0; i < n && !c->bad; i++) {
		vs_rec_get_strn(c, m->roles.roles[i].thread, sizeof(m->roles.roles[i].thread));
		m->roles.roles[i].prefix = vs_rec_get_uv(c) != 0;
		vs_rec_get_strn(c, m->roles.roles[i].role, sizeof(m->roles.roles[i].role));
	}
	if (!c->bad)
		m->roles.nr_roles = n;
	return c->bad ? -EINVAL : 0;
}

void vs_rec_put_end(struct vs_rec_buf *b, const struct vs_rec_end *e)
{
	vs_rec_buf_uv(b, e->end_ns);
	vs_rec_buf_uv(b, e->events);
	vs_rec_buf_uv(b, e->lost);
}

int vs_rec_get_end(struct vs_rec_cur *c, struct vs_rec_end *e)
{
	e->end_ns = vs_rec_get_uv(c);
	e->events = vs_rec_get_uv(c);
	e->lost = vs_rec_get_uv(c);
	return c->bad ? -EINVAL : 0;
}

static void put_span(struct vs_rec_buf *b, const struct vs_event *ev)
{
	vs_rec_buf_uv(b, (uint64_t)ev->span.kind);
	vs_rec_buf_uv(b, ev->span.id);
	vs_rec_buf_str(b, ev->span.name);
	vs_rec_buf_str(b, ev->span.object);
	vs_rec_buf_str(b, ev->span.iface);
	vs_rec_buf_str(b, ev->span.peer);
	vs_rec_buf_uv(b, ev->span.timeout_ms);
	vs_rec_buf_sv(b, ev->span.result);
	vs_rec_buf_uv(b, ev->span.client);
	vs_rec_buf_uv(b, ev->span.prog);
	vs_rec_buf_uv(b, ev->span.proc);
	vs_rec_buf_uv(b, ev->span.queue_ns);
}

static void get_span(struct vs_rec_cur *c, struct vs_event *ev)
{
	ev->span.kind = (enum vs_span_kind)vs_rec_get_uv(c);
	ev->span.id = vs_rec_get_uv(c);
	ev->span.name = vs_rec_get_str(c);
	ev->span.object = vs_rec_get_str(c);
	ev->span.iface = vs_rec_get_str(c);
	ev->span.peer = vs_rec_get_str(c);
	ev->span.timeout_ms = vs_rec_get_uv(c);
	ev->span.result = vs_rec_get_sv(c);
	ev->span.client = vs_rec_get_uv(c);
	ev->span.prog = (uint32_t)vs_rec_get_uv(c);
	ev->span.proc = (uint32_t)vs_rec_get_uv(c);
	ev->span.queue_ns = vs_rec_get_uv(c);
}

static void put_lock(struct vs_rec_buf *b, const struct vs_event *ev)
{
	vs_rec_buf_uv(b, (uint64_t)ev->lock.phase);
	vs_rec_buf_uv(b, ev->lock.addr);
	vs_rec_buf_uv(b, ev->lock.holder_tid);
	vs_rec_buf_uv(b, ev->lock.holder_waits);
	vs_rec_buf_str(b, ev->lock.kind);
	vs_rec_buf_str(b, ev->lock.object);
	vs_rec_buf_str(b, ev->lock.job);
	vs_rec_buf_str(b, ev->lock.holder_comm);
	vs_rec_buf_str(b, ev->lock.holder_job);
	vs_rec_buf_sv(b, ev->lock.holder_seen);
	vs_rec_buf_str(b, ev->lock.holder_call);
	vs_rec_buf_uv(b, ev->lock.holder_stack);
}

static void get_lock(struct vs_rec_cur *c, struct vs_event *ev)
{
	ev->lock.phase = (enum vs_lock_phase)vs_rec_get_uv(c);
	ev->lock.addr = vs_rec_get_uv(c);
	ev->lock.holder_tid = (uint32_t)vs_rec_get_uv(c);
	ev->lock.holder_waits = vs_rec_get_uv(c);
	ev->lock.kind = vs_rec_get_str(c);
	ev->lock.object = vs_rec_get_str(c);
	ev->lock.job = vs_rec_get_str(c);
	ev->lock.holder_comm = vs_rec_get_str(c);
	ev->lock.holder_job = vs_rec_get_str(c);
	ev->lock.holder_seen = (int)vs_rec_get_sv(c);
	ev->lock.holder_call = vs_rec_get_str(c);
	ev->lock.holder_stack = (vs_stack_id)vs_rec_get_uv(c);
}

static void put_offcpu(struct vs_rec_buf *b, const struct vs_event *ev)
{
	vs_rec_buf_uv(b, ev->offcpu.state);
	vs_rec_buf_uv(b, ev->offcpu.reason);
	vs_rec_buf_uv(b, ev->offcpu.waker_tid);
	vs_rec_buf_uv(b, ev->offcpu.waker_pid);
	vs_rec_buf_str(b, ev->offcpu.waker_comm);
	vs_rec_buf_uv(b, ev->offcpu.waker_stack);
	vs_rec_buf_sv(b, ev->offcpu.syscall);
	vs_rec_buf_uv(b, ev->offcpu.lock_addr);
	vs_rec_buf_uv(b, ev->offcpu.lock_holder);
	vs_rec_buf_str(b, ev->offcpu.lock_kind);
	vs_rec_buf_str(b, ev->offcpu.lock_object);
}

static void get_offcpu(struct vs_rec_cur *c, struct vs_event *ev)
{
	ev->offcpu.state = (uint32_t)vs_rec_get_uv(c);
	ev->offcpu.reason = (uint32_t)vs_rec_get_uv(c);
	ev->offcpu.waker_tid = (uint32_t)vs_rec_get_uv(c);
	ev->offcpu.waker_pid = (uint32_t)vs_rec_get_uv(c);
	ev->offcpu.waker_comm = vs_rec_get_str(c);
	ev->offcpu.waker_stack = (vs_stack_id)vs_rec_get_uv(c);
	ev->offcpu.syscall = (int32_t)vs_rec_get_sv(c);
	ev->offcpu.lock_addr = vs_rec_get_uv(c);
	ev->offcpu.lock_holder = (uint32_t)vs_rec_get_uv(c);
	ev->offcpu.lock_kind = vs_rec_get_str(c);
	ev->offcpu.lock_object = vs_rec_get_str(c);
}

static void put_body(struct vs_rec_buf *b, const struct vs_event *ev)
{
	switch (ev->kind) {
	case VS_EV_SAMPLE:
		vs_rec_buf_uv(b, ev->sample.period_ns);
		vs_rec_buf_uv(b, ev->sample.cpu);
		break;
	case VS_EV_SPAN_BEGIN:
	case VS_EV_SPAN_END:
		put_span(b, ev);
		break;
	case VS_EV_LOCK:
		put_lock(b, ev);
		break;
	case VS_EV_FORK:
		vs_rec_buf_uv(b, ev->fork.child_pid);
		vs_rec_buf_str(b, ev->fork.reason);
		vs_rec_buf_str(b, ev->fork.via);
		vs_rec_buf_uv(b, ev->fork.created_ns);
		break;
	case VS_EV_EXEC:
		vs_rec_buf_str(b, ev->exec.filename);
		vs_rec_buf_uv(b, ev->exec.ppid);
		vs_rec_buf_uv(b, ev->exec.root);
		break;
	case VS_EV_EXIT:
		vs_rec_buf_sv(b, ev->exit.status);
		vs_rec_buf_uv(b, ev->exit.ppid);
		vs_rec_buf_uv(b, ev->exit.root);
		vs_rec_buf_sv(b, ev->exit.execed);
		break;
	case VS_EV_OFFCPU:
		put_offcpu(b, ev);
		break;
	case VS_EV_LOST:
		vs_rec_buf_uv(b, (uint64_t)ev->lost.what);
		vs_rec_buf_uv(b, ev->lost.count);
		vs_rec_buf_str(b, ev->lost.collector);
		break;
	case VS_EV_KEEPALIVE:
		vs_rec_buf_uv(b, (uint64_t)ev->keepalive.phase);
		vs_rec_buf_uv(b, ev->keepalive.client);
		vs_rec_buf_sv(b, ev->keepalive.proc);
		vs_rec_buf_sv(b, ev->keepalive.count);
		vs_rec_buf_sv(b, ev->keepalive.idle_s);
		break;
	case VS_EV_DISPATCH:
		vs_rec_buf_str(b, ev->dispatch.source);
		vs_rec_buf_sv(b, ev->dispatch.fd);
		break;
	case VS_EV_THREAD_JOB:
		vs_rec_buf_str(b, ev->job.name);
		break;
	case VS_EV_TARGET:
		vs_rec_buf_uv(b, ev->target.old_pid);
		vs_rec_buf_uv(b, ev->target.new_pid);
		break;
	default:
		break;
	}
}

static void get_body(struct vs_rec_cur *c, struct vs_event *ev)
{
	switch (ev->kind) {
	case VS_EV_SAMPLE:
		ev->sample.period_ns = vs_rec_get_uv(c);
		ev->sample.cpu = (uint32_t)vs_rec_get_uv(c);
		break;
	case VS_EV_SPAN_BEGIN:
	case VS_EV_SPAN_END:
		get_span(c, ev);
		break;
	case VS_EV_LOCK:
		get_lock(c, ev);
		break;
	case VS_EV_FORK:
		ev->fork.child_pid = (uint32_t)vs_rec_get_uv(c);
		ev->fork.reason = vs_rec_get_str(c);
		ev->fork.via = vs_rec_get_str(c);
		ev->fork.created_ns = vs_rec_get_uv(c);
		break;
	case VS_EV_EXEC:
		ev->exec.filename = vs_rec_get_str(c);
		ev->exec.ppid = (uint32_t)vs_rec_get_uv(c);
		ev->exec.root = (uint32_t)vs_rec_get_uv(c);
		break;
	case VS_EV_EXIT:
		ev->exit.status = (int32_t)vs_rec_get_sv(c);
		ev->exit.ppid = (uint32_t)vs_rec_get_uv(c);
		ev->exit.root = (uint32_t)vs_rec_get_uv(c);
		ev->exit.execed = (int)vs_rec_get_sv(c);
		break;
	case VS_EV_OFFCPU:
		get_offcpu(c, ev);
		break;
	case VS_EV_LOST:
		ev->lost.what = (enum vs_event_kind)vs_rec_get_uv(c);
		ev->lost.count = vs_rec_get_uv(c);
		ev->lost.collector = vs_rec_get_str(c);
		break;
	case VS_EV_KEEPALIVE:
		ev->keepalive.phase = (enum vs_keepalive_phase)vs_rec_get_uv(c);
		ev->keepalive.client = vs_rec_get_uv(c);
		ev->keepalive.proc = vs_rec_get_sv(c);
		ev->keepalive.count = vs_rec_get_sv(c);
		ev->keepalive.idle_s = vs_rec_get_sv(c);
		break;
	case VS_EV_DISPATCH:
		ev->dispatch.source = vs_rec_get_str(c);
		ev->dispatch.fd = vs_rec_get_sv(c);
		break;
	case VS_EV_THREAD_JOB:
		ev->job.name = vs_rec_get_str(c);
		break;
	case VS_EV_TARGET:
		ev->target.old_pid = (uint32_t)vs_rec_get_uv(c);
		ev->target.new_pid = (uint32_t)vs_rec_get_uv(c);
		break;
	default:
		break;
	}
}

void vs_rec_put_event(struct vs_rec_buf *b, const struct vs_event *ev, uint64_t *prev_ts)
{
	vs_rec_buf_u8(b, VS_REC_EVENT);
	vs_rec_buf_uv(b, (uint64_t)ev->kind);
	vs_rec_buf_uv(b, ev->pid);
	vs_rec_buf_uv(b, ev->tid);
	/* Sessions deliver events roughly in time order, so deltas are small;
	 * they can be negative across collectors. */
	vs_rec_buf_sv(b, (int64_t)(ev->ts_ns - *prev_ts));
	*prev_ts = ev->ts_ns;
	vs_rec_buf_uv(b, ev->dur_ns);
	put_comm(b, ev->comm);
	vs_rec_buf_uv(b, ev->stack);
	put_body(b, ev);
}

int vs_rec_get_event(struct vs_rec_cur *c, struct vs_event *ev, uint64_t *prev_ts)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = (enum vs_event_kind)vs_rec_get_uv(c);
	ev->pid = (uint32_t)vs_rec_get_uv(c);
	ev->tid = (uint32_t)vs_rec_get_uv(c);
	ev->ts_ns = *prev_ts + (uint64_t)vs_rec_get_sv(c);
	*prev_ts = ev->ts_ns;
	ev->dur_ns = vs_rec_get_uv(c);
	vs_rec_get_strn(c, ev->comm, sizeof(ev->comm));
	ev->stack = (vs_stack_id)vs_rec_get_uv(c);
	if (ev->kind < VS_EV_SAMPLE || ev->kind >= VS_EV_KIND_MAX)
		c->bad = 1;
	if (!c->bad)
		get_body(c, ev);
	return c->bad ? -EINVAL : 0;
}

void vs_rec_put_stack(struct vs_rec_buf *b, vs_stack_id id, const struct vs_stack *st)
{
	vs_rec_buf_u8(b, VS_REC_STACK);
	vs_rec_buf_uv(b, id);
	vs_rec_buf_uv(b, st->pid);
	vs_rec_buf_uv(b, st->nr_kernel);
	vs_rec_buf_uv(b, st->nr_user);
	vs_rec_buf_uv(b, st->flags);
	for (unsigned int i = 0; i < (unsigned int)st->nr_kernel + st->nr_user; i++)
		vs_rec_buf_uv(b, st->ips[i]);
}

int vs_rec_get_stack(struct vs_rec_cur *c, vs_stack_id *id, uint32_t *pid, uint32_t *nr_kernel,
		     uint32_t *nr_user, uint32_t *flags, uint64_t *ips)
{
	*id = (vs_stack_id)vs_rec_get_uv(c);
	*pid = (uint32_t)vs_rec_get_uv(c);
	*nr_kernel = (uint32_t)vs_rec_get_uv(c);
	*nr_user = (uint32_t)vs_rec_get_uv(c);
	*flags = (uint32_t)vs_rec_get_uv(c);
	if (*nr_kernel > UINT16_MAX || *nr_user > UINT16_MAX)
		c->bad = 1;
	for (uint32_t i = 0; !c->bad && i < *nr_kernel + *nr_user; i++)
		ips[i] = vs_rec_get_uv(c);
	return c->bad ? -EINVAL : 0;
}

void vs_rec_put_symbol(struct vs_rec_buf *b, uint32_t pid, uint64_t ip, const char *name)
{
	vs_rec_buf_u8(b, VS_REC_SYMBOL);
	vs_rec_buf_uv(b, pid);
	vs_rec_buf_uv(b, ip);
	vs_rec_buf_str(b, name);
}

int vs_rec_get_symbol(struct vs_rec_cur *c, uint32_t *pid, uint64_t *ip, const char **name)
{
	*pid = (uint32_t)vs_rec_get_uv(c);
	*ip = vs_rec_get_uv(c);
	*name = vs_rec_get_str(c);
	if (!*name)
		c->bad = 1;
	return c->bad ? -EINVAL : 0;
}

void vs_rec_put_mapping(struct vs_rec_buf *b, const struct vs_rec_mapping *m)
{
	vs_rec_buf_u8(b, VS_REC_MAPPING);
	vs_rec_buf_uv(b, m->pid);
	vs_rec_buf_uv(b, m->start);
	vs_rec_buf_uv(b, m->end);
	vs_rec_buf_uv(b, m->offset);
	vs_rec_buf_str(b, m->path);
	vs_rec_buf_str(b, m->build_id);
}

int vs_rec_get_mapping(struct vs_rec_cur *c, struct vs_rec_mapping *m)
{
	m->pid = (uint32_t)vs_rec_get_uv(c);
	m->start = vs_rec_get_uv(c);
	m->end = vs_rec_get_uv(c);
	m->offset = vs_rec_get_uv(c);
	m->path = vs_rec_get_str(c);
	m->build_id = vs_rec_get_str(c);
	return c->bad ? -EINVAL : 0;
}

static void put_hist(struct vs_rec_buf *b, const __u32 *h)
{
	for (int i = 0; i < VS_LOCK_HIST; i++)
		vs_rec_buf_uv(b, h[i]);
}

static void get_hist(struct vs_rec_cur *c, __u32 *h)
{
	for (int i = 0; i < VS_LOCK_HIST; i++)
		h[i] = (__u32)vs_rec_get_uv(c);
}

void vs_rec_put_lock_stats(struct vs_rec_buf *b, uint64_t addr, const struct vs_lock_stats *st)
{
	char kind[sizeof(st->kind) + 1], object[sizeof(st->object) + 1];

	memcpy(kind, st->kind, sizeof(st->kind));
	kind[sizeof(st->kind)] = '\0';
	memcpy(object, st->object, sizeof(st->object));
	object[sizeof(st->object)] = '\0';
	vs_rec_buf_u8(b, VS_REC_LOCK_STATS);
	vs_rec_buf_uv(b, addr);
	vs_rec_buf_uv(b, st->acquisitions);
	vs_rec_buf_uv(b, st->contended);
	vs_rec_buf_uv(b, st->wait_ns);
	vs_rec_buf_uv(b, st->wait_max_ns);
	vs_rec_buf_uv(b, st->hold_ns);
	vs_rec_buf_uv(b, st->hold_max_ns);
	vs_rec_buf_uv(b, st->holds);
	put_hist(b, st->wait_hist);
	put_hist(b, st->hold_hist);
	vs_rec_buf_str(b, kind);
	vs_rec_buf_str(b, object);
	vs_rec_buf_uv(b, st->first_site);
}

int vs_rec_get_lock_stats(struct vs_rec_cur *c, uint64_t *addr, struct vs_lock_stats *st)
{
	memset(st, 0, sizeof(*st));
	*addr = vs_rec_get_uv(c);
	st->acquisitions = vs_rec_get_uv(c);
	st->contended = vs_rec_get_uv(c);
	st->wait_ns = vs_rec_get_uv(c);
	st->wait_max_ns = vs_rec_get_uv(c);
	st->hold_ns = vs_rec_get_uv(c);
	st->hold_max_ns = vs_rec_get_uv(c);
	st->holds = vs_rec_get_uv(c);
	get_hist(c, st->wait_hist);
	get_hist(c, st->hold_hist);
	vs_rec_get_strn(c, st->kind, sizeof(st->kind));
	vs_rec_get_strn(c, st->object, sizeof(st->object));
	st->first_site = vs_rec_get_uv(c);
	return c->bad ? -EINVAL : 0;
}

void vs_rec_put_thread_totals(struct vs_rec_buf *b, const struct vs_offcpu_totals *t)
{
	char comm[sizeof(t->comm) + 1];

	memcpy(comm, t->comm, sizeof(t->comm));
	comm[sizeof(t->comm)] = '\0';
	vs_rec_buf_u8(b, VS_REC_THREAD_TOTALS);
	vs_rec_buf_uv(b, t->tid);
	vs_rec_buf_str(b, comm);
	vs_rec_buf_uv(b, t->wall_ns);
	vs_rec_buf_uv(b, t->on_ns);
	vs_rec_buf_uv(b, VS_OFFCPU_NR_REASONS);
	for (int i = 0; i < VS_OFFCPU_NR_REASONS; i++) {
		vs_rec_buf_uv(b, t->off_ns[i]);
		vs_rec_buf_uv(b, t->blocks[i]);
	}
}

int vs_rec_get_thread_totals(struct vs_rec_cur *c, struct vs_offcpu_totals *t)
{
	uint64_t n;

	memset(t, 0, sizeof(*t));
	t->tid = (uint32_t)vs_rec_get_uv(c);
	vs_rec_get_strn(c, t->comm, sizeof(t->comm));
	t->wall_ns = vs_rec_get_uv(c);
	t->on_ns = vs_rec_get_uv(c);
	n = vs_rec_get_uv(c);
	/* A newer writer's extra reasons are summed into the last one known. */
	for (uint64_t i = 0; i < n && !c->bad; i++) {
		uint64_t off = vs_rec_get_uv(c), blocks = vs_rec_get_uv(c);
		size_t k = i < VS_OFFCPU_NR_REASONS ? i : VS_OFFCPU_NR_REASONS - 1;

		t->off_ns[k] += off;
		t->blocks[k] += (uint32_t)blocks;
	}
	return c->bad ? -EINVAL : 0;
}
