/* The "offcpu" collector: where the target's threads spend the time they
 * are not on a CPU (bpf/offcpu.bpf.c). Long blocks become VS_EV_OFFCPU
 * events with the blocked stacks, the lock and its holder for a mutex wait
 * (named as the contention collector names them), and the waker with its
 * stacks; a turn of the event loop past the stall threshold becomes a
 * VS_SPAN_LOOP_ITERATION span named "stall". The per-thread totals stay in
 * BPF and are read once, at the end (vs_offcpu_totals()). A record that
 * comes without stacks because its thread blocked (or woke another) where
 * it did last time gets the stack interned for that last time. */
#include "offcpu.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "offcpu.skel.h"
#include "../lib/htab.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "fetch_eval.h"
#include "probes.h"
#include "session.h"
#include "thread_job.h"

#define DEFAULT_MIN_NS VS_NSEC_PER_MSEC
#define DEFAULT_STALL_NS (100 * VS_NSEC_PER_MSEC)

struct lock_name {
	uint64_t addr; /* key */
	char kind[32];
	char object[64];
};

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for one thread */
#endif

/* A thread's last stack sent, and where it was taken. */
struct last_stack {
	uint32_t tid; /* key */
	uint64_t uip, usp;
	vs_stack_id stack;
};

/* The last long-block wakeup of a thread, kept until its block arrives. */
struct wake_note {
	uint32_t wakee; /* key */
	uint32_t pid, tid;
	uint64_t block_ts;
	char comm[16];
	vs_stack_id stack;
};

struct offcpu {
	struct offcpu_bpf *skel;
	struct ring_buffer *rb;
	struct vs_profile profile;
	int have_profile;
	const struct vs_probe_spec *lock_spec;
	struct vs_job_loc job_loc;
	int mem_fd;
	struct vs_htab *names; /* addr -> struct lock_name */
	struct vs_htab *wakes; /* wakee tid -> struct wake_note */
	struct vs_htab *blocked_at; /* tid -> struct last_stack, of its blocks */
	struct vs_htab *woke_at;    /* tid -> struct last_stack, as a waker */
	uint64_t same_missed;
	uint64_t lost_seen;
	uint32_t loop_tid;
	char loop_comm[16];
};

static const char *const reason_names[VS_OFFCPU_NR_REASONS] = {
	[VS_OFFCPU_OTHER] = "other",   [VS_OFFCPU_RUNQUEUE] = "runqueue",
	[VS_OFFCPU_LOCK] = "lock",     [VS_OFFCPU_FUTEX] = "futex",
	[VS_OFFCPU_POLL] = "poll",     [VS_OFFCPU_IO] = "io",
	[VS_OFFCPU_SLEEP] = "sleep",   [VS_OFFCPU_CHILD] = "child",
	[VS_OFFCPU_SIGNAL] = "signal", [VS_OFFCPU_DISK] = "disk",
	[VS_OFFCPU_DBUS] = "dbus",
};

