/* Off-CPU time of every thread of the target, from the scheduler's BTF
 * tracepoints only (no kprobes, no per-system-call tracepoint). Shared by
 * offcpu.bpf.c and collectors/offcpu.c.
 *
 * Every switch is counted, per thread and reason, in a map that user space
 * reads at the end; only blocks of at least min_ns become records, with
 * stacks. The blocked thread's kernel stack is taken when it is switched
 * back in (it is still parked then), and its user stack on its own way back
 * to user space, in the rseq_update tracepoint: its user registers and stack
 * are still those of the blocking call, and nothing is copied for the many
 * short blocks. A thread that has no rseq area registered (rseq_update never
 * fires for it) gets its record at switch-in, without a user stack.
 * The thread that wakes a long-blocked thread is caught in sched_waking, in
 * its own context, with its stacks.
 *
 * Most long blocks repeat: idle workers park again in the same condition
 * wait, the loop wakes them from the same call. A long block whose user ip
 * and stack pointer (and system call) are those of the thread's previous
 * stack sent is sent without stacks, flagged VS_OFFCPU_F_SAME, and user
 * space reuses that stack; the same goes for a waker of the target. The
 * per-thread state lives in task storage, not in a map keyed by thread id,
 * so that the switch path does no hash lookup. */
#ifndef VS_BPF_OFFCPU_H
#define VS_BPF_OFFCPU_H

#include "thread_job.h"
#include "ustack.h"

/* Why a thread was off CPU, from the system call it blocked in (its saved
 * orig_ax) and its state. User space refines some (D-Bus calls, from the
 * stack or the daemon's spans). */
enum vs_offcpu_reason {
	VS_OFFCPU_OTHER = 0,   /* another system call, or none (page fault...) */
	VS_OFFCPU_RUNQUEUE,    /* preempted: runnable, waiting for a CPU */
	VS_OFFCPU_LOCK,        /* futex wait on a locked mutex */
	VS_OFFCPU_FUTEX,       /* other futex waits: condition variables, semaphores */
	VS_OFFCPU_POLL,        /* poll, ppoll, select, epoll_wait */
	VS_OFFCPU_IO,          /* read, write, send, recv, accept, fsync... */
	VS_OFFCPU_SLEEP,       /* nanosleep, clock_nanosleep */
	VS_OFFCPU_CHILD,       /* wait4, waitid */
	VS_OFFCPU_SIGNAL,      /* pause, rt_sigsuspend, rt_sigtimedwait */
	VS_OFFCPU_DISK,        /* uninterruptible (D) outside those calls */
	VS_OFFCPU_DBUS,        /* user space only: a blocking D-Bus call */
	VS_OFFCPU_NR_REASONS,
};

/* The task states of sched_switch's prev_state that matter here. */
#define VS_TASK_INTERRUPTIBLE 0x1
#define VS_TASK_UNINTERRUPTIBLE 0x2
#define VS_TASK_DEAD 0x80

#define VS_OFFCPU_KSTACK 32 /* kernel frames kept per stack */

enum vs_offcpu_record_type {
	VS_OFFCPU_REC_BLOCK = 1, /* struct vs_offcpu_record */
	VS_OFFCPU_REC_WAKE,      /* struct vs_offcpu_wake */
	VS_OFFCPU_REC_STALL,     /* struct vs_offcpu_stall */
};

enum vs_offcpu_flags {
	VS_OFFCPU_F_NO_USER = 1 << 0, /* no user stack: taken at switch-in */
	VS_OFFCPU_F_LATE = 1 << 1,    /* user stack taken when the thread blocked again
					 before reaching user space */
	VS_OFFCPU_F_SAME = 1 << 2,    /* no stacks: those of the thread's last record
					 with stacks at the same uip and usp */
};

/* A long block; sent with only snap.len bytes of stack. */
struct vs_offcpu_record {
	__u32 type;    /* VS_OFFCPU_REC_BLOCK */
	__u32 flags;
	__u64 ts_ns;   /* when the block began */
	__u64 dur_ns;
	__u32 pid;
	__u32 tid;
	__u32 state;
	__u32 reason;
	__s32 syscall;
	__u32 owner;
	__u64 uaddr;
	__u32 waker;   /* 0 unknown */
	__s32 kstack_bytes;
	__u64 uip, usp; /* the user ip and stack pointer it blocked at */
	char comm[16];
	char owner_job[VS_JOB_NAME_LEN]; /* lock waits: the owner's job as the wait began */
	__u64 kstack[VS_OFFCPU_KSTACK];
	struct vs_ustack snap; /* must stay last */
};

