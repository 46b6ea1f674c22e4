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

/* Per thread of the target, in task-local storage: one pointer chase from
 * the task instead of a hash lookup on every context switch. */
struct thread_state {
	/* as a waiter */
	__u64 uaddr;     /* the futex word waited on; 0: not waiting */
	__u64 ts;
	__u64 dur;
	__u64 sp;        /* its user stack pointer, to recognise its return */
	__u64 owner_waits;
	__s64 owner_syscall;
	__u64 snap_ts;   /* the owner's snapshot this wait refers to */
	__u32 owner;
	__u32 owner_state;
	__u32 flags;
	__u32 ready;     /* the wait is over and long: send it on the way back to user */
	char owner_comm[16];
	char owner_job[VS_JOB_NAME_LEN];
	/* as an owner: what was read from it, valid until it runs again */
	__u64 last_in;   /* when it was last switched in */
	__u64 read_ts;   /* when its comm, job and call were read */
	__u64 wanted_since; /* the first wait behind it in this stretch off a CPU */
	__u64 snap_id;   /* the stretch whose stack is to be copied on its way back */
	__s64 my_syscall;
	char my_comm[16];
	char my_job[VS_JOB_NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

/* Whether each thread of the target is blocked, by tid modulo the size:
 * written at every switch of the target's threads (an array store, no
 * hashing), so that a waiter learns whether the owner is blocked without
 * looking its task up. Only a blocked owner is looked at further when the
 * wait begins: a running one is about to let go. */
#define RUNSTATE_SLOTS 8192

struct runstate {
	__u32 tid;
	__u32 blocked;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RUNSTATE_SLOTS);
	__type(key, __u32);
	__type(value, struct runstate);
} runstates SEC(".maps");

static __always_inline void set_runstate(__u32 tid, __u32 blocked)
{
	__u32 slot = tid & (RUNSTATE_SLOTS - 1);
	struct runstate *rs = bpf_map_lookup_elem(&runstates, &slot);

	if (rs) {
		rs->tid = tid;
		rs->blocked = blocked;
	}
}

static __always_inline int owner_blocked(__u32 tid)
{
	__u32 slot = tid & (RUNSTATE_SLOTS - 1);
	struct runstate *rs = bpf_map_lookup_elem(&runstates, &slot);

	return rs && rs->tid == tid && rs->blocked;
}

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, VS_CONTENTION_WAIT_SLOTS);
	__type(key, __u32);
	__type(value, struct vs_contention_wait_now);
} waits_now SEC(".maps");

static __always_inline void publish_wait(const struct thread_state *w, __u32 tid)
{
	__u32 slot = tid & (VS_CONTENTION_WAIT_SLOTS - 1);
	struct vs_contention_wait_now *n = bpf_map_lookup_elem(&waits_now, &slot);

	if (!n)
		return;
	n->tid = 0;
	n->owner = w->owner;
	n->uaddr = w->uaddr;
	n->ts = w->ts;
	if (w->owner_job[0])
		__builtin_memcpy(n->owner_job, w->owner_job, sizeof(n->owner_job));
	else
		n->owner_job[0] = '\0';
	n->tid = tid;
}

static __always_inline void retract_wait(__u32 tid)
{
	__u32 slot = tid & (VS_CONTENTION_WAIT_SLOTS - 1);
	struct vs_contention_wait_now *n = bpf_map_lookup_elem(&waits_now, &slot);

	if (n && n->tid == tid)
		n->tid = 0;
}

/* Owners' stacks, by owner, taken while they were blocked holding a lock
 * someone waited for. */
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

/* Per CPU, so that threads counting waits on the same hot lock from two
 * CPUs do not bounce its counters' cache line between them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
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

/* Copies the user stack of task into snap. Only right when task shares the
 * current address space. */
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

/* Names one stretch of a thread off a CPU, as an owner's stack copy refers
 * to it: when it last came on a CPU (never 0). */
static __always_inline __u64 stretch_id(const struct thread_state *os)
{
	return os->last_in ? os->last_in : 1;
}

/* What a blocked owner of the mutex is doing as the wait begins: its name,
 * job, the call it is in and its stack. All of it is read once per stretch
 * the owner spends off a CPU, however many threads pile up behind it. */
