/* Lock holds by sampling: who holds each watched lock of the target, read
 * from the lock itself many times a second.
 *
 * A glibc pthread mutex keeps its holder's tid in __owner (offset 8, for
 * every mutex type), so reading that word tells who holds the lock now
 * without a probe on every acquisition and release, which costs a busy
 * daemon about a tenth of its throughput (bench 40). The reads go through
 * process_vm_readv(): the target is neither stopped nor written. A hold
 * shorter than the sampling period may be missed, and a hold's length is
 * known to within one period: the figures are what a sampler can say, a
 * share of the time held and the age of the hold in progress.
 *
 * Locks come and go (a domain is undefined and its memory reused): an
 * owner is believed only when it is one of the target's threads.
 *
 * Each read costs the reader a page lookup in the target, so a daemon that
 * defines hundreds of domains a second cannot have each one's lock read a
 * hundred times a second: locks held are always read, and of the free ones
 * only the VS_LOCK_SAMPLER_MAX_FREE most recently named. A lock is named
 * when a thread takes it to work on its object, and read within one period,
 * so a hold that begins with the object's lookup is seen; a lock taken again
 * later, without a lookup, once it has fallen out, is not. */
#define VS_LOCK_SAMPLER_MAX_FREE 256
#ifndef VS_LOCK_SAMPLER_H
#define VS_LOCK_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VS_LOCK_SAMPLER_NAME_LEN 64

struct vs_lock_sampler;

struct vs_lock_hold {
	uint64_t lock;         /* the mutex's address in the target */
	char name[VS_LOCK_SAMPLER_NAME_LEN]; /* what it guards ("vm1") */
	uint64_t samples;      /* reads since the last vs_lock_sampler_take() */
	uint64_t held;         /* ... of which found it held */
	uint32_t owner;        /* its holder at the latest read, 0: free */
	uint64_t held_since_ns; /* the first read that found this holder (0: free) */
	uint64_t longest_ns;   /* the longest hold seen since the sampler began */
};

struct vs_lock_sampler *vs_lock_sampler_new(pid_t pid);
void vs_lock_sampler_free(struct vs_lock_sampler *s); /* NULL ok */

/* Watches the lock at addr (or refreshes its name and when it was last
 * named), as of now_ns. 0 or -ENOMEM. */
int vs_lock_sampler_watch(struct vs_lock_sampler *s, uint64_t addr, const char *name,
			  uint64_t now_ns);

/* The target's threads now (any order): owners outside them are not
 * believed. 0 or -ENOMEM. */
int vs_lock_sampler_set_threads(struct vs_lock_sampler *s, const uint32_t *tids, size_t n);

/* Reads every watched lock once. 0, or -errno when the target could not
 * be read at all (-ESRCH: it exited). */
int vs_lock_sampler_sample(struct vs_lock_sampler *s, uint64_t now_ns);

/* Calls fn for each watched lock with its figures, then starts the counts
 * afresh; free locks not named since forget_before_ns, and past the
 * VS_LOCK_SAMPLER_MAX_FREE most recently named, are dropped. 0 or fn's
 * first non-zero value. */
int vs_lock_sampler_take(struct vs_lock_sampler *s, uint64_t forget_before_ns,
			 int (*fn)(const struct vs_lock_hold *h, void *arg), void *arg);

size_t vs_lock_sampler_count(const struct vs_lock_sampler *s);

#endif
