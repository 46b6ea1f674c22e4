// SPDX-License-Identifier: GPL-2.0
/* The probe engine's BPF side (see probes.h): every USDT probe, uprobe and
 * uretprobe of a profile runs one of these three programs, which look up the
 * hit's spec by cookie, fetch its fields, and send one record. Pairing hits
 * into spans happens in user space (collectors/probe_events.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>
#include "probes.h"
#include "ustack.bpf.h"
#include "uret.bpf.h"
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;
/* Wake the reader only once this much is waiting: a wake-up per record
 * costs more than the rest of a hit, and the reader polls on a tick anyway. */
const volatile __u64 wakeup_bytes = 1 << 20;

__u64 lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VS_PROBE_MAX);
	__type(key, __u32);
	__type(value, struct vs_probe_spec);
} specs SEC(".maps");

/* Entry fields waiting for their return probe, by (tid << 32 | entry probe). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct vs_probe_fields);
} stash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_probe_record);
} scratch SEC(".maps");

const volatile __u64 lock_min_ns = 10000000; /* waits and holds sent as records */

struct lock_request {
	__u64 addr;
	__u64 ts;
	__u32 holder;      /* who held the lock when it was asked for */
	__u32 pad;
	__u64 holder_wait; /* the lock that holder was waiting for then */
};

struct lock_held {
	__u32 tid;
	__u32 pad;
	__u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct lock_request);
} lock_requests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* lock address */
	__type(value, struct lock_held);
} lock_holders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct vs_lock_stats);
} lock_stats SEC(".maps");

/* Where a thread took the locks it holds: a short copy of its stack as each
 * acquisition returned, sent with the hold if the hold is long. Two slots: an
 * outer lock (a domain's) stays put while inner ones come and go in the
 * other. In task storage: no hashing, and no entry for threads that never
 * lock. */
struct lock_take {
	__u64 addr; /* 0: free */
	__u64 regs[VS_UREG_COUNT];
	__u32 len;
	__u32 pad;
	__u8 data[VS_LOCK_TAKE_STACK];
};

struct lock_takes {
	struct lock_take slot[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lock_takes);
} lock_takes SEC(".maps");

/* A new lock's entry is built here: it is too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_lock_stats);
} lock_stats_new SEC(".maps");

/* A copy of the hit's registers: the context itself may only be read at
 * constant offsets, and fetches pick registers by number. Boxed, because a
 * bare struct pt_regs argument would be taken for the context. */
struct regs_box {
	struct pt_regs r;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct regs_box);
} regs_copy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} records SEC(".maps");

static __always_inline int read_arg(struct pt_regs *ctx, const struct pt_regs *regs, int usdt,
				    __s64 n, __u64 *out)
{
	long v = 0;

	if (usdt) {
		if (bpf_usdt_arg(ctx, (__u64)(n - 1), &v))
			return -1;
		*out = (__u64)v;
		return 0;
	}
	/* x86-64 SysV: rdi, rsi, rdx, rcx, r8, r9, then the stack above the
	 * return address. */
	switch (n) {
	case 1: *out = regs->di; return 0;
	case 2: *out = regs->si; return 0;
	case 3: *out = regs->dx; return 0;
	case 4: *out = regs->cx; return 0;
	case 5: *out = regs->r8; return 0;
	case 6: *out = regs->r9; return 0;
	}
	if (n < 7 || n > 16)
		return -1;
	return bpf_probe_read_user(out, sizeof(*out), (void *)(regs->sp + 8 * (n - 6))) ? -1 : 0;
}