static __always_inline void note_owner(struct thread_state *w, __u32 waiter)
{
	struct task_struct *owner = bpf_task_from_pid(w->owner);
	struct thread_state *os;
	__u64 now = w->ts;

	if (!owner)
		return;
	if (owner->tgid != targ_tgid)
		goto out;
	os = bpf_task_storage_get(&threads, owner, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!os)
		goto out;
	w->owner_state = owner->__state;
	if (os->read_ts <= os->last_in) {
		bpf_probe_read_kernel_str(os->my_comm, sizeof(os->my_comm), owner->comm);
		vs_read_job(owner, os->my_job, sizeof(os->my_job));
		os->my_syscall = w->owner_state
					 ? ((struct pt_regs *)bpf_task_pt_regs(owner))->orig_ax
					 : -1;
		os->read_ts = now;
	}
	__builtin_memcpy(w->owner_comm, os->my_comm, sizeof(w->owner_comm));
	__builtin_memcpy(w->owner_job, os->my_job, sizeof(w->owner_job));
	if (os->uaddr && !os->ready)
		w->owner_waits = os->uaddr;
	if (w->owner_state) {
		w->flags |= VS_CONTENTION_OWNER_BLOCKED;
		w->owner_syscall = os->my_syscall;
		/* Its stack is copied only if a wait behind it has lasted the
		 * threshold by the time it wakes (stretch_ended), and then on its
		 * own way back to user space: a copy for every short wait was
		 * most of what this program cost a busy daemon. */
		if (os->wanted_since <= os->last_in)
			os->wanted_since = now;
		w->snap_ts = stretch_id(os);
	}
out:
	bpf_task_release(owner);
}

/* An owner on a CPU as the wait begins is named now, while the waiter's
 * context still shares its address space: the waiter may next run from a
 * switch in another process's context, where the owner's job can't be read,
 * and by then the owner may be on to other work. */
static __always_inline int note_running_owner(struct thread_state *w)
{
	struct task_struct *owner = bpf_task_from_pid(w->owner);
	int asleep = 0;

	if (!owner)
		return 0;
	/* The run-state table is only as fresh as the owner's last switch;
	 * the task itself says whether it is asleep off a CPU now. */
	asleep = owner->__state && !owner->on_cpu;
	if (!asleep && owner->tgid == targ_tgid) {
		bpf_probe_read_kernel_str(w->owner_comm, sizeof(w->owner_comm), owner->comm);
		vs_read_job(owner, w->owner_job, sizeof(w->owner_job));
	}
	bpf_task_release(owner);
	return asleep;
}

/* The thread is about to block: if it is in a futex wait on a locked
 * mutex, note the word and the owner. */
static __always_inline void switched_out(struct task_struct *prev, struct thread_state *w)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	__u32 tid = prev->pid, op;
	__u64 uaddr;

	if (regs->orig_ax != NR_FUTEX)
		return;
	op = (__u32)regs->si & FUTEX_CMD_MASK;
	/* A contended glibc mutex sleeps with futex_wait(&lock, 2): the lock
	 * word is 2, "locked, with waiters". Condition variables, semaphores
	 * and other futex users wait on other values, and are not locks. */
	if (op != FUTEX_LOCK_PI && ((op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET) || regs->dx != 2))
		return;
	uaddr = regs->di;
	if (!w)
		w = bpf_task_storage_get(&threads, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w)
		return;
	w->uaddr = uaddr;
	w->sp = regs->sp;
	w->ts = bpf_ktime_get_ns();
	w->ready = 0;
	w->flags = 0;
	w->owner = 0;
	w->owner_state = 0;
	w->owner_waits = 0;
	w->owner_syscall = -1;
	w->owner_comm[0] = '\0';
	w->owner_job[0] = '\0';
	bpf_probe_read_user(&w->owner, sizeof(w->owner), (void *)(uaddr + 8));
	if (w->owner && w->owner != tid) {
		if (owner_blocked(w->owner) || note_running_owner(w))
			note_owner(w, tid);
	}
	publish_wait(w, tid);
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
	/* The table is full: the lock's figures would come out short, so
	 * say so rather than drop the wait silently. */
	if (!st) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	st->waits++;
	st->wait_ns += dur;
	if (dur > st->wait_max_ns)
		st->wait_max_ns = dur;
	b = vs_log2_bucket(dur);
	if (b < VS_LOCK_HIST)
		st->wait_hist[b]++;
}

/* Sends a long wait: the owner's stack first, when one was taken for it,
 * then the wait with the waiter's job and, when task is the waiter on its
 * way back to user space, its stack. */