const char *vs_offcpu_reason_name(uint32_t reason)
{
	return reason < VS_OFFCPU_NR_REASONS ? reason_names[reason] : "?";
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * VS_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static const struct lock_name *name_of(struct offcpu *o, uint64_t addr)
{
	struct lock_name *n = vs_htab_get(o->names, &addr, sizeof(addr));

	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->addr = addr;
	if (o->lock_spec && o->mem_fd >= 0)
		vs_lock_names(o->lock_spec, o->mem_fd, addr, n->kind, sizeof(n->kind), n->object,
			      sizeof(n->object));
	if (vs_htab_put(o->names, &n->addr, sizeof(n->addr), n, NULL)) {
		free(n);
		return NULL;
	}
	return n;
}

static int is_thread_of(pid_t pid, uint32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%u", (int)pid, tid);
	return tid && !access(path, F_OK);
}

static unsigned int kframes(__s32 bytes)
{
	return bytes > 0 ? (unsigned int)bytes / 8 : 0;
}

/* Notes the stack a thread's record came with, or gives back the one its
 * record without stacks stands for (0 when that one was lost). */
static vs_stack_id remember(struct vs_htab *h, uint32_t tid, uint64_t uip, uint64_t usp,
			    vs_stack_id stack)
{
	struct last_stack *l = vs_htab_get(h, &tid, sizeof(tid));

	if (!l) {
		if (!(l = calloc(1, sizeof(*l))))
			return stack;
		l->tid = tid;
		if (vs_htab_put(h, &l->tid, sizeof(l->tid), l, NULL)) {
			free(l);
			return stack;
		}
	}
	l->uip = uip;
	l->usp = usp;
	l->stack = stack;
	return stack;
}

static vs_stack_id recall(struct offcpu *o, struct vs_htab *h, uint32_t tid, uint64_t uip,
			  uint64_t usp, struct vs_stacks *stacks)
{
	const struct last_stack *l = vs_htab_get(h, &tid, sizeof(tid));

	/* Used again, so kept; unless a flight recorder forgot it already. */
	if (l && l->uip == uip && l->usp == usp && vs_stacks_touch(stacks, l->stack))
		return l->stack;
	o->same_missed++;
	return 0;
}

static void on_wake(struct vs_collector *c, const struct vs_offcpu_wake *w, size_t size)
{
	struct offcpu *o = c->priv;
	struct wake_note *n;

	if (size < VS_OFFCPU_WAKE_HDR_SIZE || size < VS_OFFCPU_WAKE_HDR_SIZE + w->snap.len)
		return;
	n = vs_htab_get(o->wakes, &w->wakee, sizeof(w->wakee));
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return;
		n->wakee = w->wakee;
		if (vs_htab_put(o->wakes, &n->wakee, sizeof(n->wakee), n, NULL)) {
			free(n);
			return;
		}
	}
	n->pid = w->pid;
	n->tid = w->tid;
	n->block_ts = w->block_ts;
	memcpy(n->comm, w->comm, sizeof(n->comm));
	n->comm[sizeof(n->comm) - 1] = '\0';
	if (w->flags & VS_OFFCPU_F_SAME)
		n->stack = recall(o, o->woke_at, w->tid, w->uip, w->usp, c->session->stacks);
	else if (w->pid == (uint32_t)c->session->target.pid && w->snap.len)
		n->stack = remember(o->woke_at, w->tid, w->uip, w->usp,
				    vs_collector_stack(c, w->pid, (const uint64_t *)w->kstack,
						       kframes(w->kstack_bytes), &w->snap, NULL, 0));
	else
		n->stack = vs_stacks_intern(c->session->stacks, w->pid, (const uint64_t *)w->kstack,
					    kframes(w->kstack_bytes), NULL, 0, 0);
}

