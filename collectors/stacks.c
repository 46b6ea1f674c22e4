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

/* A few hot stacks (touched for hours) would pin their 64 KiB block for
 * good once the rest of it is forgotten: a block down to fewer than
 * SPARSE_BELOW stacks hands them to a table of their own, and goes. */
#define SPARSE_BELOW 64

struct sparse_entry {
	vs_stack_id id; /* the key */
	uint64_t stamp;
	struct vs_stack *s;
};

struct vs_stacks {
	struct vs_htab *index;   /* record bytes -> id */
	struct vs_htab *sparse;  /* id -> struct sparse_entry, for stacks of freed blocks */
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
	st->sparse = vs_htab_new();
	if (!st->index || !st->sparse) {
		vs_htab_free(st->index, NULL);
		vs_htab_free(st->sparse, NULL);
		free(st);
		return NULL;
	}
	return st;
}

static void sparse_free(void *p)
{
	struct sparse_entry *e = p;

	free(e->s);
	free(e);
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
	vs_htab_free(st->sparse, sparse_free);
	free(st);
}

static size_t record_size(unsigned int nr)
{
	return sizeof(struct vs_stack) + nr * sizeof(uint64_t);
}

/* Where a live id's stack and stamp are kept: 1, or 0 when forgotten. */
static int locate(const struct vs_stacks *st, vs_stack_id id, struct vs_stack **stack,
		  uint64_t **stamp)
{
	struct sparse_entry *e;
	struct id_block *b;
	uint32_t slot;

	if (!id || id > st->count)
		return 0;
	b = st->blocks[(id - 1) >> ID_BLOCK_BITS];
	slot = (id - 1) & (ID_BLOCK - 1);
	if (b) {
		if (!b->by_id[slot])
			return 0;
		*stack = b->by_id[slot];
		*stamp = &b->stamp[slot];
		return 1;
	}
	e = vs_htab_get(st->sparse, &id, sizeof(id));
	if (!e)
		return 0;
	*stack = e->s;
	*stamp = &e->stamp;
	return 1;
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
		struct vs_stack *kept;
		uint64_t *stamp;

		free(s);
		if (locate(st, (vs_stack_id)(uintptr_t)found, &kept, &stamp))
			*stamp = st->epoch;
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
	struct vs_stack *s;
	uint64_t *stamp;

	return locate(st, id, &s, &stamp) ? s : NULL;
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
	struct vs_stack *s;
	uint64_t *stamp;

	if (!locate(st, id, &s, &stamp))
		return 0;
	*stamp = st->epoch;
	return 1;
}

static void forget(struct vs_stacks *st, struct vs_stack *s)
{
	vs_htab_del(st->index, s, record_size((unsigned int)s->nr_kernel + s->nr_user));
	free(s);
}

/* Moves a nearly empty block's stacks to the sparse table: 0, or -ENOMEM
 * with the block kept as it was. */
static int thin_out(struct vs_stacks *st, uint32_t n)
{
	struct id_block *b = st->blocks[n];
	struct sparse_entry *e[SPARSE_BELOW];
	uint32_t k = 0;

	for (uint32_t i = 0; i < ID_BLOCK && k < b->live; i++) {
		if (!b->by_id[i])
			continue;
		e[k] = malloc(sizeof(*e[k]));
		if (!e[k])
			goto undo;
		*e[k] = (struct sparse_entry){ n * ID_BLOCK + i + 1, b->stamp[i], b->by_id[i] };
		if (vs_htab_put(st->sparse, &e[k]->id, sizeof(e[k]->id), e[k], NULL)) {
			free(e[k]);
			goto undo;
		}
		k++;
	}
	free(b);
	st->blocks[n] = NULL;
	return 0;
undo:
	while (k--)
		free(vs_htab_del(st->sparse, &e[k]->id, sizeof(e[k]->id)));
	return -ENOMEM;
}

static size_t forget_sparse_before(struct vs_stacks *st, uint64_t epoch)
{
	size_t n = vs_htab_count(st->sparse), k = 0, pos = 0;
	struct sparse_entry **doomed;
	void *val;

	if (!n || !(doomed = malloc(n * sizeof(*doomed))))
		return 0; /* kept until the next sweep */
	while (vs_htab_next(st->sparse, &pos, NULL, NULL, &val) && k < n) {
		struct sparse_entry *e = val;

		if (e->stamp < epoch)
			doomed[k++] = e;
	}
	for (size_t i = 0; i < k; i++) {
		vs_htab_del(st->sparse, &doomed[i]->id, sizeof(doomed[i]->id));
		forget(st, doomed[i]->s);
		free(doomed[i]);
	}
	free(doomed);
	return k;
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
			forget(st, s);
			b->by_id[i] = NULL;
			b->live--;
			forgotten++;
		}
		/* The block being filled stays, even empty: its next ids go there. */
		if ((n + 1) * ID_BLOCK > st->count)
			continue;
		if (!b->live) {
			free(b);
			st->blocks[n] = NULL;
		} else if (b->live < SPARSE_BELOW) {
			thin_out(st, n);
		}
	}
	return forgotten + forget_sparse_before(st, epoch);
}
