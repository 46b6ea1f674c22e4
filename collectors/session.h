/* A session: one target, the collectors attached to it, and the consumers
 * their events flow to.
 *
 *   vs_session_init()          target, config
 *   vs_session_add_collector() by registry name, any number
 *   vs_session_add_consumer()  folded writer, live view, recorder...
 *   vs_session_start()         loads and attaches every collector
 *   vs_session_run()           polls until the duration ends, a stop is
 *                              requested, or the target exits
 *   vs_session_release()       detaches everything, then frees it
 *
 * The session owns the stack layer: the stack table that events' stack ids
 * refer to, and the module maps and unwinder that fill it. It is
 * single-threaded: consumers are called from vs_session_run(), in order. */
#ifndef VS_SESSION_H
#define VS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/profile.h"
#include "collector.h"
#include "event.h"
#include "procmaps.h"
#include "stacks.h"
#include "target.h"
#include "unwind.h"

/* A consumer embeds this struct and recovers itself with container_of. */
struct vs_consumer {
	void (*event)(struct vs_consumer *self, const struct vs_event *ev);
};

/* Knobs collectors read. Zero means "the collector's default". */
struct vs_config {
	enum vs_unwind_mode unwind; /* how user stacks are taken (DWARF by default) */
	uint32_t freq_hz;      /* on-CPU sampling frequency */
	uint32_t tid;          /* only this thread, 0 for all */
	int children;          /* also observe the target's direct children */
	uint32_t ringbuf_size; /* bytes per ring buffer, a power of two */
	const char *profile;   /* the daemon profile: built-in name or file; NULL: find one */
	uint32_t probe_kinds;  /* probes: attach only kinds in this mask (bit = enum
				  vs_probe_kind), and do without a profile; 0: all;
				  1 << VS_PK_NONE: none, the profile only names roles */
	uint32_t span_kinds;   /* probes: of the span probes, attach only these types
				  (bit = enum vs_span_kind); 0: all */
	uint64_t lock_min_ns;  /* lock waits and holds reported one by one from this long
				  (0: 10 ms); shorter ones are only counted */
	uint64_t offcpu_min_ns; /* off-CPU blocks sent with stacks from this long (0: 1 ms) */
	uint64_t stall_ns;     /* event-loop turns reported as stalls from this long
				  (0: 100 ms) */
	int fork_syscalls;     /* forks: also time fork, vfork and clone system calls
				  made outside libc's wrappers (a raw clone); every
				  system call on the machine takes the kernel's
				  slower traced path while attached */
	int keep_privileges;   /* stay able to attach again (a restarted target):
				  keep CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN when
				  the other capabilities are dropped once the
				  session has started (lib/privs.h) */
};

#define VS_SESSION_MAX_COLLECTORS 16
#define VS_SESSION_MAX_CONSUMERS 8

struct vs_session {
	struct vs_target target;
	struct vs_config config;
	struct vs_stacks *stacks;
	struct vs_procs *procs;       /* the target's modules, for unwinding and names */
	struct vs_unwinder *unwinder;
	struct vs_collector collectors[VS_SESSION_MAX_COLLECTORS];
	size_t nr_collectors;
	struct vs_consumer *consumers[VS_SESSION_MAX_CONSUMERS];
	size_t nr_consumers;
	int epoll_fd;
	int started;
};

/* Takes ownership of the target (its pidfd is closed on release). */
int vs_session_init(struct vs_session *s, const struct vs_target *target,
		    const struct vs_config *config);

/* 0, -ENOENT for an unknown collector name, -E2BIG past the limit. */
int vs_session_add_collector(struct vs_session *s, const char *name);
/* The same for a collector that is not in the registry (tests, plugins). */
int vs_session_add_collector_ops(struct vs_session *s, const struct vs_collector_ops *ops);
int vs_session_add_consumer(struct vs_session *s, struct vs_consumer *consumer);

/* Starts every collector. On failure the ones started are stopped again, and
 * the failing collector's reason is copied into err. */
int vs_session_start(struct vs_session *s, char *err, size_t errlen);

/* Polls until duration_ns has passed (0: until stopped), vs_session_interrupt()
 * is called, or the target exits. 0 when the duration ended or a stop was
 * requested, -ESRCH when the target exited, other -errno on failure. What was
 * already read is always delivered. */
int vs_session_run(struct vs_session *s, uint64_t duration_ns);

/* Async-signal-safe: makes vs_session_run() return soon. */
void vs_session_interrupt(void);
int vs_session_interrupted(void);

/* The sum of every collector's stats. */
void vs_session_stats(const struct vs_session *s, struct vs_collector_stats *total);

/* Delivers an event to every consumer; collectors use vs_collector_emit(). */
void vs_session_dispatch(struct vs_session *s, const struct vs_event *ev);

/* The target exited and its restart is to be observed instead: detaches
 * every collector, takes ownership of next (the old target's pidfd is
 * closed) and attaches them all again. The stack table, module maps and
 * consumers stay, so stack ids and what consumers built span both processes;
 * collectors' counts carry on. exited_ns is when the exit was seen: the
 * consumers get a VS_EV_TARGET for the gap first. On failure, err says why
 * and the session is stopped, still owning next. */
int vs_session_retarget(struct vs_session *s, const struct vs_target *next, uint64_t exited_ns,
			char *err, size_t errlen);

/* Tells the consumers that the target exited at exited_ns and had not come
 * back by now (a VS_EV_TARGET with no new pid). */
void vs_session_target_gone(struct vs_session *s, uint64_t exited_ns);

/* Stops (detaches) every collector; idempotent. */
void vs_session_stop(struct vs_session *s);

/* Stops, then frees everything the session owns. Accepts a session whose
 * vs_session_init() failed. */
void vs_session_release(struct vs_session *s);

#endif