static __always_inline __u64 read_reg(const struct pt_regs *regs, __s64 r)
{
	switch (r) {
	case VS_UREG_RAX: return regs->ax;
	case VS_UREG_RDX: return regs->dx;
	case VS_UREG_RCX: return regs->cx;
	case VS_UREG_RBX: return regs->bx;
	case VS_UREG_RSI: return regs->si;
	case VS_UREG_RDI: return regs->di;
	case VS_UREG_RBP: return regs->bp;
	case VS_UREG_RSP: return regs->sp;
	case VS_UREG_R8: return regs->r8;
	case VS_UREG_R9: return regs->r9;
	case VS_UREG_R10: return regs->r10;
	case VS_UREG_R11: return regs->r11;
	case VS_UREG_R12: return regs->r12;
	case VS_UREG_R13: return regs->r13;
	case VS_UREG_R14: return regs->r14;
	case VS_UREG_R15: return regs->r15;
	case VS_UREG_RIP: return regs->ip;
	}
	return 0;
}

/* Runs one fetch program; 0 with the value in *out, or -1. A global
 * function, so that the verifier checks it once rather than at every call. */
__noinline int run_fetch(struct pt_regs *ctx, const struct regs_box *box, int usdt,
			 const struct vs_fetch *f, __u64 *out)
{
	const struct pt_regs *regs;
	__u64 v = 0;

	if (!f || !out || !box)
		return -1;
	regs = &box->r;
	for (int i = 0; i < VS_PROBE_OPS; i++) {
		const struct vs_fetch_op *op = &f->ops[i];
		__u32 v32;
		__u8 v8;

		switch (op->op) {
		case VS_FOP_END:
			*out = v;
			return 0;
		case VS_FOP_ARG:
			if (read_arg(ctx, regs, usdt, op->imm, &v))
				return -1;
			break;
		case VS_FOP_RETVAL:
			v = regs->ax;
			break;
		case VS_FOP_REG:
			v = read_reg(regs, op->imm);
			break;
		case VS_FOP_CONST:
			v = (__u64)op->imm;
			break;
		case VS_FOP_ADD:
			v += (__u64)op->imm;
			break;
		case VS_FOP_DEREF64:
			if (bpf_probe_read_user(&v, sizeof(v), (void *)(v + op->imm)))
				return -1;
			break;
		case VS_FOP_DEREF32:
			if (bpf_probe_read_user(&v32, sizeof(v32), (void *)(v + op->imm)))
				return -1;
			v = v32;
			break;
		case VS_FOP_DEREF8:
			if (bpf_probe_read_user(&v8, sizeof(v8), (void *)(v + op->imm)))
				return -1;
			v = v8;
			break;
		case VS_FOP_SEXT32:
			v = (__u64)(__s64)(__s32)v;
			break;
		default:
			return -1;
		}
	}
	*out = v;
	return 0;
}

/* Blanks strings the spec's checks do not vouch for (see probes.h). */
static __always_inline void check_fields(const struct vs_probe_spec *spec, struct vs_probe_fields *f)
{
	if (spec->check_mask && (f->nums[VS_PN_AUX] & spec->check_mask) != spec->check_value) {
		f->strs[VS_PS_KIND][0] = '\0';
		f->strs[VS_PS_OBJECT][0] = '\0';
		return;
	}
	if (!spec->object_if_kind[0])
		return;
	for (int i = 0; i < sizeof(spec->object_if_kind); i++) {
		if (spec->object_if_kind[i] != f->strs[VS_PS_KIND][i]) {
			f->strs[VS_PS_OBJECT][0] = '\0';
			return;
		}
		if (!spec->object_if_kind[i])
			return;
	}
}

static __always_inline void fetch_fields(struct pt_regs *ctx, const struct regs_box *regs,
					 int usdt, const struct vs_probe_spec *spec,
					 struct vs_probe_fields *f)
{
	__u64 v;

	for (int i = 0; i < VS_PROBE_NUMS; i++) {
		if (!(spec->nums_mask & (1u << i)))
			continue;
		if (run_fetch(ctx, regs, usdt, &spec->nums[i], &v))
			f->failed |= 1u << i;
		else
			f->nums[i] = v;
	}
	for (int i = 0; i < VS_PROBE_STRS; i++) {
		if (!(spec->strs_mask & (1u << i)))
			continue;
		if (run_fetch(ctx, regs, usdt, &spec->strs[i], &v) ||
		    bpf_probe_read_user_str(f->strs[i], VS_PROBE_STR_LEN, (void *)v) < 0) {
			f->failed |= 1u << (8 + i);
			f->strs[i][0] = '\0';
		}
	}
	check_fields(spec, f);
}