static void on_block(struct vs_collector *c, const struct vs_offcpu_record *r, size_t size)
{
	struct offcpu *o = c->priv;
	struct vs_event ev = { .kind = VS_EV_OFFCPU };
	char job[VS_JOB_NAME_LEN];
	const struct wake_note *w;
	const struct lock_name *n;

	if (size < VS_OFFCPU_RECORD_HDR_SIZE || size < VS_OFFCPU_RECORD_HDR_SIZE + r->snap.len)
		return;
	ev.pid = r->pid;
	ev.tid = r->tid;
	ev.ts_ns = r->ts_ns;
	ev.dur_ns = r->dur_ns;
	memcpy(ev.comm, r->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	if (r->flags & VS_OFFCPU_F_SAME)
		ev.stack = recall(o, o->blocked_at, r->tid, r->uip, r->usp, c->session->stacks);
	else if (r->flags & VS_OFFCPU_F_NO_USER)
		ev.stack = remember(o->blocked_at, r->tid, r->uip, r->usp,
				    vs_stacks_intern(c->session->stacks, r->pid,
						     (const uint64_t *)r->kstack, kframes(r->kstack_bytes),
						     NULL, 0, VS_STACK_USER_UNREADABLE));
	else
		ev.stack = remember(o->blocked_at, r->tid, r->uip, r->usp,
				    vs_collector_stack(c, r->pid, (const uint64_t *)r->kstack,
						       kframes(r->kstack_bytes), &r->snap, NULL, 0));
	ev.offcpu.state = r->state;
	ev.offcpu.reason = r->reason;
	ev.offcpu.syscall = r->syscall;
	ev.offcpu.waker_tid = r->waker;
	w = vs_htab_get(o->wakes, &r->tid, sizeof(r->tid));
	if (w && w->block_ts == r->ts_ns) {
		ev.offcpu.waker_tid = w->tid;
		ev.offcpu.waker_pid = w->pid;
		ev.offcpu.waker_comm = w->comm;
		ev.offcpu.waker_stack = w->stack;
	}
	if (r->reason == VS_OFFCPU_LOCK) {
		ev.offcpu.lock_addr = r->uaddr;
		if (r->owner != r->tid && is_thread_of(c->session->target.pid, r->owner)) {
			ev.offcpu.lock_holder = r->owner;
			memcpy(job, r->owner_job, sizeof(job));
			job[sizeof(job) - 1] = '\0';
			ev.offcpu.lock_holder_job = job[0] ? job : NULL;
		}
		n = name_of(o, r->uaddr);
		if (n) {
			ev.offcpu.lock_kind = n->kind[0] ? n->kind : NULL;
			ev.offcpu.lock_object = n->object[0] ? n->object : NULL;
		}
	}
	vs_collector_emit(c, &ev);
}

static void on_stall(struct vs_collector *c, const struct vs_offcpu_stall *s, size_t size)
{
	struct offcpu *o = c->priv;
	struct vs_event ev = { .kind = VS_EV_SPAN_END };

	if (size < sizeof(*s))
		return;
	ev.pid = (uint32_t)c->session->target.pid;
	ev.tid = s->tid;
	ev.ts_ns = s->ts_ns;
	ev.dur_ns = s->dur_ns;
	memcpy(ev.comm, o->loop_comm, sizeof(ev.comm));
	ev.span.kind = VS_SPAN_LOOP_ITERATION;
	ev.span.name = "stall";
	vs_collector_emit(c, &ev);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct vs_collector *c = ctx;
	const __u32 *type = data;

	if (size < sizeof(*type))
		return 0;
	switch (*type) {
	case VS_OFFCPU_REC_BLOCK: on_block(c, data, size); break;
	case VS_OFFCPU_REC_WAKE: on_wake(c, data, size); break;
	case VS_OFFCPU_REC_STALL: on_stall(c, data, size); break;
	}
	return 0;
}

static void find_profile(struct vs_collector *c, struct offcpu *o)
{
	char err[256];

	if (vs_profile_load_for(&c->session->target, c->session->config.profile, &o->profile, err,
				sizeof(err)))
		return;
	o->have_profile = 1;
	if (vs_thread_job_locate(c->session->target.pid, &o->profile, &o->job_loc, err, sizeof(err)))
		pr_debug("offcpu: lock holders' jobs are not read from memory: %s", err);
	for (size_t i = 0; i < o->profile.nr_probes; i++)
		if (o->profile.probes[i].spec.kind == VS_PK_LOCK_REQUEST) {
			o->lock_spec = &o->profile.probes[i].spec;
			break;
		}
}

/* The event-loop thread: the one whose role the profile says is the main
 * loop, else the main thread (libvirtd's and most daemons'). */
static void find_loop(struct vs_collector *c, struct offcpu *o)
{
	pid_t pid = c->session->target.pid;
	char path[64], comm[16];
	struct dirent *d;
	const char *role;
	DIR *dir;

	o->loop_tid = (uint32_t)pid;
	vs_read_comm(pid, pid, o->loop_comm, sizeof(o->loop_comm));
	if (!o->have_profile)
		return;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		pid_t tid = atoi(d->d_name);

		if (tid <= 0 || vs_read_comm(pid, tid, comm, sizeof(comm)))
			continue;
		role = vs_profile_role_of(&o->profile, comm);
		if (role && !strcmp(role, "main-loop")) {
			o->loop_tid = (uint32_t)tid;
			memcpy(o->loop_comm, comm, sizeof(comm));
			if (tid == pid)
				break;
		}
	}
	closedir(dir);
}

