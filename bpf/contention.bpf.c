// SPDX-License-Identifier: GPL-2.0
/* Contended mutex waits of the target (see contention.h), from the
 * sched_switch BTF tracepoint only: a thread switched out inside a futex wait
 * on a locked mutex is noted with the word, the owner and its stack (taken
 * then, in its own context); when it is switched back in, the wait is
 * counted and, past the threshold, sent. No tracefs, no kprobes, and no
 * per-system-call tracepoint, whose slow path every system call of the
 * machine would take. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "contention.h"
#include "ustack.bpf.h"
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define NR_FUTEX 202 /* x86-64 */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CMD_MASK 0x7f

const volatile __u32 targ_tgid = 0;
const volatile __u64 min_ns = 10000000;
const volatile __u64 wakeup_bytes = 1 << 20;

__u64 lost = 0;

struct pending {
	__u64 uaddr;
	__u64 ts;
	__u32 owner;
	__u32 pad;
	__u64 owner_waits;
	__u64 regs[VS_UREG_COUNT];
	__u32 len;
	__u32 pad2;
	__u8 stack[VS_CONTENTION_STACK];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct pending);
} waiting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending);
} pending_new SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct vs_contention_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_contention_record);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_contention_stats);
} stats_new SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

/* The thread is about to block: if it is in a futex wait on a locked
 * mutex, note the word, the owner, and its stack now, in its own context. */
static __always_inline void switched_out(struct task_struct *prev)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev), uregs;
	__u32 tid = prev->pid, zero = 0, op;
	struct pending *p;
	__u64 sp;

	if (BPF_CORE_READ(regs, orig_ax) != NR_FUTEX)
		return;
	op = (__u32)BPF_CORE_READ(regs, si) & FUTEX_CMD_MASK;
	/* A contended glibc mutex sleeps with futex_wait(&lock, 2): the lock
	 * word is 2, "locked, with waiters". Condition variables, semaphores
	 * and other futex users wait on other values, and are not locks. */
	if (op != FUTEX_LOCK_PI &&
	    ((op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET) || BPF_CORE_READ(regs, dx) != 2))
		return;
	p = bpf_map_lookup_elem(&pending_new, &zero);
	if (!p)
		return;
	p->uaddr = BPF_CORE_READ(regs, di);
	p->ts = bpf_ktime_get_ns();
	p->owner = 0;
	p->owner_waits = 0;
	bpf_probe_read_user(&p->owner, sizeof(p->owner), (void *)(p->uaddr + 8));
	if (p->owner) {
		struct pending *op2 = bpf_map_lookup_elem(&waiting, &p->owner);

		if (op2)
			p->owner_waits = op2->uaddr;
	}
	if (bpf_probe_read_kernel(&uregs, sizeof(uregs), regs))
		return;
	vs_fill_uregs(p->regs, &uregs);
	sp = uregs.sp;
	p->len = bpf_probe_read_user(p->stack, sizeof(p->stack), (void *)sp) ? 0 : sizeof(p->stack);
	bpf_map_update_elem(&waiting, &tid, p, BPF_ANY);
}

/* The thread runs again: its wait is over. */
static __always_inline void switched_in(struct task_struct *next)
{
	__u32 tid = next->pid, zero = 0, b;
	struct vs_contention_stats *st;
	struct vs_contention_record *r;
	struct pending *p = bpf_map_lookup_elem(&waiting, &tid);
	__u64 dur, size;

	if (!p)
		return;
	dur = bpf_ktime_get_ns() - p->ts;
	st = bpf_map_lookup_elem(&stats, &p->uaddr);
	if (!st) {
		struct vs_contention_stats *fresh = bpf_map_lookup_elem(&stats_new, &zero);

		if (fresh) {
			__builtin_memset(fresh, 0, sizeof(*fresh));
			bpf_map_update_elem(&stats, &p->uaddr, fresh, BPF_NOEXIST);
		}
		st = bpf_map_lookup_elem(&stats, &p->uaddr);
	}
	if (st) {
		__sync_fetch_and_add(&st->waits, 1);
		__sync_fetch_and_add(&st->wait_ns, dur);
		if (dur > st->wait_max_ns)
			st->wait_max_ns = dur;
		b = vs_log2_bucket(dur);
		if (b < VS_LOCK_HIST)
			__sync_fetch_and_add(&st->wait_hist[b], 1);
	}
	if (dur >= min_ns && (r = bpf_map_lookup_elem(&scratch, &zero))) {
		r->ts_ns = p->ts;
		r->dur_ns = dur;
		r->uaddr = p->uaddr;
		r->pid = targ_tgid;
		r->tid = tid;
		r->owner = p->owner;
		r->pad = 0;
		r->owner_waits = p->owner_waits;
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), next->comm);
		__builtin_memcpy(r->snap.regs, p->regs, sizeof(p->regs));
		r->snap.flags = 0;
		r->snap.len = p->len;
		/* too big for an inlined copy */
		bpf_probe_read_kernel(r->snap.data, sizeof(p->stack), p->stack);
		size = VS_CONTENTION_RECORD_HDR_SIZE + VS_CONTENTION_STACK;
		if (bpf_ringbuf_output(&records, r, size,
				       bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes
					       ? BPF_RB_FORCE_WAKEUP
					       : BPF_RB_NO_WAKEUP))
			__sync_fetch_and_add(&lost, 1);
	}
	bpf_map_delete_elem(&waiting, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(vs_contention_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	/* A preempted thread is runnable, not waiting; a thread that blocks
	 * has a non-zero state. */
	if (!preempt && prev_state && prev->tgid == targ_tgid && !(prev->flags & 0x00200000))
		switched_out(prev);
	if (next->tgid == targ_tgid)
		switched_in(next);
	return 0;
}