static __always_inline void update_max(__u64 *max, __u64 v)
{
	if (v > *max)
		*max = v; /* racy between CPUs, and only ever low by one update */
}

static __always_inline void send(struct vs_probe_record *r, __u64 size)
{
	if (bpf_ringbuf_output(&records, r, size,
			       bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				       ? BPF_RB_FORCE_WAKEUP
				       : BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&lost, 1);
}

/* The first time a lock is asked for, its names are fetched once. */
static __always_inline struct vs_lock_stats *lock_stats_of(struct pt_regs *ctx,
							   const struct regs_box *regs, int usdt,
							   const struct vs_probe_spec *spec,
							   __u64 addr, struct vs_probe_record *r)
{
	struct vs_lock_stats *st = bpf_map_lookup_elem(&lock_stats, &addr), *fresh;
	__u32 zero = 0;

	if (st)
		return st;
	fresh = bpf_map_lookup_elem(&lock_stats_new, &zero);
	if (!fresh)
		return 0;
	/* The record scratch is free at this point: fetch into it. */
	__builtin_memset(&r->f, 0, sizeof(r->f));
	fetch_fields(ctx, regs, usdt, spec, &r->f);
	__builtin_memset(fresh, 0, sizeof(*fresh));
	__builtin_memcpy(fresh->kind, r->f.strs[VS_PS_KIND], sizeof(fresh->kind));
	__builtin_memcpy(fresh->object, r->f.strs[VS_PS_OBJECT], sizeof(fresh->object));
	fresh->kind[sizeof(fresh->kind) - 1] = '\0';
	fresh->object[sizeof(fresh->object) - 1] = '\0';
	if (usdt)
		fresh->first_site = regs->r.ip;
	else if (bpf_probe_read_user(&fresh->first_site, sizeof(fresh->first_site),
				     (const void *)regs->r.sp))
		fresh->first_site = 0;
	bpf_map_update_elem(&lock_stats, &addr, fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&lock_stats, &addr);
}

static __always_inline __u64 fetch_addr(struct pt_regs *ctx, const struct regs_box *regs, int usdt,
					const struct vs_probe_spec *spec, int *ok)
{
	__u64 v = 0;

	*ok = (spec->nums_mask & 1) && !run_fetch(ctx, regs, usdt, &spec->nums[VS_PN_ADDR], &v);
	return v;
}

static __always_inline void lock_request(struct pt_regs *ctx, const struct regs_box *regs, int usdt,
					 const struct vs_probe_spec *spec, __u32 tid,
					 struct vs_probe_record *r)
{
	struct lock_request req = {};
	struct lock_request *hreq;
	struct lock_held *h;
	int ok;

	req.addr = fetch_addr(ctx, regs, usdt, spec, &ok);
	if (!ok)
		return;
	req.ts = bpf_ktime_get_ns();
	h = bpf_map_lookup_elem(&lock_holders, &req.addr);
	if (h && h->tid != tid) {
		req.holder = h->tid;
		hreq = bpf_map_lookup_elem(&lock_requests, &req.holder);
		if (hreq)
			req.holder_wait = hreq->addr;
	}
	lock_stats_of(ctx, regs, usdt, spec, req.addr, r);
	bpf_map_update_elem(&lock_requests, &tid, &req, BPF_ANY);
}

static __always_inline void lock_reacquire_later(struct pt_regs *ctx, const struct regs_box *regs,
						 int usdt, const struct vs_probe_spec *spec, __u32 tid)
{
	struct lock_request req = {};
	int ok;

	req.addr = fetch_addr(ctx, regs, usdt, spec, &ok);
	if (ok) /* ts 0: no wait to measure on return */
		bpf_map_update_elem(&lock_requests, &tid, &req, BPF_ANY);
}

static __always_inline void fill_lock_record(struct vs_probe_record *r, __u64 addr, __u64 start,
					     __u64 dur, const struct vs_lock_stats *st)
{
	__builtin_memset(&r->f, 0, sizeof(r->f));
	r->f.nums[VS_PN_ADDR] = addr;
	r->f.nums[VS_PN_VALUE] = dur;
	r->f.nums[VS_PN_TIMEOUT] = start;
	if (st) {
		__builtin_memcpy(r->f.strs[VS_PS_KIND], st->kind, sizeof(st->kind));
		__builtin_memcpy(r->f.strs[VS_PS_OBJECT], st->object, sizeof(st->object));
	}
}

/* A record without a stack is sent without the string fields past the last
 * one its probe (or, for a return probe, its entry probe) fetches: an RPC's
 * three records carry none, and were 3.3 times their size with them, in a
 * ring that floods when the reader is kept off the CPU. */
static __always_inline __u64 without_unused_strs(const struct vs_probe_spec *spec)
{
	__u32 strs = spec->strs_mask, n = 0;

	if (spec->flags & VS_PF_RETURN) {
		__u32 entry = spec->entry_probe;
		const struct vs_probe_spec *e = bpf_map_lookup_elem(&specs, &entry);

		if (e)
			strs |= e->strs_mask;
	}
	for (__u32 i = 0; i < VS_PROBE_STRS; i++)
		if (strs & (1u << i))
			n = i + 1;
	return VS_PROBE_RECORD_STRS_OFFSET + n * VS_PROBE_STR_LEN;
}

static __always_inline __u64 with_stack(struct vs_probe_record *r, const struct vs_probe_spec *spec,
					const struct regs_box *regs)
{
	__u64 size = without_unused_strs(spec);

	if (spec->flags & VS_PF_STACK) {
		vs_snapshot_user(&r->snap, &regs->r);
		vs_mend_uret(&r->snap);
		size = VS_PROBE_RECORD_SNAP_HDR_SIZE + r->snap.len;
		if (size > sizeof(*r))
			size = sizeof(*r);
	}
	return size;
}

/* Return addresses that uretprobes rewrote in a taken stack, put back as
 * vs_mend_uret() does for a full snapshot: while the lock is taken the
 * kernel still knows them. */
static __always_inline void mend_take(struct lock_take *t)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri = BPF_CORE_READ(task, utask, return_instances);
	__u64 sp = t->regs[VS_UREG_RSP];

	for (int i = 0; i < VS_URET_MAX && ri; i++) {
		__u64 slot = BPF_CORE_READ(ri, stack), orig = BPF_CORE_READ(ri, orig_ret_vaddr);
		__u64 off = slot - sp;

		if (slot >= sp && !(off & 7) && off + 8 <= t->len)
			*(__u64 *)(t->data + (off & (VS_LOCK_TAKE_STACK - 8))) = orig;
		ri = BPF_CORE_READ(ri, next);
	}
}

