// SPDX-License-Identifier: GPL-2.0
/* Off-CPU time, wakeups and event-loop turns of the target (see offcpu.h).
 * A switch-out costs a task-storage lookup and, inside a system call, a
 * read of the saved orig_ax, ip and sp (plus the mutex owner for a futex
 * lock wait); stacks are only taken for blocks of at least min_ns, once
 * they are known to be that long, and only when they are not those the
 * thread sent last. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "offcpu.h"
#include "thread_job.bpf.h"
#include "ustack.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* x86-64 system call numbers */
#define NR_read 0
#define NR_write 1
#define NR_poll 7
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_select 23
#define NR_pause 34
#define NR_nanosleep 35
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_wait4 61
#define NR_fsync 74
#define NR_fdatasync 75
#define NR_rt_sigtimedwait 128
#define NR_rt_sigsuspend 130
#define NR_futex 202
#define NR_clock_nanosleep 230
#define NR_epoll_wait 232
#define NR_waitid 247
#define NR_pselect6 270
#define NR_ppoll 271
#define NR_epoll_pwait 281
#define NR_accept4 288
#define NR_preadv 295
#define NR_pwritev 296
#define NR_recvmmsg 299
#define NR_sendmmsg 307
#define NR_epoll_pwait2 441
#define NR_futex_waitv 449

#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CMD_MASK 0x7f

const volatile __u32 targ_tgid = 0;
const volatile __u64 min_ns = 1000000;
const volatile __u64 stall_ns = 100000000;
const volatile __u64 wakeup_bytes = 1 << 20;

/* Set by user space: when tracing began (blocks in progress then count
 * from here), and the event-loop thread (0: none), which it may correct
 * while tracing runs. */
__u64 start_ns = 0;
__u32 loop_tid = 0;

__u64 lost = 0;
__u64 rseq_emits = 0;   /* records sent from rseq_update */
__u64 switch_emits = 0; /* ... at switch-in, without a user stack */
__u64 late_emits = 0;   /* ... at the next switch-out */
__u64 unpaired = 0;     /* a switch-in with no switch-out before it */
struct vs_offcpu_loop loop = {};

__u64 same_emits = 0;   /* long blocks sent without stacks: same as the last */
__u64 same_wakes = 0;   /* wakeups sent without stacks */

/* Every traced thread's state, found without a hash lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vs_offcpu_thread);
} threads SEC(".maps");

/* Threads that exited, with their totals (their task storage goes with
 * them). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vs_offcpu_exited_key);
	__type(value, struct vs_offcpu_thread);
} exited SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_offcpu_record);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_offcpu_wake);
} wake_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

static __always_inline void send(void *data, __u64 size)
{
	if (bpf_ringbuf_output(&records, data, size,
			       bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				       ? BPF_RB_FORCE_WAKEUP
				       : BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&lost, 1);
}

static __always_inline __u32 reason_of_syscall(long nr)
{
	switch (nr) {
	case NR_futex:
	case NR_futex_waitv:
		return VS_OFFCPU_FUTEX;
	case NR_poll: case NR_ppoll: case NR_select: case NR_pselect6:
	case NR_epoll_wait: case NR_epoll_pwait: case NR_epoll_pwait2:
		return VS_OFFCPU_POLL;
	case NR_read: case NR_write: case NR_pread64: case NR_pwrite64:
	case NR_readv: case NR_writev: case NR_preadv: case NR_pwritev:
	case NR_connect: case NR_accept: case NR_accept4:
	case NR_sendto: case NR_recvfrom: case NR_sendmsg: case NR_recvmsg:
	case NR_recvmmsg: case NR_sendmmsg: case NR_fsync: case NR_fdatasync:
		return VS_OFFCPU_IO;
	case NR_nanosleep: case NR_clock_nanosleep:
		return VS_OFFCPU_SLEEP;
	case NR_wait4: case NR_waitid:
		return VS_OFFCPU_CHILD;
	case NR_pause: case NR_rt_sigsuspend: case NR_rt_sigtimedwait:
		return VS_OFFCPU_SIGNAL;
	}
	return VS_OFFCPU_OTHER;
}

/* What the owner of the lock t waits for is doing now, from its memory
 * (where the profile says the daemon keeps job names): one read per lock
 * wait instead of a uprobe hit at every job change. */
