// SPDX-License-Identifier: GPL-2.0
/* Contended mutex waits of the target (see contention.h), from the
 * sched_switch BTF tracepoint: a thread switched out inside a futex wait on
 * a locked mutex is noted with the word and the owner, and what the owner is
 * doing then; when it is switched back in, the wait is counted and, past the
 * threshold, its stack is taken on the way back to user space and the wait
 * is sent. No tracefs, no kprobes, and no per-system-call tracepoint, whose
 * slow path every system call of the machine would take. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "contention.h"
#include "ustack.bpf.h"
#include "thread_job.bpf.h"
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define NR_FUTEX 202 /* x86-64 */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CMD_MASK 0x7f
#define PF_KTHREAD 0x00200000

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

const volatile __u32 targ_tgid = 0;
const volatile __u64 min_ns = 10000000;
const volatile __u64 wakeup_bytes = 1 << 20;

__u64 lost = 0;


struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct vs_contention_pending);
} waiting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_contention_pending);
} pending_new SEC(".maps");

/* Owners' stacks, by waiter, for waits whose owner was blocked. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct vs_contention_holder);
} holder_snaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_contention_holder);
} holder_new SEC(".maps");

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

static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									      : BPF_RB_NO_WAKEUP;
}

/* Copies the user stack of task, whose saved user registers are regs, into
 * snap. Only right when task shares the current address space. */
static __noinline int snapshot_task(struct vs_ustack *snap, struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task), uregs;

	if (!snap)
		return 0;
	if (bpf_probe_read_kernel(&uregs, sizeof(uregs), regs)) {
		snap->flags = VS_USTACK_NO_USER;
		snap->len = 0;
		return 0;
	}
	return vs_snapshot_user(snap, &uregs);
}

/* What the owner of the mutex is doing as the wait begins. Its stack is
 * only taken while it is blocked: a running owner's stack moves under the
 * copy, and it is about to let go anyway. */
static __always_inline void note_owner(struct vs_contention_pending *p, __u32 waiter)
{
	struct task_struct *owner = bpf_task_from_pid(p->owner);
	struct vs_contention_pending *op;
	__u32 zero = 0;

	if (!owner)
		return;
	if (owner->tgid != targ_tgid)
		goto out;
	op = bpf_map_lookup_elem(&waiting, &p->owner);
	if (op)
		p->owner_waits = op->uaddr;
	bpf_probe_read_kernel_str(p->owner_comm, sizeof(p->owner_comm), owner->comm);
	vs_read_job(owner, p->owner_job, sizeof(p->owner_job));
	p->owner_state = BPF_CORE_READ(owner, __state);
	if (p->owner_state) {
		struct vs_contention_holder *h = bpf_map_lookup_elem(&holder_new, &zero);

		p->flags |= VS_CONTENTION_OWNER_BLOCKED;
		p->owner_syscall = BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(owner), orig_ax);
		if (h) {
			h->type = VS_CONTENTION_HOLDER;
			h->tid = waiter;
			h->ts_ns = p->ts;
			snapshot_task(&h->snap, owner);
			bpf_map_update_elem(&holder_snaps, &waiter, h, BPF_ANY);
		}
	}
out:
	bpf_task_release(owner);
}

/* The thread is about to block: if it is in a futex wait on a locked
 * mutex, note the word and the owner. */
static __always_inline void switched_out(struct task_struct *prev)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	__u32 tid = prev->pid, zero = 0, op;
	struct vs_contention_pending *p;

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
	__builtin_memset(p, 0, sizeof(*p));
	p->uaddr = BPF_CORE_READ(regs, di);
	p->sp = BPF_CORE_READ(regs, sp);
	p->ts = bpf_ktime_get_ns();
	p->owner_syscall = -1;
	bpf_probe_read_user(&p->owner, sizeof(p->owner), (void *)(p->uaddr + 8));
	if (p->owner && p->owner != tid)
		note_owner(p, tid);
	vs_read_job(prev, p->job, sizeof(p->job));
	bpf_map_update_elem(&waiting, &tid, p, BPF_ANY);
}

static __always_inline void count_wait(__u64 uaddr, __u64 dur)
{
	struct vs_contention_stats *st = bpf_map_lookup_elem(&stats, &uaddr);
	__u32 zero = 0, b;

	if (!st) {
		struct vs_contention_stats *fresh = bpf_map_lookup_elem(&stats_new, &zero);

		if (fresh) {
			__builtin_memset(fresh, 0, sizeof(*fresh));
			bpf_map_update_elem(&stats, &uaddr, fresh, BPF_NOEXIST);
		}
		st = bpf_map_lookup_elem(&stats, &uaddr);
	}
	if (!st)
		return;
	__sync_fetch_and_add(&st->waits, 1);
	__sync_fetch_and_add(&st->wait_ns, dur);
	if (dur > st->wait_max_ns)
		st->wait_max_ns = dur;
	b = vs_log2_bucket(dur);
	if (b < VS_LOCK_HIST)
		__sync_fetch_and_add(&st->wait_hist[b], 1);
}