/* Copies where the current thread takes lock addr into one of its slots. */
static __always_inline void note_take(const struct regs_box *regs, __u64 addr)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct lock_takes *ts = bpf_task_storage_get(&lock_takes, task, 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE);
	struct lock_take *t;
	__u32 len = 0;
	__u64 sp;

	if (!ts)
		return;
	t = !ts->slot[0].addr || ts->slot[0].addr == addr ? &ts->slot[0] : &ts->slot[1];
	t->addr = addr;
	vs_fill_uregs(t->regs, &regs->r);
	sp = t->regs[VS_UREG_RSP];
	/* the end of the stack may lie within the copy: what can be read */
	for (int i = 0; i < VS_LOCK_TAKE_STACK / 256; i++) {
		if (bpf_probe_read_user(t->data + i * 256, 256, (const void *)(sp + i * 256)))
			break;
		len += 256;
	}
	t->len = len;
	mend_take(t);
}

/* The stack lock addr was taken with, into r for its hold; the slot is
 * freed either way. The record's size, or 0 if none was kept. */
static __always_inline __u64 took_stack(struct vs_probe_record *r, __u64 addr, int send_it)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct lock_takes *ts = bpf_task_storage_get(&lock_takes, task, 0, 0);
	struct lock_take *t;
	__u32 len;

	if (!ts)
		return 0;
	if (ts->slot[0].addr == addr)
		t = &ts->slot[0];
	else if (ts->slot[1].addr == addr)
		t = &ts->slot[1];
	else
		return 0;
	t->addr = 0;
	if (!send_it)
		return 0;
	__builtin_memcpy(r->snap.regs, t->regs, sizeof(t->regs));
	r->snap.flags = 0;
	len = t->len;
	if (len > VS_LOCK_TAKE_STACK)
		len = VS_LOCK_TAKE_STACK;
	r->snap.len = len;
	if (bpf_probe_read_kernel(r->snap.data, VS_LOCK_TAKE_STACK, t->data))
		return 0;
	return VS_PROBE_RECORD_SNAP_HDR_SIZE + len; /* bounded for the verifier */
}

