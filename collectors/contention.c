/* The "contention" collector: waits on contended mutexes of any daemon, from
 * futex system calls (bpf/contention.bpf.c), at no cost to uncontended
 * locking. A wait's lock is named the way the daemon's profile names it
 * (its lock.request probe's fetches, evaluated against the target's memory
 * through /proc/PID/mem), else by address; its holder is the mutex's owner,
 * kept only when it is a thread of the target, with what it was doing: its
 * job (where the profile says where threads keep it), the call it was
 * blocked in, and its stack then. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/contention.h"
#include "contention.skel.h"
#include "../lib/htab.h"
#include "../lib/util.h"
#include "collector.h"
#include "contention.h"
#include "../lib/log.h"
#include "fetch_eval.h"
#include "probes.h"
#include "session.h"
#include "syscall_name.h"
#include "thread_job.h"

#define DEFAULT_MIN_NS (10 * VS_NSEC_PER_MSEC)

struct lock_name {
	uint64_t addr; /* key */
	char kind[32];
	char object[64];
};

struct contention {
	struct contention_bpf *skel;
	struct ring_buffer *rb;
	struct vs_profile profile;
	int have_profile;
	const struct vs_probe_spec *lock_spec; /* the profile's lock.request, if any */
	int mem_fd;
	struct vs_htab *names; /* addr -> struct lock_name */
	uint64_t lost_seen;
	struct vs_job_loc job_loc;
	/* The last owner's stack sent, by (owner, when it was taken). */
	uint32_t holder_tid;
	uint64_t holder_ts;
	vs_stack_id holder_stack;
	const volatile struct vs_contention_wait_now *waits_now; /* mapped on first use */
};