/* Sends a long wait, with the waiter's stack when task is the waiter on
 * its way back to user space, and the owner's stack taken when it began. */
static __noinline void send_wait(struct vs_contention_pending *p, struct task_struct *task, int with_stack)
{
	struct vs_contention_holder *h;
	struct vs_contention_record *r;
	__u32 tid = task->pid, zero = 0;
	__u64 size;

	if (!p)
		return;
	h = bpf_map_lookup_elem(&holder_snaps, &tid);
	if (h) {
		size = VS_CONTENTION_HOLDER_HDR_SIZE + h->snap.len;
		if (size > sizeof(*h))
			size = sizeof(*h);
		if (h->ts_ns == p->ts && bpf_ringbuf_output(&records, h, size, rb_flags()))
			__sync_fetch_and_add(&lost, 1);
		bpf_map_delete_elem(&holder_snaps, &tid);
	}
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return;
	r->type = VS_CONTENTION_WAIT;
	r->flags = p->flags;
	r->ts_ns = p->ts;
	r->dur_ns = p->dur;
	r->uaddr = p->uaddr;
	r->pid = targ_tgid;
	r->tid = tid;
	r->owner = p->owner;
	r->owner_state = p->owner_state;
	r->owner_waits = p->owner_waits;
	r->owner_syscall = p->owner_syscall;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), task->comm);
	__builtin_memcpy(r->owner_comm, p->owner_comm, sizeof(r->owner_comm));
	__builtin_memcpy(r->job, p->job, sizeof(r->job));
	__builtin_memcpy(r->owner_job, p->owner_job, sizeof(r->owner_job));
	r->snap.len = 0;
	r->snap.flags = VS_USTACK_NO_USER;
	if (with_stack) {
		snapshot_task(&r->snap, task);
		r->flags |= VS_CONTENTION_WAITER_STACK;
	}
	size = VS_CONTENTION_RECORD_HDR_SIZE + r->snap.len;
	if (size > sizeof(*r))
		size = sizeof(*r);
	if (bpf_ringbuf_output(&records, r, size, rb_flags()))
		__sync_fetch_and_add(&lost, 1);
}

/* The thread runs again: its wait is over. A long one is sent when the
 * thread heads back to user space, with its stack. */
static __always_inline void switched_in(struct task_struct *next)
{
	__u32 tid = next->pid;
	struct vs_contention_pending *p = bpf_map_lookup_elem(&waiting, &tid);

	if (!p)
		return;
	if (p->ready) {
		/* It blocked again before reaching user space (no rseq here):
		 * send the earlier wait without the waiter's stack. */
		send_wait(p, next, 0);
		bpf_map_delete_elem(&waiting, &tid);
		return;
	}
	p->dur = bpf_ktime_get_ns() - p->ts;
	count_wait(p->uaddr, p->dur);
	if (p->dur >= min_ns) {
		p->ready = 1;
		return;
	}
	bpf_map_delete_elem(&holder_snaps, &tid);
	bpf_map_delete_elem(&waiting, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(vs_contention_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	if (prev->tgid == targ_tgid) {
		__u32 tid = prev->pid;
		struct vs_contention_pending *p = bpf_map_lookup_elem(&waiting, &tid);

		/* A wait that never made it back to user space with a stack
		 * (no rseq registered) goes out now, without one. */
		if (p && p->ready) {
			send_wait(p, prev, 0);
			bpf_map_delete_elem(&waiting, &tid);
		}
		/* A preempted thread is runnable, not waiting; a thread that
		 * blocks has a non-zero state. */
		if (!preempt && prev_state && !(prev->flags & PF_KTHREAD))
			switched_out(prev);
	}
	if (next->tgid == targ_tgid)
		switched_in(next);
	return 0;
}

/* On the way back to user space after being scheduled, for threads with an
 * rseq area (glibc registers one for every thread): the user registers and
 * stack are still those of the futex call. */
SEC("tp_btf/rseq_update")
int BPF_PROG(vs_contention_resume, struct task_struct *t)
{
	__u32 tid;
	struct vs_contention_pending *p;

	if (t->tgid != targ_tgid)
		return 0;
	tid = t->pid;
	p = bpf_map_lookup_elem(&waiting, &tid);
	if (!p || !p->ready)
		return 0;
	send_wait(p, t, BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(t), sp) == p->sp);
	bpf_map_delete_elem(&waiting, &tid);
	return 0;
}