static __always_inline void lock_acquired(struct pt_regs *ctx, const struct regs_box *regs,
					  int usdt, const struct vs_probe_spec *spec, __u32 tid,
					  struct vs_probe_record *r)
{
	struct lock_request *req = bpf_map_lookup_elem(&lock_requests, &tid);
	struct lock_held held = { .tid = tid };
	struct vs_lock_stats *st;
	__u64 now = bpf_ktime_get_ns(), addr, wait;
	int ok;

	addr = fetch_addr(ctx, regs, usdt, spec, &ok);
	if (!req || (ok && req->addr != addr))
		return;
	addr = req->addr;
	held.ts = now;
	bpf_map_update_elem(&lock_holders, &addr, &held, BPF_ANY);
	if (spec->flags & VS_PF_STACK)
		note_take(regs, addr);
	if (!req->ts) {
		bpf_map_delete_elem(&lock_requests, &tid);
		return;
	}
	wait = now - req->ts;
	st = bpf_map_lookup_elem(&lock_stats, &addr);
	if (st) {
		__sync_fetch_and_add(&st->acquisitions, 1);
		if (req->holder)
			__sync_fetch_and_add(&st->contended, 1);
		__sync_fetch_and_add(&st->wait_ns, wait);
		update_max(&st->wait_max_ns, wait);
		__u32 b = vs_log2_bucket(wait);
		if (b < VS_LOCK_HIST)
			__sync_fetch_and_add(&st->wait_hist[b], 1);
	}
	if (wait >= lock_min_ns) {
		fill_lock_record(r, addr, req->ts, wait, st);
		r->f.nums[VS_PN_ID] = req->holder;
		r->f.nums[VS_PN_AUX] = req->holder_wait;
		send(r, with_stack(r, spec, regs));
	}
	bpf_map_delete_elem(&lock_requests, &tid);
}

