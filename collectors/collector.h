/* The collector interface, and how to add one.
 *
 * A collector owns one source of events (a BPF program and its maps, a set of
 * uprobes, a USDT provider) and turns what it reads into struct vs_event.
 *
 * To add a collector:
 *   1. Write collectors/<name>.c defining
 *        const struct vs_collector_ops vs_<name>_collector = { ... };
 *      with start/fd/poll/stop as documented below, and its BPF program, if it
 *      has one, as bpf/<name>.bpf.c with a bpf/<name>.h that both sides include.
 *   2. List it in collectors/registry.c. Subcommands then select it by name.
 * A collector never prints and never reads options other than those in the
 * session's struct vs_config; it reports through events and its stats.
 */
#ifndef VS_COLLECTOR_H
#define VS_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct vs_session;
struct vs_collector;

struct vs_collector_ops {
	const char *name;    /* short and unique: "cpu", "locks", "forks" */
	const char *summary; /* one line for `virtscope help` */

	/* Load and attach for session->target. 0 or -errno; on failure, set
	 * c->error to say what failed. stop() is called whatever start returned. */
	int (*start)(struct vs_collector *c);

	/* A file descriptor that becomes readable when poll() has work, or -1 if
	 * the collector only needs to be polled on the session's tick. */
	int (*fd)(struct vs_collector *c);

	/* Reads whatever is ready, without blocking, and emits it through
	 * vs_collector_emit(). Returns 0 or -errno. */
	int (*poll)(struct vs_collector *c);

	/* Detaches everything and frees c->priv. Must accept a collector whose
	 * start() failed at any point or was never called (priv NULL). */
	void (*stop)(struct vs_collector *c);
};

/* What a collector counts about itself; front ends show all of it. */
struct vs_collector_stats {
	uint64_t events;            /* events emitted */
	uint64_t lost;              /* events the kernel side could not deliver */
	uint64_t stacks_user;       /* user stacks taken */
	uint64_t stacks_complete;   /* ... that reach the thread's root */
	uint64_t stacks_truncated;  /* ... cut at the depth limit */
	uint64_t stacks_unreadable; /* ... of which not one frame could be read */
};

struct vs_collector {
	const struct vs_collector_ops *ops;
	struct vs_session *session;
	void *priv;
	struct vs_collector_stats stats;
	char error[256];
};

/* Hands ev to every consumer of c's session and counts it. */
void vs_collector_emit(struct vs_collector *c, const struct vs_event *ev);

/* The stack layer: interns an event's stacks and returns the id (0 when out
 * of memory). The user part comes either from a snapshot, unwound here from
 * CFI while the process's mappings are current, or, when snap is NULL, from
 * frame-pointer addresses (fp_count of them, or a negative errno when the
 * kernel could not read them). Counts what it saw in c->stats. */
struct vs_ustack;
vs_stack_id vs_collector_stack(struct vs_collector *c, uint32_t pid, const uint64_t *kips,
			       unsigned int nr_kernel, const struct vs_ustack *snap,
			       const uint64_t *fp_ips, int fp_count);

/* Emits a VS_EV_LOST event for `count` events of kind `what` and counts them. */
void vs_collector_lost(struct vs_collector *c, enum vs_event_kind what, uint64_t count);

/* Drains rb to the consumers, then reports what the BPF side could not
 * deliver since the last call: *lost is its running count (read
 * atomically), *seen what was reported so far. 0 or -errno. NULL rb: 0. */
struct ring_buffer;
int vs_collector_consume(struct vs_collector *c, struct ring_buffer *rb, enum vs_event_kind what,
			 const uint64_t *lost, uint64_t *seen);

/* The registry (collectors/registry.c). NULL when no collector has that name. */
const struct vs_collector_ops *vs_collector_find(const char *name);
/* The i-th registered collector, or NULL past the end. */
const struct vs_collector_ops *vs_collector_at(size_t i);

#endif
