/* The stack table: every stack an event carries is interned here once and
 * referred to by a small id, so that a million samples of one hot path cost
 * one copy of it. Stacks hold raw addresses; naming them is the symbolizer's
 * job, done once per unique stack by whoever needs names.
 *
 * Frame order is leaf first, kernel frames before user frames, as a thread
 * sees them from the inside out. ips[0] of each part is where the thread was;
 * the others are return addresses (see vs_stack_lookup_ip()). */
#ifndef VS_STACKS_H
#define VS_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum vs_stack_flags {
	VS_STACK_TRUNCATED = 1 << 0,       /* the user stack hit the depth limit */
	VS_STACK_USER_UNREADABLE = 1 << 1, /* no user frame could be read */
	VS_STACK_COMPLETE = 1 << 2,        /* the user stack reaches the thread's root */
};

/* The deepest user stack kept. */
#define VS_MAX_USER_FRAMES 256

struct vs_stack {
	uint32_t pid;
	uint16_t nr_kernel;
	uint16_t nr_user;
	uint32_t flags;
	uint32_t pad;
	uint64_t ips[]; /* nr_kernel kernel frames, then nr_user user frames */
};

struct vs_stacks;

struct vs_stacks *vs_stacks_new(void);
void vs_stacks_free(struct vs_stacks *st); /* NULL ok */

/* Interns a stack and returns its id (never 0), or 0 when out of memory. */
vs_stack_id vs_stacks_intern(struct vs_stacks *st, uint32_t pid, const uint64_t *kips,
			     unsigned int nr_kernel, const uint64_t *uips, unsigned int nr_user,
			     uint32_t flags);

/* The stack with that id, or NULL for 0 or an unknown id. */
const struct vs_stack *vs_stacks_get(const struct vs_stacks *st, vs_stack_id id);

uint32_t vs_stacks_count(const struct vs_stacks *st);

/* Forgetting, for a consumer that alone holds ids for long (a flight
 * recorder): each stack carries the epoch it was last interned or touched
 * in (0 until one is set), and forgetting those from before an epoch frees
 * them; their ids are never given again, and vs_stacks_get() says NULL for
 * them. vs_stacks_touch() says whether id is still known. */
void vs_stacks_set_epoch(struct vs_stacks *st, uint64_t epoch);
int vs_stacks_touch(struct vs_stacks *st, vs_stack_id id);
size_t vs_stacks_forget_before(struct vs_stacks *st, uint64_t epoch);

/* The address to look up for frame i of a part (kernel or user, leaf first):
 * a return address points after its call, possibly into the next function
 * when the call was the caller's last instruction, so it is looked up one
 * byte back. */
static inline uint64_t vs_stack_lookup_ip(const uint64_t *ips, unsigned int i)
{
	return i == 0 ? ips[0] : ips[i] - 1;
}

#endif