static int offcpu_start(struct vs_collector *c)
{
	const struct vs_config *cfg = &c->session->config;
	uint32_t rb = cfg->ringbuf_size ? cfg->ringbuf_size : 32u << 20; /* records carry up to 16 KiB of stack */
	struct offcpu *o = calloc(1, sizeof(*o));
	char path[64];
	int rc;

	if (!o)
		return -ENOMEM;
	c->priv = o;
	o->mem_fd = -1;
	o->names = vs_htab_new();
	o->wakes = vs_htab_new();
	o->blocked_at = vs_htab_new();
	o->woke_at = vs_htab_new();
	if (!o->names || !o->wakes || !o->blocked_at || !o->woke_at)
		return -ENOMEM;
	find_profile(c, o);
	find_loop(c, o);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)c->session->target.pid);
	o->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	o->skel = offcpu_bpf__open();
	if (!o->skel) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the off-CPU tracer: %s",
			 strerror(errno));
		return rc;
	}
	o->skel->rodata->targ_tgid = (uint32_t)c->session->target.pid;
	o->skel->rodata->min_ns = cfg->offcpu_min_ns ? cfg->offcpu_min_ns : DEFAULT_MIN_NS;
	o->skel->rodata->stall_ns = cfg->stall_ns ? cfg->stall_ns : DEFAULT_STALL_NS;
	o->skel->rodata->wakeup_bytes = rb / 8;
	o->skel->rodata->job_loc = o->job_loc;
	rc = bpf_map__set_max_entries(o->skel->maps.records, rb);
	if (!rc)
		rc = offcpu_bpf__load(o->skel);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "cannot load the off-CPU tracer: %s",
			 strerror(-rc));
		return rc;
	}
	o->skel->bss->loop_tid = o->loop_tid;
	/* Blocks in progress now count from here. */
	o->skel->bss->start_ns = mono_ns();
	rc = offcpu_bpf__attach(o->skel);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "cannot attach the off-CPU tracer: %s",
			 strerror(-rc));
		return rc;
	}
	o->rb = ring_buffer__new(bpf_map__fd(o->skel->maps.records), handle_record, c, NULL);
	if (!o->rb) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the off-CPU ring buffer: %s",
			 strerror(errno));
		return rc;
	}
	return 0;
}

static int offcpu_fd(struct vs_collector *c)
{
	struct offcpu *o = c->priv;

	return o && o->rb ? ring_buffer__epoll_fd(o->rb) : -1;
}

static int offcpu_poll(struct vs_collector *c)
{
	struct offcpu *o = c->priv;

	return vs_collector_consume(c, o->rb, VS_EV_OFFCPU,
				    (const uint64_t *)&o->skel->bss->lost, &o->lost_seen);
}

static void offcpu_stop(struct vs_collector *c)
{
	struct offcpu *o = c->priv;

	if (!o)
		return;
	ring_buffer__free(o->rb);
	offcpu_bpf__destroy(o->skel);
	if (o->mem_fd >= 0)
		close(o->mem_fd);
	vs_htab_free(o->names, free);
	vs_htab_free(o->wakes, free);
	vs_htab_free(o->blocked_at, free);
	vs_htab_free(o->woke_at, free);
	if (o->have_profile)
		vs_profile_release(&o->profile);
	free(o);
	c->priv = NULL;
}

/* Closes a thread's open interval at now (or at its exit). */
static void close_at(const struct vs_offcpu_thread *t, uint64_t start, uint64_t now,
		     struct vs_offcpu_totals *out)
{
	uint64_t from = t->first_ns > start ? t->first_ns : start, to = t->exit_ns ? t->exit_ns : now;

	memcpy(out->off_ns, t->off_ns, sizeof(out->off_ns));
	memcpy(out->blocks, t->blocks, sizeof(out->blocks));
	out->on_ns = t->on_ns;
	if (t->ts_out && now > t->ts_out && t->reason < VS_OFFCPU_NR_REASONS)
		out->off_ns[t->reason] += now - t->ts_out;
	else if (t->ts_in && now > t->ts_in)
		out->on_ns += now - t->ts_in;
	out->wall_ns = to > from ? to - from : 0;
}