static const struct lock_name *name_of(struct contention *ct, uint64_t addr)
{
	struct lock_name *n = vs_htab_get(ct->names, &addr, sizeof(addr));

	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->addr = addr;
	if (ct->lock_spec && ct->mem_fd >= 0)
		vs_lock_names(ct->lock_spec, ct->mem_fd, addr, n->kind, sizeof(n->kind), n->object,
			      sizeof(n->object));
	if (vs_htab_put(ct->names, &n->addr, sizeof(n->addr), n, NULL)) {
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

static void copy_str(char *dst, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len - 1] = '\0';
}

static int handle_holder(struct vs_collector *c, const void *data, size_t size)
{
	struct contention *ct = c->priv;
	const struct vs_contention_holder *h = data;

	if (size < VS_CONTENTION_HOLDER_HDR_SIZE ||
	    size < VS_CONTENTION_HOLDER_HDR_SIZE + h->snap.len)
		return 0;
	ct->holder_tid = h->tid;
	ct->holder_ts = h->ts_ns;
	ct->holder_stack = vs_collector_stack(c, c->session->target.pid, NULL, 0, &h->snap, NULL, 0);
	return 0;
}

static int handle_wait(struct vs_collector *c, const void *data, size_t size)
{
	struct contention *ct = c->priv;
	const struct vs_contention_record *r = data;
	char comm[VS_COMM_LEN], job[VS_JOB_NAME_LEN], owner_comm[VS_COMM_LEN],
		owner_job[VS_JOB_NAME_LEN], call[48];
	const struct lock_name *n;
	struct vs_event ev = { .kind = VS_EV_LOCK };

	if (size < VS_CONTENTION_RECORD_HDR_SIZE || size < VS_CONTENTION_RECORD_HDR_SIZE + r->snap.len)
		return 0;
	ev.pid = r->pid;
	ev.tid = r->tid;
	ev.ts_ns = r->ts_ns;
	ev.dur_ns = r->dur_ns;
	copy_str(comm, r->comm, sizeof(comm));
	memcpy(ev.comm, comm, sizeof(ev.comm));
	if (r->flags & VS_CONTENTION_WAITER_STACK)
		ev.stack = vs_collector_stack(c, r->pid, NULL, 0, &r->snap, NULL, 0);
	ev.lock.phase = VS_LOCK_WAIT;
	ev.lock.addr = r->uaddr;
	copy_str(job, r->job, sizeof(job));
	ev.lock.job = job[0] ? job : NULL;
	if (r->owner != r->tid && is_thread_of(c->session->target.pid, r->owner)) {
		ev.lock.holder_tid = r->owner;
		ev.lock.holder_waits = r->owner_waits;
		copy_str(owner_comm, r->owner_comm, sizeof(owner_comm));
		copy_str(owner_job, r->owner_job, sizeof(owner_job));
		ev.lock.holder_comm = owner_comm[0] ? owner_comm : NULL;
		ev.lock.holder_job = owner_job[0] ? owner_job : NULL;
		ev.lock.holder_seen = owner_comm[0] != '\0';
		if (r->flags & VS_CONTENTION_OWNER_BLOCKED)
			ev.lock.holder_call = r->owner_syscall >= 0
						      ? vs_syscall_name(r->owner_syscall, call, sizeof(call))
						      : "a fault or interrupt";
		if (r->owner_snap_ts && ct->holder_tid == r->owner && ct->holder_ts == r->owner_snap_ts)
			ev.lock.holder_stack = ct->holder_stack;
	}
	n = name_of(ct, r->uaddr);
	if (n) {
		ev.lock.kind = n->kind[0] ? n->kind : NULL;
		ev.lock.object = n->object[0] ? n->object : NULL;
	}
	vs_collector_emit(c, &ev);
	return 0;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	const uint32_t *type = data;

	if (size < sizeof(*type))
		return 0;
	switch (*type) {
	case VS_CONTENTION_HOLDER: return handle_holder(ctx, data, size);
	case VS_CONTENTION_WAIT: return handle_wait(ctx, data, size);
	default: return 0;
	}
}

static void find_lock_spec(struct vs_collector *c, struct contention *ct)
{
	char err[256];

	if (vs_profile_load_for(&c->session->target, c->session->config.profile, &ct->profile, err,
				sizeof(err)))
		return; /* no profile: locks keep their addresses */
	ct->have_profile = 1;
	if (vs_thread_job_locate(c->session->target.pid, &ct->profile, &ct->job_loc, err,
				 sizeof(err)))
		pr_debug("contention: holders' jobs are unknown: %s", err);
	for (size_t i = 0; i < ct->profile.nr_probes; i++)
		if (ct->profile.probes[i].spec.kind == VS_PK_LOCK_REQUEST) {
			ct->lock_spec = &ct->profile.probes[i].spec;
			break;
		}
}

static int contention_start(struct vs_collector *c)
{
	const struct vs_config *cfg = &c->session->config;
	uint32_t rb = cfg->ringbuf_size ? cfg->ringbuf_size : 4u << 20;
	struct contention *ct = calloc(1, sizeof(*ct));
	char path[64];
	int rc;

	if (!ct)
		return -ENOMEM;
	c->priv = ct;
	ct->mem_fd = -1;
	ct->names = vs_htab_new();
	if (!ct->names)
		return -ENOMEM;
	find_lock_spec(c, ct);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)c->session->target.pid);
	ct->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	ct->skel = contention_bpf__open();
	if (!ct->skel) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the contention tracer: %s",
			 strerror(errno));
		return rc;
	}
	ct->skel->rodata->targ_tgid = (uint32_t)c->session->target.pid;
	ct->skel->rodata->min_ns = cfg->lock_min_ns ? cfg->lock_min_ns : DEFAULT_MIN_NS;
	ct->skel->rodata->wakeup_bytes = rb / 8;
	ct->skel->rodata->job_loc = ct->job_loc;
	rc = bpf_map__set_max_entries(ct->skel->maps.records, rb);
	if (!rc)
		rc = contention_bpf__load(ct->skel);
	if (!rc)
		rc = contention_bpf__attach(ct->skel);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "cannot start the contention tracer: %s",
			 strerror(-rc));
		return rc;
	}
	ct->rb = ring_buffer__new(bpf_map__fd(ct->skel->maps.records), handle_record, c, NULL);
	if (!ct->rb) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the contention ring buffer: %s",
			 strerror(errno));
		return rc;
	}
	return 0;
}

static int contention_fd(struct vs_collector *c)
{
	struct contention *ct = c->priv;

	return ct && ct->rb ? ring_buffer__epoll_fd(ct->rb) : -1;
}