#define VS_OFFCPU_RECORD_HDR_SIZE (sizeof(struct vs_offcpu_record) - VS_USTACK_MAX)

VS_STATIC_ASSERT(sizeof(struct vs_offcpu_record) ==
			 96 + VS_JOB_NAME_LEN + 8 * VS_OFFCPU_KSTACK + sizeof(struct vs_ustack),
		 "vs_offcpu_record has no hidden padding");

/* Who woke a thread that had been blocked for at least min_ns, with the
 * waker's stacks (the user one only for a waker of the target). Sent before
 * the block's own record. */
struct vs_offcpu_wake {
	__u32 type;     /* VS_OFFCPU_REC_WAKE */
	__u32 flags;
	__u64 ts_ns;    /* the wakeup */
	__u64 block_ts; /* when the wakee's block began: pairs it with the block */
	__u32 wakee;
	__u32 pid;      /* the waker's process; 0 for the idle task */
	__u32 tid;
	__s32 kstack_bytes;
	__u64 uip, usp; /* the waker's user ip and stack pointer (a waker of the target) */
	char comm[16];
	__u64 kstack[VS_OFFCPU_KSTACK];
	struct vs_ustack snap; /* must stay last */
};

#define VS_OFFCPU_WAKE_HDR_SIZE (sizeof(struct vs_offcpu_wake) - VS_USTACK_MAX)

VS_STATIC_ASSERT(sizeof(struct vs_offcpu_wake) ==
			 72 + 8 * VS_OFFCPU_KSTACK + sizeof(struct vs_ustack),
		 "vs_offcpu_wake has no hidden padding");

/* Where a thread's last stacks sent were taken: a record at the same user
 * ip, stack pointer and system call goes without stacks. */
struct vs_offcpu_where {
	__u64 ip, sp;
	__s64 syscall;
};

/* Per thread: the running totals and the switch being timed. */
struct vs_offcpu_thread {
	__u64 ts_out;  /* when it was last switched out; 0 while on CPU */
	__u64 ts_in;   /* when it was last switched in; 0 while off CPU */
	__u64 on_ns;
	__u64 off_ns[VS_OFFCPU_NR_REASONS];
	__u32 blocks[VS_OFFCPU_NR_REASONS];
	__u32 state;   /* of the current (or last) block */
	__u32 reason;
	__u32 syscall; /* -1 when not in a system call */
	__u32 owner;   /* lock waits: the mutex's owner when the wait began */
	__u64 uaddr;   /* lock waits: the futex word */
	__u64 loop_wake; /* the event-loop thread: when its last poll ended */
	__u32 waker;   /* who woke the current block, when it was long */
	__u32 pad;
	__u64 loop_on; /* the event-loop thread: on_ns when its last poll ended */
	__u64 first_ns; /* accounted from: tracing's start, or the thread's creation */
	__u64 exit_ns;  /* its last switch-out, once it exited; 0 while alive */
	char comm[16];  /* its name when it exited */
	__u32 tid;
	__u32 pending;  /* pend holds a long block waiting for its user stack */
	struct vs_offcpu_where blk;  /* the current block's */
	struct vs_offcpu_where sent; /* of its last block sent with stacks */
	struct vs_offcpu_where woke; /* of its last wakeup sent with stacks */
	char owner_job[VS_JOB_NAME_LEN]; /* lock waits: the owner's job as the wait began */
	__u8 pend[VS_OFFCPU_RECORD_HDR_SIZE];
};

/* Exited threads' totals, kept past the task's storage. */
struct vs_offcpu_exited_key {
	__u32 tid;
	__u32 pad;
	__u64 first_ns;
};

/* The event-loop thread went from the end of one poll to the start of the
 * next (one turn of the loop) in at least stall_ns. */
struct vs_offcpu_stall {
	__u32 type;  /* VS_OFFCPU_REC_STALL */
	__u32 tid;
	__u64 ts_ns; /* the end of the previous poll */
	__u64 dur_ns;
	__u64 on_ns; /* of which on CPU */
};

/* The event loop's turns, counted in BPF. */
struct vs_offcpu_loop {
	__u64 turns;
	__u64 busy_ns;     /* between the end of a poll and the next */
	__u64 busy_max_ns;
	__u64 poll_ns;     /* in poll */
	__u64 stalls;
};

#endif
