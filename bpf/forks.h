/* Forks of the target and the fate of each child, from the scheduler's
 * process tracepoints (sched_process_fork/exec/exit: no system-call
 * tracepoint, so other processes' system calls stay on their fast path),
 * plus pid-filtered uprobes on the target's libc fork entry points, which
 * only fire when it forks: their entry gives the call path (a stack
 * snapshot taken before a return probe rewrites the return address) and
 * the start of the parent's cost, their return its end. The target's
 * descendants are tracked so that an exec or an exit in a grandchild (a
 * daemonized QEMU) is tied to the daemon's fork it descends from. Threads
 * (CLONE_THREAD) are not forks. Optionally (time_syscalls), the target's
 * fork, vfork, clone and clone3 system calls are timed too, so that a fork
 * outside libc's wrappers has its cost; that puts every system call on the
 * machine on the kernel's slower traced path while attached, so only the
 * forks command asks for it. Shared by forks.bpf.c and
 * collectors/forks.c. */
#ifndef VS_BPF_FORKS_H
#define VS_BPF_FORKS_H

#include "ustack.h"

/* The libc entry points probed; a probe's cookie is its index. */
enum vs_fork_fn {
	VS_FORK_FN_NONE,    /* no probed entry point: a raw clone system call */
	VS_FORK_FN_FORK,    /* fork(): libvirt's virFork */
	VS_FORK_FN_VFORK,   /* entry only: the child borrows the parent's stack */
	VS_FORK_FN_SPAWN,   /* posix_spawn() */
	VS_FORK_FN_SPAWNP,  /* posix_spawnp() */
	VS_FORK_FN_CLONE,   /* clone(): entry only, unless system calls are timed */
	/* System calls made outside those wrappers (a raw clone, as Go's runtime
	 * makes), timed from entry to exit when system calls are timed: */
	VS_FORK_FN_SYS_FORK,
	VS_FORK_FN_SYS_VFORK,
	VS_FORK_FN_SYS_CLONE, /* clone or clone3 */
	VS_FORK_FN_MAX,
};

enum vs_fork_rec_type {
	VS_FORK_REC_FORK = 1, /* the target made a process */
	VS_FORK_REC_EXEC,     /* a tracked descendant exec'd */
	VS_FORK_REC_EXIT,     /* a tracked descendant exited */
};

enum vs_fork_rec_flags {
	VS_FORK_F_RETURNED = 1 << 0, /* FORK: the call's return was seen (ret_ts valid) */
	VS_FORK_F_STACK = 1 << 1,    /* FORK: snap holds the parent's stack */
	VS_FORK_F_EXECED = 1 << 2,   /* EXIT: the process exec'd before it exited */
};

#define VS_FORK_FILENAME_LEN 128

struct vs_fork_record {
	__u32 type;    /* enum vs_fork_rec_type */
	__u32 pid;     /* FORK: the target; EXEC/EXIT: the descendant */
	__u32 tid;     /* FORK: the thread that forked; EXEC/EXIT: the thread */
	__u32 child;   /* FORK: the child (0: the call failed); EXEC/EXIT: the
			  target's child this process descends from (itself or an ancestor) */
	__u32 ppid;    /* EXEC/EXIT: its parent */
	__u32 fn;      /* FORK: enum vs_fork_fn */
	__s32 status;  /* FORK: the call's return value; EXIT: the exit code (wait status) */
	__u32 flags;   /* enum vs_fork_rec_flags */
	__u64 ts_ns;   /* FORK: the call's entry (the child's creation without one);
			  EXEC/EXIT: when it happened */
	__u64 created_ns; /* FORK: the child's creation (0 if none); EXEC/EXIT: this
			     process's creation */
	__u64 ret_ns;  /* FORK: the call's return in the parent, with VS_FORK_F_RETURNED */
	char comm[16]; /* FORK: the forking thread; EXEC: the new name; EXIT: the process */
	char filename[VS_FORK_FILENAME_LEN]; /* EXEC: the program */
	struct vs_ustack snap; /* FORK with VS_FORK_F_STACK; must stay last */
};

#define VS_FORK_RECORD_HDR_SIZE (sizeof(struct vs_fork_record) - sizeof(struct vs_ustack))

VS_STATIC_ASSERT(sizeof(struct vs_fork_record) ==
			 56 + 16 + VS_FORK_FILENAME_LEN + sizeof(struct vs_ustack),
		 "vs_fork_record has no hidden padding");

#endif
