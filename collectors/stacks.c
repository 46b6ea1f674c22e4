/* Interning: the key of a stack is the stack record itself (pid, counts,
 * flags and addresses), so two identical stacks share one id. */
#include "stacks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"

/* Ids are never given twice (consumers hold them), so the id table grows
 * with every stack ever met: under sampling, hundreds a second for hours.
 * It is kept in blocks, and a block whose stacks are all forgotten is
 * freed, so a flight recorder's memory follows the stacks it keeps, not
 * the ids it gave. Stacks age roughly in id order, so blocks empty whole. */
#define ID_BLOCK_BITS 12
#define ID_BLOCK (1u << ID_BLOCK_BITS)

struct id_block {
	uint32_t live;                   /* stacks in it not forgotten */
	struct vs_stack *by_id[ID_BLOCK]; /* NULL once forgotten */
	uint64_t stamp[ID_BLOCK];        /* the epoch it was last interned or touched in */
};

struct vs_stacks {
	struct vs_htab *index;   /* record bytes -> id */
	struct id_block **blocks; /* blocks[(id - 1) >> ID_BLOCK_BITS]; NULL once emptied */
	uint32_t nr_blocks;      /* slots in blocks */
	uint32_t count;          /* ids given */
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
	for (uint32_t b = 0; b < st->nr_blocks; b++) {
		if (!st->blocks[b])
			continue;
		for (uint32_t i = 0; i < ID_BLOCK; i++)
			free(st->blocks[b]->by_id[i]);
		free(st->blocks[b]);
	}
	free(st->blocks);
	vs_htab_free(st->index, NULL);
	free(st);
}

static size_t record_size(unsigned int nr)
{
	return sizeof(struct vs_stack) + nr * sizeof(uint64_t);
}

/* The block and slot of a live id, or NULL. */
static struct id_block *slot_of(const struct vs_stacks *st, vs_stack_id id, uint32_t *slot)
{
	struct id_block *b;

	if (!id || id > st->count)
		return NULL;
	b = st->blocks[(id - 1) >> ID_BLOCK_BITS];
	*slot = (id - 1) & (ID_BLOCK - 1);
	return b && b->by_id[*slot] ? b : NULL;
}

/* Room for the next id: 0, or -ENOMEM. */
static int make_room(struct vs_stacks *st)
{
	uint32_t b = st->count >> ID_BLOCK_BITS;

	if (b >= st->nr_blocks) {
		uint32_t n = st->nr_blocks ? st->nr_blocks * 2 : 16;
		struct id_block **p = realloc(st->blocks, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		memset(p + st->nr_blocks, 0, (n - st->nr_blocks) * sizeof(*p));
		st->blocks = p;
		st->nr_blocks = n;
	}
	if (!st->blocks[b] && !(st->blocks[b] = calloc(1, sizeof(*st->blocks[b]))))
		return -ENOMEM;
	return 0;
}

vs_stack_id vs_stacks_intern(struct vs_stacks *st, uint32_t pid, const uint64_t *kips,
			     unsigned int nr_kernel, const uint64_t *uips, unsigned int nr_user,
			     uint32_t flags)
{
	unsigned int nr = nr_kernel + nr_user;
	size_t size = record_size(nr);
	struct vs_stack *s;
	struct id_block *b;
	uint32_t slot;
	void *found;

	if (nr_kernel > UINT16_MAX || nr_user > UINT16_MAX || st->count == UINT32_MAX)
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
		b = slot_of(st, (vs_stack_id)(uintptr_t)found, &slot);
		if (b)
			b->stamp[slot] = st->epoch;
		return (vs_stack_id)(uintptr_t)found;
	}
	if (make_room(st))
		goto fail;
	/* The table maps the record's bytes to its id. */
	if (vs_htab_put(st->index, s, size, (void *)(uintptr_t)(st->count + 1), NULL))
		goto fail;
	b = st->blocks[st->count >> ID_BLOCK_BITS];
	slot = st->count & (ID_BLOCK - 1);
	b->stamp[slot] = st->epoch;
	b->by_id[slot] = s;
	b->live++;
	return ++st->count;
fail:
	free(s);
	return 0;
}

const struct vs_stack *vs_stacks_get(const struct vs_stacks *st, vs_stack_id id)
{
	uint32_t slot;
	const struct id_block *b = slot_of(st, id, &slot);

	return b ? b->by_id[slot] : NULL;
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
	uint32_t slot;
	struct id_block *b = slot_of(st, id, &slot);

	if (!b)
		return 0;
	b->stamp[slot] = st->epoch;
	return 1;
}

size_t vs_stacks_forget_before(struct vs_stacks *st, uint64_t epoch)
{
	size_t forgotten = 0;

	for (uint32_t n = 0; n * ID_BLOCK < st->count; n++) {
		struct id_block *b = st->blocks[n];

		if (!b)
			continue;
		for (uint32_t i = 0; i < ID_BLOCK; i++) {
			struct vs_stack *s = b->by_id[i];

			if (!s || b->stamp[i] >= epoch)
				continue;
			vs_htab_del(st->index, s,
				    record_size((unsigned int)s->nr_kernel + s->nr_user));
			free(s);
			b->by_id[i] = NULL;
			b->live--;
			forgotten++;
		}
		/* The block being filled stays, even empty: its next ids go there. */
		if (!b->live && (n + 1) * ID_BLOCK <= st->count) {
			free(b);
			st->blocks[n] = NULL;
		}
	}
	return forgotten;
}
