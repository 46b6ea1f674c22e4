/* Lock contention from the scheduler: a thread that finds a mutex taken
 * sleeps in futex(FUTEX_WAIT) on the mutex's word, and nothing happens in
 * the kernel for a lock that is free. So a thread of the target switched out
 * while in that system call (its saved registers say which call, and which
 * word) is a contended wait, and the wait ends when it is switched back in.
 * Only context switches are watched, not every system call, which keeps the
 * cost off the daemon's hot paths whatever the daemon: the waits of any
 * pthread mutex show up, with the holder read from the mutex itself (glibc
 * keeps the owner's tid at +8 of pthread_mutex_t). Shared by contention.bpf.c
 * and collectors/contention.c. */
#ifndef VS_BPF_CONTENTION_H
#define VS_BPF_CONTENTION_H

#include "probes.h"
#include "ustack.h"

/* One futex wait of at least the threshold. */
/* The waiter's stack is copied when it blocks, before anyone knows whether
 * the wait will be long, so it is kept short. */
#define VS_CONTENTION_STACK 2048

struct vs_contention_record {
	__u64 ts_ns;    /* when the wait began */
	__u64 dur_ns;
	__u64 uaddr;    /* the futex word: the mutex's address */
	__u32 pid;
	__u32 tid;
	__u32 owner;    /* the mutex's owner when the wait began, 0 if unknown */
	__u32 pad;
	__u64 owner_waits; /* the futex word that owner was itself waiting on, or 0 */
	char comm[16];
	struct vs_ustack snap; /* the waiter's stack; must stay last */
};

#define VS_CONTENTION_RECORD_HDR_SIZE \
	(sizeof(struct vs_contention_record) - VS_USTACK_MAX)

VS_STATIC_ASSERT(sizeof(struct vs_contention_record) == 64 + sizeof(struct vs_ustack),
		 "vs_contention_record has no hidden padding");

/* Per futex word: how often and how long threads waited there. */
struct vs_contention_stats {
	__u64 waits;
	__u64 wait_ns;
	__u64 wait_max_ns;
	__u32 wait_hist[VS_LOCK_HIST];
};

#endif