static __always_inline void owner_job(struct vs_offcpu_thread *t)
{
	struct task_struct *owner;

	t->owner_job[0] = '\0';
	if (!job_loc.key_addr || !t->owner)
		return;
	owner = bpf_task_from_pid(t->owner);
	if (!owner)
		return;
	if (owner->tgid == targ_tgid)
		vs_read_job(owner, t->owner_job, sizeof(t->owner_job));
	bpf_task_release(owner);
}

/* Why prev, which is current, blocks: noted in t with the lock it waits
 * for, if any. */
static __always_inline void classify(struct vs_offcpu_thread *t, struct task_struct *prev,
				     unsigned int state)
{
	/* bpf_task_pt_regs() gives a pointer the verifier knows: plain loads,
	 * not a helper call per field. */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	long nr = regs->orig_ax;
	__u32 op;

	t->state = state;
	t->syscall = (__u32)nr;
	t->blk.ip = regs->ip;
	t->blk.sp = regs->sp;
	t->blk.syscall = nr;
	t->reason = reason_of_syscall(nr);
	t->uaddr = 0;
	t->owner = 0;
	if (nr == NR_futex) {
		op = (__u32)regs->si & FUTEX_CMD_MASK;
		/* A contended glibc mutex sleeps with futex_wait(&lock, 2) (see
		 * contention.bpf.c); other futex waits are not locks. */
		if (op == FUTEX_LOCK_PI ||
		    ((op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET) && regs->dx == 2)) {
			t->reason = VS_OFFCPU_LOCK;
			t->uaddr = regs->di;
			/* glibc keeps the owner's tid at +8 of pthread_mutex_t */
			bpf_probe_read_user(&t->owner, sizeof(t->owner), (void *)(t->uaddr + 8));
			owner_job(t);
		}
	} else if (t->reason == VS_OFFCPU_OTHER && (state & VS_TASK_UNINTERRUPTIBLE)) {
		t->reason = VS_OFFCPU_DISK;
	}
}

static __always_inline int same_where(const struct vs_offcpu_where *a,
				      const struct vs_offcpu_where *b)
{
	return a->ip && a->ip == b->ip && a->sp == b->sp && a->syscall == b->syscall;
}

/* Sends the pending long block of the current task with its user stack. */
static __always_inline void emit_pending(struct vs_offcpu_thread *t, __u32 flags)
{
	struct vs_offcpu_record *r;
	struct pt_regs regs;
	__u32 zero = 0;
	__u64 size;

	t->pending = 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return;
	if (bpf_probe_read_kernel(r, VS_OFFCPU_RECORD_HDR_SIZE, t->pend))
		return;
	r->flags |= flags;
	vs_snapshot_user(&r->snap, vs_current_user_regs(&regs) ? 0 : &regs);
	size = VS_OFFCPU_RECORD_HDR_SIZE + r->snap.len;
	if (size > sizeof(*r))
		size = sizeof(*r);
	send(r, size);
}

/* The event-loop thread starts a poll: one turn of the loop ends. */
static __always_inline void loop_turn(struct vs_offcpu_thread *t, __u32 tid, __u64 now)
{
	struct vs_offcpu_stall s;
	__u64 busy;

	if (!t->loop_wake)
		return;
	busy = now - t->loop_wake;
	__sync_fetch_and_add(&loop.turns, 1);
	__sync_fetch_and_add(&loop.busy_ns, busy);
	if (busy > loop.busy_max_ns)
		loop.busy_max_ns = busy;
	if (busy >= stall_ns) {
		__sync_fetch_and_add(&loop.stalls, 1);
		s.type = VS_OFFCPU_REC_STALL;
		s.tid = tid;
		s.ts_ns = t->loop_wake;
		s.dur_ns = busy;
		s.on_ns = t->on_ns - t->loop_on;
		send(&s, sizeof(s));
	}
	t->loop_wake = 0;
}

