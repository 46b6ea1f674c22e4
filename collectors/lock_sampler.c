/* Lock holds by sampling (see lock_sampler.h). */
#include "lock_sampler.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "../lib/htab.h"

#define OWNER_OFFSET 8 /* glibc's pthread_mutex_t: __lock, __count, __owner */
#define MAX_IOV 1024   /* UIO_MAXIOV: one process_vm_readv() reads this many */

struct entry {
	struct vs_lock_hold h; /* h.lock is the key */
	uint64_t named_ns;
	uint32_t word;         /* the latest read */
};

struct vs_lock_sampler {
	pid_t pid;
	struct vs_htab *by_addr;  /* lock address -> struct entry */
	struct entry **entries;   /* the same entries, in an array to read them by */
	size_t n, cap;
	uint32_t *tids;           /* the target's threads, sorted */
	size_t ntids;
	struct iovec local[MAX_IOV], remote[MAX_IOV];
};

struct vs_lock_sampler *vs_lock_sampler_new(pid_t pid)
{
	struct vs_lock_sampler *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pid = pid;
	s->by_addr = vs_htab_new();
	if (!s->by_addr) {
		free(s);
		return NULL;
	}
	return s;
}

void vs_lock_sampler_free(struct vs_lock_sampler *s)
{
	if (!s)
		return;
	vs_htab_free(s->by_addr, free);
	free(s->entries);
	free(s->tids);
	free(s);
}

size_t vs_lock_sampler_count(const struct vs_lock_sampler *s)
{
	return s->n;
}

int vs_lock_sampler_watch(struct vs_lock_sampler *s, uint64_t addr, const char *name,
			  uint64_t now_ns)
{
	struct entry *e = vs_htab_get(s->by_addr, &addr, sizeof(addr));

	if (!e) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct entry **p = realloc(s->entries, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			s->entries = p;
			s->cap = cap;
		}
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->h.lock = addr;
		if (vs_htab_put(s->by_addr, &e->h.lock, sizeof(e->h.lock), e, NULL)) {
			free(e);
			return -ENOMEM;
		}
		s->entries[s->n++] = e;
	}
	/* The memory may now be another domain's: the name is the latest. */
	if (name && name[0]) {
		strncpy(e->h.name, name, sizeof(e->h.name) - 1);
		e->h.name[sizeof(e->h.name) - 1] = '\0';
	}
	e->named_ns = now_ns;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int vs_lock_sampler_set_threads(struct vs_lock_sampler *s, const uint32_t *tids, size_t n)
{
	uint32_t *p = n ? malloc(n * sizeof(*p)) : NULL;

	if (n && !p)
		return -ENOMEM;
	if (n) {
		memcpy(p, tids, n * sizeof(*p));
		qsort(p, n, sizeof(*p), cmp_u32);
	}
	free(s->tids);
	s->tids = p;
	s->ntids = n;
	return 0;
}

static int is_thread(const struct vs_lock_sampler *s, uint32_t tid)
{
	return tid && s->ntids && bsearch(&tid, s->tids, s->ntids, sizeof(tid), cmp_u32);
}

static void note(struct vs_lock_sampler *s, struct entry *e, uint32_t word, uint64_t now_ns)
{
	uint32_t owner = is_thread(s, word) ? word : 0;

	e->h.samples++;
	if (!owner) {
		e->h.owner = 0;
		e->h.held_since_ns = 0;
		return;
	}
	e->h.held++;
	if (owner != e->h.owner) {
		e->h.owner = owner;
		e->h.held_since_ns = now_ns;
	}
	if (now_ns - e->h.held_since_ns > e->h.longest_ns)
		e->h.longest_ns = now_ns - e->h.held_since_ns;
}

/* Reads entries [from, to) into their words, as far as the first that
 * cannot be read; returns how many were read, or -errno. */
static ssize_t read_words(struct vs_lock_sampler *s, size_t from, size_t to)
{
	size_t n = to - from;
	ssize_t got;

	for (size_t i = 0; i < n; i++) {
		struct entry *e = s->entries[from + i];

		s->local[i] = (struct iovec){ &e->word, sizeof(e->word) };
		s->remote[i] = (struct iovec){ (void *)(uintptr_t)(e->h.lock + OWNER_OFFSET),
					       sizeof(e->word) };
	}
	got = process_vm_readv(s->pid, s->local, n, s->remote, n, 0);
	if (got < 0)
		return -errno;
	return got / (ssize_t)sizeof(uint32_t);
}

int vs_lock_sampler_sample(struct vs_lock_sampler *s, uint64_t now_ns)
{
	size_t i = 0;

	while (i < s->n) {
		size_t to = s->n - i > MAX_IOV ? i + MAX_IOV : s->n;
		ssize_t got = read_words(s, i, to);

		if (got == -ESRCH || got == -EPERM)
			return (int)got;
		if (got < 0)
			got = 0; /* the first is unreadable (EFAULT): as free */
		for (ssize_t k = 0; k < got; k++)
			note(s, s->entries[i + (size_t)k], s->entries[i + (size_t)k]->word, now_ns);
		i += (size_t)got;
		/* A read stops at the first address it cannot read (freed and
		 * unmapped since): that one counts as free, and the rest go on. */
		if (i < to) {
			note(s, s->entries[i], 0, now_ns);
			i++;
		}
	}
	return 0;
}

static int by_named_desc(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

	return x->named_ns > y->named_ns ? -1 : x->named_ns < y->named_ns;
}

int vs_lock_sampler_take(struct vs_lock_sampler *s, uint64_t forget_before_ns,
			 int (*fn)(const struct vs_lock_hold *h, void *arg), void *arg)
{
	size_t kept = 0, free_kept = 0;
	int rc = 0;

	/* The most recently named first, so that past the cap on free locks
	 * the oldest go (see VS_LOCK_SAMPLER_MAX_FREE). */
	if (s->n > VS_LOCK_SAMPLER_MAX_FREE)
		qsort(s->entries, s->n, sizeof(*s->entries), by_named_desc);

	for (size_t i = 0; i < s->n; i++) {
		struct entry *e = s->entries[i];

		if (!rc)
			rc = fn(&e->h, arg);
		e->h.samples = e->h.held = 0;
		if (!e->h.owner && (e->named_ns < forget_before_ns ||
				    free_kept++ >= VS_LOCK_SAMPLER_MAX_FREE)) {
			vs_htab_del(s->by_addr, &e->h.lock, sizeof(e->h.lock));
			free(e);
			continue;
		}
		s->entries[kept++] = e;
	}
	s->n = kept;
	return rc;
}