/* What /proc says a thread never seen by the tracer is blocked in. */
static uint32_t proc_reason(pid_t pid, uint32_t tid, uint32_t *syscall)
{
	char path[64], buf[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%u/syscall", (int)pid, tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			nr = strtol(buf, NULL, 10);
		fclose(f);
	}
	*syscall = (uint32_t)nr;
	switch (nr) {
	case 202: return VS_OFFCPU_FUTEX;
	case 7: case 23: case 232: case 270: case 271: case 281: case 441: return VS_OFFCPU_POLL;
	case 0: case 1: case 17: case 18: case 43: case 45: case 47: case 288: return VS_OFFCPU_IO;
	case 35: case 230: return VS_OFFCPU_SLEEP;
	case 61: case 247: return VS_OFFCPU_CHILD;
	case 34: case 128: case 130: return VS_OFFCPU_SIGNAL;
	}
	return VS_OFFCPU_OTHER;
}

/* A live thread's state, from its task storage (through a pidfd of the
 * thread). 0, or -1 when the tracer never saw it. */
static int live_state(int map_fd, uint32_t tid, struct vs_offcpu_thread *t)
{
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)tid, PIDFD_THREAD), rc;

	if (pidfd < 0)
		return -1;
	rc = bpf_map_lookup_elem(map_fd, &pidfd, t) ? -1 : 0;
	close(pidfd);
	return rc;
}

int vs_offcpu_totals(const struct vs_collector *c,
		     int (*fn)(const struct vs_offcpu_totals *t, void *arg), void *arg)
{
	const struct offcpu *o = c->priv;
	pid_t pid = c->session->target.pid;
	struct vs_offcpu_exited_key key, next;
	struct vs_offcpu_thread t;
	struct vs_offcpu_totals out;
	uint64_t now, start;
	char path[64];
	struct dirent *d;
	int fd, live_fd, rc = 0, first = 1;
	DIR *dir;

	if (!o || !o->skel)
		return -ENODEV;
	now = mono_ns();
	start = o->skel->bss->start_ns;
	/* Threads that exited while traced. */
	fd = bpf_map__fd(o->skel->maps.exited);
	while (!rc && !bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = 0;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &t))
			continue;
		memset(&out, 0, sizeof(out));
		out.tid = key.tid;
		close_at(&t, start, now, &out);
		snprintf(out.comm, sizeof(out.comm), "%.15s", t.comm[0] ? t.comm : "?");
		rc = fn(&out, arg);
	}
	/* Live threads: seen by the tracer, or blocked all along. */
	live_fd = bpf_map__fd(o->skel->maps.threads);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = rc ? NULL : opendir(path);
	while (dir && !rc && (d = readdir(dir))) {
		uint32_t tid = (uint32_t)atoi(d->d_name), nr;

		if (!tid)
			continue;
		memset(&out, 0, sizeof(out));
		out.tid = tid;
		vs_read_comm(pid, (pid_t)tid, out.comm, sizeof(out.comm));
		if (!live_state(live_fd, tid, &t)) {
			close_at(&t, start, now, &out);
		} else {
			out.wall_ns = now - start;
			t.reason = proc_reason(pid, tid, &nr);
			out.off_ns[t.reason] = out.wall_ns;
		}
		rc = fn(&out, arg);
	}
	if (dir)
		closedir(dir);
	return rc;
}

int vs_offcpu_info(const struct vs_collector *c, struct vs_offcpu_info *info)
{
	const struct offcpu *o = c->priv;

	if (!o || !o->skel)
		return -ENODEV;
	memset(info, 0, sizeof(*info));
	info->loop_tid = o->loop_tid;
	memcpy(info->loop_comm, o->loop_comm, sizeof(info->loop_comm));
	info->loop = o->skel->bss->loop;
	info->rseq_emits = o->skel->bss->rseq_emits;
	info->switch_emits = o->skel->bss->switch_emits;
	info->late_emits = o->skel->bss->late_emits;
	info->same_emits = o->skel->bss->same_emits;
	info->same_wakes = o->skel->bss->same_wakes;
	info->same_missed = o->same_missed;
	info->start_ns = o->skel->bss->start_ns;
	info->unpaired = o->skel->bss->unpaired;
	return 0;
}

const struct vs_collector_ops vs_offcpu_collector = {
	.name = "offcpu",
	.summary = "time threads spend blocked, why, with stacks and wakers; event-loop stalls",
	.start = offcpu_start,
	.fd = offcpu_fd,
	.poll = offcpu_poll,
	.stop = offcpu_stop,
};