static __always_inline void switched_out(struct task_struct *prev, bool preempt,
					 unsigned int state, __u64 now)
{
	__u32 tid = prev->pid;
	struct vs_offcpu_thread *t = bpf_task_storage_get(&threads, prev, 0, 0);
	struct vs_offcpu_exited_key key = {};

	if (!t) {
		/* On CPU since tracing began (or since it was created). */
		t = bpf_task_storage_get(&threads, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!t)
			return;
		t->tid = tid;
		t->first_ns = prev->start_time > start_ns ? prev->start_time : start_ns;
		if (start_ns && now > t->first_ns)
			t->on_ns = now - t->first_ns;
	} else if (t->ts_in) {
		t->on_ns += now - t->ts_in;
	} else {
		__sync_fetch_and_add(&unpaired, 1);
	}
	t->ts_in = 0;
	if (state & VS_TASK_DEAD) {
		/* its last switch: nothing follows */
		t->ts_out = 0;
		t->exit_ns = now;
		t->pending = 0;
		bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), prev->comm);
		key.tid = tid;
		key.first_ns = t->first_ns;
		bpf_map_update_elem(&exited, &key, t, BPF_ANY);
		return;
	}
	t->ts_out = now;
	t->waker = 0;
	if (preempt || !state) {
		t->state = 0;
		t->reason = VS_OFFCPU_RUNQUEUE;
		t->syscall = -1;
		t->uaddr = 0;
		t->owner = 0;
		t->blk.ip = 0;
	} else {
		classify(t, prev, state);
		if (tid == loop_tid && t->reason == VS_OFFCPU_POLL)
			loop_turn(t, tid, now);
	}
	/* A long block that never reached user space: it blocks again, so its
	 * user stack is taken now, still that of the same call. */
	if (t->pending) {
		__sync_fetch_and_add(&late_emits, 1);
		emit_pending(t, VS_OFFCPU_F_LATE);
	}
}

static __always_inline void switched_in(struct task_struct *next, __u64 now)
{
	__u32 tid = next->pid, zero = 0;
	struct vs_offcpu_thread *t = bpf_task_storage_get(&threads, next, 0, 0);
	struct vs_offcpu_record *r;
	__u64 since, dur;
	__u32 reason;

	if (!t) {
		/* Blocked since before tracing began (or since it was created):
		 * its saved registers still say in what. */
		since = next->start_time > start_ns ? next->start_time : start_ns;
		if (!since || since > now)
			return;
		t = bpf_task_storage_get(&threads, next, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!t)
			return;
		t->tid = tid;
		t->ts_out = since;
		t->first_ns = since;
		t->state = 0;
		t->syscall = (__u32)((struct pt_regs *)bpf_task_pt_regs(next))->orig_ax;
		t->reason = next->start_time > start_ns ? VS_OFFCPU_RUNQUEUE
							: reason_of_syscall((long)(int)t->syscall);
	}
	if (!t->ts_out) {
		__sync_fetch_and_add(&unpaired, 1);
		t->ts_in = now;
		return;
	}
	dur = now - t->ts_out;
	reason = t->reason;
	if (reason < VS_OFFCPU_NR_REASONS) {
		t->off_ns[reason] += dur;
		t->blocks[reason]++;
	}
	if (tid == loop_tid && reason == VS_OFFCPU_POLL) {
		__sync_fetch_and_add(&loop.poll_ns, dur);
		t->loop_wake = now;
		t->loop_on = t->on_ns;
	}
	t->ts_in = now;
	if (dur >= min_ns && reason != VS_OFFCPU_RUNQUEUE && (r = bpf_map_lookup_elem(&scratch, &zero))) {
		r->type = VS_OFFCPU_REC_BLOCK;
		r->flags = 0;
		r->ts_ns = t->ts_out;
		r->dur_ns = dur;
		r->pid = targ_tgid;
		r->tid = tid;
		r->state = t->state;
		r->reason = reason;
		r->syscall = (__s32)t->syscall;
		r->owner = t->owner;
		r->uaddr = t->uaddr;
		r->waker = t->waker;
		if (reason == VS_OFFCPU_LOCK)
			__builtin_memcpy(r->owner_job, t->owner_job, sizeof(r->owner_job));
		else
			r->owner_job[0] = '\0';
		r->uip = t->blk.ip;
		r->usp = t->blk.sp;
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), next->comm);
		if (same_where(&t->blk, &t->sent)) {
			/* parked again where its last stacks were taken */
			r->flags = VS_OFFCPU_F_SAME;
			r->kstack_bytes = 0;
			r->snap.len = 0;
			r->snap.flags = 0;
			__sync_fetch_and_add(&same_emits, 1);
			send(r, VS_OFFCPU_RECORD_HDR_SIZE);
			t->ts_out = 0;
			return;
		}
		t->sent = t->blk;
		/* next is still parked in __schedule: its kernel stack is the
		 * blocked one. */
		r->kstack_bytes = bpf_get_task_stack(next, r->kstack, sizeof(r->kstack), 0);
		if (next->rseq) {
			if (!bpf_probe_read_kernel(t->pend, sizeof(t->pend), r))
				t->pending = 1;
		} else {
			r->flags = VS_OFFCPU_F_NO_USER;
			r->snap.len = 0;
			r->snap.flags = VS_USTACK_NO_USER;
			__sync_fetch_and_add(&switch_emits, 1);
			send(r, VS_OFFCPU_RECORD_HDR_SIZE);
		}
	}
	t->ts_out = 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(vs_offcpu_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	bool out = prev->tgid == targ_tgid, in = next->tgid == targ_tgid;
	__u64 now;

	/* the common case, a switch between two other processes: nothing */
	if (!out && !in)
		return 0;
	now = bpf_ktime_get_ns();
	if (out && !(prev->flags & PF_KTHREAD))
		switched_out(prev, preempt, prev_state, now);
	if (in && !(next->flags & PF_KTHREAD))
		switched_in(next, now);
	return 0;
}

