/* Lock contention from the scheduler: a thread that finds a mutex taken
 * sleeps in futex(FUTEX_WAIT) on the mutex's word, and nothing happens in
 * the kernel for a lock that is free. So a thread of the target switched out
 * while in that system call (its saved registers say which call, and which
 * word) is a contended wait, and the wait ends when it is switched back in.
 * Only context switches are watched, not every system call, which keeps the
 * cost off the daemon's hot paths whatever the daemon: the waits of any
 * pthread mutex show up, with the holder read from the mutex itself (glibc
 * keeps the owner's tid at +8 of pthread_mutex_t).
 *
 * What the holder is doing is read when the wait begins, from the holder's
 * own state: its job name (thread_job.h), the system call it is blocked in,
 * and, when it is blocked, its stack. Stacks cost a copy of the stack, so
 * the waiter's is taken only for a wait that turned out long, on its way
 * back to user space (rseq_update fires there, with the registers and the
 * stack still those of the wait), and the holder's only when it was blocked
 * while a thread waited the threshold behind it, and then on its own way
 * back to user space, when its stack is still that of the stretch it was
 * blocked. Shared by contention.bpf.c and
 * collectors/contention.c. */
#ifndef VS_BPF_CONTENTION_H
#define VS_BPF_CONTENTION_H

#include "probes.h"
#include "thread_job.h"
#include "ustack.h"

enum vs_contention_type {
	VS_CONTENTION_WAIT = 1,   /* struct vs_contention_record */
	VS_CONTENTION_HOLDER,     /* struct vs_contention_holder, just before its wait */
};

enum vs_contention_flags {
	VS_CONTENTION_WAITER_STACK = 1 << 0, /* snap is the waiter's stack */
	VS_CONTENTION_OWNER_BLOCKED = 1 << 1, /* the owner was off-CPU, in owner_syscall */
};

/* One futex wait of at least the threshold. */
struct vs_contention_record {
	__u32 type;
	__u32 flags;
	__u64 ts_ns;    /* when the wait began */
	__u64 dur_ns;
	__u64 uaddr;    /* the futex word: the mutex's address */
	__u32 pid;
	__u32 tid;
	__u32 owner;    /* the mutex's owner when the wait began, 0 if unknown */
	__u32 owner_state; /* its task state then (0: on a CPU or runnable) */
	__u64 owner_waits; /* the futex word that owner was itself waiting on, or 0 */
	__s64 owner_syscall; /* the system call the blocked owner was in, or -1 */
	__u64 owner_snap_ts; /* the owner's stack sent as that holder record, or 0 */
	char comm[16];
	char owner_comm[16];
	char job[VS_JOB_NAME_LEN];       /* the waiter's job then */
	char owner_job[VS_JOB_NAME_LEN]; /* the owner's job then */
	struct vs_ustack snap; /* the waiter's stack; must stay last */
};

#define VS_CONTENTION_RECORD_HDR_SIZE \
	(sizeof(struct vs_contention_record) - VS_USTACK_MAX)

VS_STATIC_ASSERT(sizeof(struct vs_contention_record) ==
			 104 + 2 * VS_JOB_NAME_LEN + sizeof(struct vs_ustack),
		 "vs_contention_record has no hidden padding");

/* A lock owner's stack, as it was while it was blocked with a waiter behind
 * it; sent before each long wait that refers to it. */
struct vs_contention_holder {
	__u32 type;
	__u32 tid;      /* the owner */
	__u64 ts_ns;    /* names its stretch off a CPU: when it last came on one */
	struct vs_ustack snap; /* must stay last */
};

#define VS_CONTENTION_HOLDER_HDR_SIZE (sizeof(struct vs_contention_holder) - VS_USTACK_MAX)

/* A thread of the target waiting for a mutex now, in the `waits_now` array
 * (slot = tid modulo VS_CONTENTION_WAIT_SLOTS, tid 0 when free), which user
 * space maps and reads for waits still in progress whatever --min-wait says.
 * Written with plain stores: a reader may see a slot mid-update, and checks
 * that tid and ts are set. */
#define VS_CONTENTION_WAIT_SLOTS 8192

struct vs_contention_wait_now {
	__u32 tid;
	__u32 owner;
	__u64 uaddr;
	__u64 ts;
	char owner_job[VS_JOB_NAME_LEN]; /* when the owner was blocked and looked at */
};

VS_STATIC_ASSERT(sizeof(struct vs_contention_wait_now) == 24 + VS_JOB_NAME_LEN,
		 "vs_contention_wait_now has no hidden padding");

/* Per futex word: how often and how long threads waited there. */
struct vs_contention_stats {
	__u64 waits;
	__u64 wait_ns;
	__u64 wait_max_ns;
	__u32 wait_hist[VS_LOCK_HIST];
};

#endif