static __always_inline void lock_release(struct pt_regs *ctx, const struct regs_box *regs, int usdt,
					 const struct vs_probe_spec *spec, struct vs_probe_record *r)
{
	struct vs_lock_stats *st;
	struct lock_held *h;
	__u64 now = bpf_ktime_get_ns(), addr, hold, start;
	int ok;

	addr = fetch_addr(ctx, regs, usdt, spec, &ok);
	if (!ok)
		return;
	h = bpf_map_lookup_elem(&lock_holders, &addr);
	if (!h)
		return;
	start = h->ts;
	hold = now - start;
	bpf_map_delete_elem(&lock_holders, &addr);
	st = bpf_map_lookup_elem(&lock_stats, &addr);
	if (st) {
		__sync_fetch_and_add(&st->holds, 1);
		__sync_fetch_and_add(&st->hold_ns, hold);
		update_max(&st->hold_max_ns, hold);
		__u32 b = vs_log2_bucket(hold);
		if (b < VS_LOCK_HIST)
			__sync_fetch_and_add(&st->hold_hist[b], 1);
	}
	if (hold >= lock_min_ns) {
		__u64 size;

		fill_lock_record(r, addr, start, hold, st);
		/* where it was taken, else where it is let go */
		size = took_stack(r, addr, 1);
		send(r, size ? size : with_stack(r, spec, regs));
	} else {
		took_stack(r, addr, 0);
	}
}

static __always_inline int handle(struct pt_regs *ctx, int usdt, __u32 idx)
{
	__u64 id = bpf_get_current_pid_tgid(), key;
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0, ppid = 0;
	const struct vs_probe_spec *spec;
	struct vs_probe_fields *kept;
	struct vs_probe_record *r;
	struct regs_box *regs;

	if (tgid != targ_tgid) {
		/* Only probes attached to every process get here: child-side
		 * ones, like exec, which count for the target's children. */
		struct task_struct *task = bpf_get_current_task_btf();

		ppid = task->real_parent->tgid;
		if (ppid != targ_tgid)
			return 0;
	}
	spec = bpf_map_lookup_elem(&specs, &idx);
	r = bpf_map_lookup_elem(&scratch, &zero);
	regs = bpf_map_lookup_elem(&regs_copy, &zero);
	if (!spec || !r || !regs || bpf_probe_read_kernel(&regs->r, sizeof(regs->r), ctx))
		return 0;
	r->ts_ns = bpf_ktime_get_ns();
	r->pid = tgid;
	r->tid = tid;
	r->probe = idx;
	r->ppid = ppid;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	switch (spec->kind) {
	case VS_PK_LOCK_REQUEST:
		lock_request(ctx, regs, usdt, spec, tid, r);
		return 0;
	case VS_PK_LOCK_ACQUIRED:
		lock_acquired(ctx, regs, usdt, spec, tid, r);
		return 0;
	case VS_PK_LOCK_RELEASE:
		lock_release(ctx, regs, usdt, spec, r);
		return 0;
	case VS_PK_LOCK_COND_WAIT:
		/* pthread_cond_wait() gives the mutex up and takes it back
		 * without the daemon's lock functions seeing it. The time in
		 * between is a wait for the condition, not for the lock: the
		 * return only makes the thread the holder again. */
		lock_release(ctx, regs, usdt, spec, r);
		lock_reacquire_later(ctx, regs, usdt, spec, tid);
		return 0;
	}
	__builtin_memset(&r->f, 0, sizeof(r->f));
	if (spec->flags & VS_PF_RETURN) {
		key = (__u64)tid << 32 | spec->entry_probe;
		kept = bpf_map_lookup_elem(&stash, &key);
		if (kept) {
			__builtin_memcpy(&r->f, kept, sizeof(r->f));
			bpf_map_delete_elem(&stash, &key);
		}
	}
	fetch_fields(ctx, regs, usdt, spec, &r->f);
	if (spec->flags & VS_PF_STASH) {
		key = (__u64)tid << 32 | idx;
		bpf_map_update_elem(&stash, &key, &r->f, BPF_ANY);
	}
	send(r, with_stack(r, spec, regs));
	return 0;
}

SEC("usdt")
int vs_usdt(struct pt_regs *ctx)
{
	return handle(ctx, 1, (__u32)bpf_usdt_cookie(ctx));
}

SEC("uprobe")
int vs_uprobe(struct pt_regs *ctx)
{
	return handle(ctx, 0, (__u32)bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int vs_uretprobe(struct pt_regs *ctx)
{
	return handle(ctx, 0, (__u32)bpf_get_attach_cookie(ctx));
}