/* The task is on its way back to user space after it was scheduled, in its
 * own context: if it comes back from a long block, its user registers and
 * stack are still those of the blocking call. */
SEC("tp_btf/rseq_update")
int BPF_PROG(vs_offcpu_rseq, struct task_struct *task)
{
	struct vs_offcpu_thread *t;

	if (task->tgid != targ_tgid || task != bpf_get_current_task_btf())
		return 0;
	t = bpf_task_storage_get(&threads, task, 0, 0);
	if (!t || !t->pending)
		return 0;
	__sync_fetch_and_add(&rseq_emits, 1);
	emit_pending(t, 0);
	return 0;
}

/* Someone wakes a thread of the target; if that thread has been blocked
 * long enough to be reported, the waker (current) is noted with its
 * stacks, taken here in its own context. */
SEC("tp_btf/sched_waking")
int BPF_PROG(vs_offcpu_waking, struct task_struct *p)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct vs_offcpu_thread *t, *ct;
	struct vs_offcpu_where here;
	struct vs_offcpu_wake *w;
	__u32 wakee, zero = 0;
	struct pt_regs regs;
	__u64 now, size;

	if (p->tgid != targ_tgid)
		return 0;
	wakee = p->pid;
	t = bpf_task_storage_get(&threads, p, 0, 0);
	if (!t || !t->ts_out || t->reason == VS_OFFCPU_RUNQUEUE)
		return 0;
	now = bpf_ktime_get_ns();
	if (now - t->ts_out < min_ns)
		return 0;
	t->waker = cur->pid;
	w = bpf_map_lookup_elem(&wake_scratch, &zero);
	if (!w)
		return 0;
	w->type = VS_OFFCPU_REC_WAKE;
	w->flags = 0;
	w->ts_ns = now;
	w->block_ts = t->ts_out;
	w->wakee = wakee;
	w->pid = cur->tgid;
	w->tid = cur->pid;
	w->uip = 0;
	w->usp = 0;
	bpf_get_current_comm(w->comm, sizeof(w->comm));
	/* Only a waker of the target has its user stack unwound (its modules
	 * are the ones known), and is known well enough to skip the stacks it
	 * sent last time. */
	if (cur->tgid == targ_tgid && !vs_current_user_regs(&regs)) {
		here.ip = regs.ip;
		here.sp = regs.sp;
		here.syscall = regs.orig_ax;
		w->uip = here.ip;
		w->usp = here.sp;
		ct = bpf_task_storage_get(&threads, cur, 0, 0);
		if (ct && same_where(&here, &ct->woke)) {
			w->flags = VS_OFFCPU_F_SAME;
			w->kstack_bytes = 0;
			w->snap.len = 0;
			w->snap.flags = 0;
			__sync_fetch_and_add(&same_wakes, 1);
			send(w, VS_OFFCPU_WAKE_HDR_SIZE);
			return 0;
		}
		if (ct)
			ct->woke = here;
		w->kstack_bytes = bpf_get_stack(ctx, w->kstack, sizeof(w->kstack), 0);
		vs_snapshot_user(&w->snap, &regs);
	} else {
		w->kstack_bytes = bpf_get_stack(ctx, w->kstack, sizeof(w->kstack), 0);
		vs_snapshot_user(&w->snap, 0);
	}
	size = VS_OFFCPU_WAKE_HDR_SIZE + w->snap.len;
	if (size > sizeof(*w))
		size = sizeof(*w);
	send(w, size);
	return 0;
}
