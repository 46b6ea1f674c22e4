/* Interning: the key of a stack is the stack record itself (pid, counts,
 * flags and addresses), so two identical stacks share one id. */
#include "stacks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"

struct vs_stacks {
	struct vs_htab *index;   /* record bytes -> id */
	struct vs_stack **by_id; /* by_id[id - 1]; NULL once forgotten */
	uint64_t *stamp;         /* stamp[id - 1]: the epoch it was last interned or touched in */
	uint32_t count;
	uint32_t cap;
	uint64_t epoch;
};

struct vs_stacks *vs_stacks_new(void)
{
	struct vs_stacks *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->index = vs_htab_new();
	if (!st->index) {
		free(st);
		return NULL;
	}
	return st;
}

void vs_stacks_free(struct vs_stacks *st)
{
	if (!st)
		return;
	for (uint32_t i = 0; i < st->count; i++)
		free(st->by_id[i]);
	free(st->by_id);
	free(st->stamp);
	vs_htab_free(st->index, NULL);
	free(st);
}

static size_t record_size(unsigned int nr)
{
	return sizeof(struct vs_stack) + nr * sizeof(uint64_t);
}

vs_stack_id vs_stacks_intern(struct vs_stacks *st, uint32_t pid, const uint64_t *kips,
			     unsigned int nr_kernel, const uint64_t *uips, unsigned int nr_user,
			     uint32_t flags)
{
	unsigned int nr = nr_kernel + nr_user;
	size_t size = record_size(nr);
	struct vs_stack *s;
	void *found;

	if (nr_kernel > UINT16_MAX || nr_user > UINT16_MAX)
		return 0;
	s = calloc(1, size);
	if (!s)
		return 0;
	s->pid = pid;
	s->nr_kernel = (uint16_t)nr_kernel;
	s->nr_user = (uint16_t)nr_user;
	s->flags = flags;
	if (nr_kernel)
		memcpy(s->ips, kips, nr_kernel * sizeof(uint64_t));
	if (nr_user)
		memcpy(s->ips + nr_kernel, uips, nr_user * sizeof(uint64_t));

	found = vs_htab_get(st->index, s, size);
	if (found) {
		free(s);
		st->stamp[(uintptr_t)found - 1] = st->epoch;
		return (vs_stack_id)(uintptr_t)found;
	}
	if (st->count == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 256;
		struct vs_stack **p = realloc(st->by_id, cap * sizeof(*p));
		uint64_t *t;

		if (!p)
			goto fail;
		st->by_id = p;
		t = realloc(st->stamp, cap * sizeof(*t));
		if (!t)
			goto fail;
		st->stamp = t;
		st->cap = cap;
	}
	/* The table maps the record's bytes to its id. */
	if (vs_htab_put(st->index, s, size, (void *)(uintptr_t)(st->count + 1), NULL))
		goto fail;
	st->stamp[st->count] = st->epoch;
	st->by_id[st->count++] = s;
	return st->count;
fail:
	free(s);
	return 0;
}

const struct vs_stack *vs_stacks_get(const struct vs_stacks *st, vs_stack_id id)
{
	return id && id <= st->count ? st->by_id[id - 1] : NULL;
}

uint32_t vs_stacks_count(const struct vs_stacks *st)
{
	return st->count;
}

void vs_stacks_set_epoch(struct vs_stacks *st, uint64_t epoch)
{
	st->epoch = epoch;
}

int vs_stacks_touch(struct vs_stacks *st, vs_stack_id id)
{
	if (!vs_stacks_get(st, id))
		return 0;
	st->stamp[id - 1] = st->epoch;
	return 1;
}

size_t vs_stacks_forget_before(struct vs_stacks *st, uint64_t epoch)
{
	size_t forgotten = 0;

	for (uint32_t i = 0; i < st->count; i++) {
		struct vs_stack *s = st->by_id[i];

		if (!s || st->stamp[i] >= epoch)
			continue;
		vs_htab_del(st->index, s, record_size((unsigned int)s->nr_kernel + s->nr_user));
		free(s);
		st->by_id[i] = NULL;
		forgotten++;
	}
	return forgotten;
}