static int contention_poll(struct vs_collector *c)
{
	struct contention *ct = c->priv;

	return vs_collector_consume(c, ct->rb, VS_EV_LOCK,
				    (const uint64_t *)&ct->skel->bss->lost, &ct->lost_seen);
}

static void contention_stop(struct vs_collector *c)
{
	struct contention *ct = c->priv;

	if (!ct)
		return;
	ring_buffer__free(ct->rb);
	if (ct->waits_now)
		munmap((void *)ct->waits_now, sizeof(*ct->waits_now) * VS_CONTENTION_WAIT_SLOTS);
	contention_bpf__destroy(ct->skel);
	if (ct->mem_fd >= 0)
		close(ct->mem_fd);
	vs_htab_free(ct->names, free);
	if (ct->have_profile)
		vs_profile_release(&ct->profile);
	free(ct);
	c->priv = NULL;
}

int vs_contention_lock_stats(const struct vs_collector *c,
			     int (*fn)(uint64_t addr, const struct vs_lock_stats *st, void *arg),
			     void *arg)
{
	struct contention *ct = c->priv;
	struct vs_contention_stats *cs = NULL;
	struct vs_lock_stats st;
	__u64 key, next;
	int fd, rc = 0, first = 1, ncpu = libbpf_num_possible_cpus();

	if (!ct || !ct->skel)
		return -ENODEV;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	/* one value per CPU (the counters are per CPU in BPF) */
	cs = calloc((size_t)ncpu, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	fd = bpf_map__fd(ct->skel->maps.stats);
	while (!rc && !bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		const struct lock_name *n;

		first = 0;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, cs))
			continue;
		memset(&st, 0, sizeof(st));
		for (int i = 0; i < ncpu; i++) {
			st.contended += cs[i].waits;
			st.wait_ns += cs[i].wait_ns;
			if (cs[i].wait_max_ns > st.wait_max_ns)
				st.wait_max_ns = cs[i].wait_max_ns;
			for (int b = 0; b < VS_LOCK_HIST; b++)
				st.wait_hist[b] += cs[i].wait_hist[b];
		}
		n = name_of(ct, key);
		if (n) {
			snprintf(st.kind, sizeof(st.kind), "%s", n->kind);
			snprintf(st.object, sizeof(st.object), "%.31s", n->object);
		}
		rc = fn(key, &st, arg);
	}
	free(cs);
	return rc;
}

int vs_contention_waits_now(const struct vs_collector *c,
			    int (*fn)(const struct vs_lock_wait_now *w, void *arg), void *arg)
{
	struct contention *ct = c->priv;
	char owner_job[VS_JOB_NAME_LEN];
	int rc = 0;

	if (!ct || !ct->skel)
		return -ENODEV;
	/* The array is mapped once: reading it costs no system call. */
	if (!ct->waits_now) {
		void *m = mmap(NULL, sizeof(*ct->waits_now) * VS_CONTENTION_WAIT_SLOTS, PROT_READ,
			       MAP_SHARED, bpf_map__fd(ct->skel->maps.waits_now), 0);

		if (m == MAP_FAILED)
			return -errno;
		ct->waits_now = m;
	}
	for (size_t i = 0; !rc && i < VS_CONTENTION_WAIT_SLOTS; i++) {
		struct vs_contention_wait_now slot;
		struct vs_lock_wait_now w = { 0 };
		const struct lock_name *n;

		memcpy(&slot, (const void *)&ct->waits_now[i], sizeof(slot));
		if (!slot.tid || !slot.ts || !slot.uaddr)
			continue;
		copy_str(owner_job, slot.owner_job, sizeof(owner_job));
		n = name_of(ct, slot.uaddr);
		w.tid = slot.tid;
		w.owner = slot.owner;
		w.addr = slot.uaddr;
		w.since_ns = slot.ts;
		w.kind = n && n->kind[0] ? n->kind : NULL;
		w.object = n && n->object[0] ? n->object : NULL;
		w.owner_job = owner_job[0] ? owner_job : NULL;
		rc = fn(&w, arg);
	}
	return rc;
}

const struct vs_collector_ops vs_contention_collector = {
	.name = "contention",
	.summary = "waits on contended locks of any daemon, from futex calls (no cost when free)",
	.start = contention_start,
	.fd = contention_fd,
	.poll = contention_poll,
	.stop = contention_stop,
};