static __noinline void send_wait(struct thread_state *w, struct task_struct *task, int in_task)
{
	struct vs_contention_holder *h;
	struct vs_contention_record *r;
	__u32 zero = 0, owner;
	__u64 size;

	if (!w)
		return;
	owner = w->owner;
	if (w->flags & VS_CONTENTION_OWNER_BLOCKED) {
		h = bpf_map_lookup_elem(&holder_snaps, &owner);
		if (h && h->ts_ns == w->snap_ts) {
			size = VS_CONTENTION_HOLDER_HDR_SIZE + h->snap.len;
			if (size > sizeof(*h))
				size = sizeof(*h);
			if (bpf_ringbuf_output(&records, h, size, rb_flags()))
				__sync_fetch_and_add(&lost, 1);
		}
	}
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return;
	r->type = VS_CONTENTION_WAIT;
	r->flags = w->flags;
	r->ts_ns = w->ts;
	r->dur_ns = w->dur;
	r->uaddr = w->uaddr;
	r->pid = targ_tgid;
	r->tid = task->pid;
	r->owner = owner;
	r->owner_state = w->owner_state;
	r->owner_waits = w->owner_waits;
	r->owner_syscall = w->owner_syscall;
	r->owner_snap_ts = w->flags & VS_CONTENTION_OWNER_BLOCKED ? w->snap_ts : 0;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), task->comm);
	__builtin_memcpy(r->owner_comm, w->owner_comm, sizeof(r->owner_comm));
	__builtin_memcpy(r->owner_job, w->owner_job, sizeof(r->owner_job));
	r->job[0] = '\0';
	r->snap.len = 0;
	r->snap.flags = VS_USTACK_NO_USER;
	/* An owner running when the wait began, whose job could not be read
	 * then (it had none yet), is read again as the wait ends. */
	if (in_task && owner && !(w->flags & VS_CONTENTION_OWNER_BLOCKED) && owner != task->pid &&
	    !r->owner_job[0]) {
		struct task_struct *o = bpf_task_from_pid(owner);

		if (o) {
			if (o->tgid == targ_tgid) {
				bpf_probe_read_kernel_str(r->owner_comm, sizeof(r->owner_comm), o->comm);
				vs_read_job(o, r->owner_job, sizeof(r->owner_job));
			}
			bpf_task_release(o);
		}
	}
	/* The waiter's own job and stack are read in its context: it has not
	 * run since it blocked, so they are those of the wait. */
	if (in_task) {
		vs_read_job(task, r->job, sizeof(r->job));
		if (in_task > 1) {
			snapshot_task(&r->snap, task);
			r->flags |= VS_CONTENTION_WAITER_STACK;
		}
	}
	size = VS_CONTENTION_RECORD_HDR_SIZE + r->snap.len;
	if (size > sizeof(*r))
		size = sizeof(*r);
	if (bpf_ringbuf_output(&records, r, size, rb_flags()))
		__sync_fetch_and_add(&lost, 1);
}

/* The thread runs again: if it was waiting, the wait is over. A long one
 * is sent when the thread heads back to user space, with its stack. */
static __always_inline void switched_in(struct task_struct *next)
{
	struct thread_state *w = bpf_task_storage_get(&threads, next, 0, 0);

	__u64 now;

	if (!w)
		return;
	now = bpf_ktime_get_ns();
	if (w->wanted_since > w->last_in && now - w->wanted_since >= min_ns)
		w->snap_id = stretch_id(w);
	w->last_in = now;
	if (!w->uaddr)
		return;
	if (!w->ready)
		retract_wait(next->pid);
	if (w->ready) {
		/* It blocked again before reaching user space (no rseq here):
		 * send the earlier wait without the waiter's stack. */
		send_wait(w, next, 0);
		w->uaddr = 0;
		w->ready = 0;
		return;
	}
	w->dur = w->last_in - w->ts;
	count_wait(w->uaddr, w->dur);
	if (w->dur >= min_ns)
		w->ready = 1;
	else
		w->uaddr = 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(vs_contention_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	if (prev->tgid == targ_tgid) {
		struct thread_state *w = bpf_task_storage_get(&threads, prev, 0, 0);

		/* A wait that never made it back to user space with a stack
		 * goes out now, in the waiter's context. */
		if (w && w->ready) {
			send_wait(w, prev, 1);
			w->uaddr = 0;
			w->ready = 0;
		}
		/* A preempted thread is runnable, not waiting; a thread that
		 * blocks has a non-zero state. */
		if (!preempt && prev_state && !(prev->flags & PF_KTHREAD)) {
			set_runstate(prev->pid, 1);
			switched_out(prev, w);
		}
	}
	if (next->tgid == targ_tgid) {
		set_runstate(next->pid, 0);
		switched_in(next);
	}
	return 0;
}

/* An owner that kept a thread waiting the threshold while it was blocked,
 * on its way back to user space: its stack is still that of the stretch. */
static __noinline void copy_holder_stack(struct thread_state *w, struct task_struct *t)
{
	struct vs_contention_holder *h;
	__u32 zero = 0, tid = t->pid;

	h = bpf_map_lookup_elem(&holder_new, &zero);
	if (h) {
		h->type = VS_CONTENTION_HOLDER;
		h->tid = tid;
		h->ts_ns = w->snap_id;
		snapshot_task(&h->snap, t);
		bpf_map_update_elem(&holder_snaps, &tid, h, BPF_ANY);
	}
	w->snap_id = 0;
}

/* On the way back to user space after being scheduled, for threads with an
 * rseq area (glibc registers one for every thread): the user registers and
 * stack are still those of the futex call. */
SEC("tp_btf/rseq_update")
int BPF_PROG(vs_contention_resume, struct task_struct *t)
{
	struct thread_state *w;

	if (t->tgid != targ_tgid)
		return 0;
	w = bpf_task_storage_get(&threads, t, 0, 0);
	if (!w)
		return 0;
	if (w->snap_id)
		copy_holder_stack(w, t);
	if (!w->ready)
		return 0;
	send_wait(w, t, ((struct pt_regs *)bpf_task_pt_regs(t))->sp == w->sp ? 2 : 1);
	w->uaddr = 0;
	w->ready = 0;
	return 0;
}
