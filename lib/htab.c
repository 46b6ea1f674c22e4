/* Linear probing with the full hash kept per slot, so that most mismatches are
 * rejected without touching the key's memory. The load factor stays under
 * 1/2. Removal shifts the entries that follow back into the hole (Knuth's
 * algorithm R), which keeps probing free of tombstones. */
#include "htab.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t hash; /* 0 marks an empty slot; real hashes are forced non-zero */
	const void *key;
	size_t len;
	void *val;
};

struct vs_htab {
	struct slot *slots;
	size_t cap; /* a power of two */
	size_t count;
};

static uint64_t hash_of(const void *key, size_t len)
{
	uint64_t h = vs_hash_bytes(key, len, 0x243f6a8885a308d3ULL);

	return h ? h : 1;
}

struct vs_htab *vs_htab_new(void)
{
	struct vs_htab *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->cap = 64;
	h->slots = calloc(h->cap, sizeof(*h->slots));
	if (!h->slots) {
		free(h);
		return NULL;
	}
	return h;
}

void vs_htab_free(struct vs_htab *h, void (*free_val)(void *))
{
	if (!h)
		return;
	if (free_val)
		for (size_t i = 0; i < h->cap; i++)
			if (h->slots[i].hash)
				free_val(h->slots[i].val);
	free(h->slots);
	free(h);
}

size_t vs_htab_count(const struct vs_htab *h)
{
	return h->count;
}

static struct slot *find(struct slot *slots, size_t cap, uint64_t hash, const void *key,
			 size_t len)
{
	size_t mask = cap - 1, i = hash & mask;

	for (;; i = (i + 1) & mask) {
		struct slot *s = &slots[i];

		if (!s->hash)
			return s;
		if (s->hash == hash && s->len == len && !memcmp(s->key, key, len))
			return s;
	}
}

static int grow(struct vs_htab *h)
{
	size_t cap = h->cap * 2;
	struct slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		struct slot *s = &h->slots[i];

		if (s->hash)
			*find(slots, cap, s->hash, s->key, s->len) = *s;
	}
	free(h->slots);
	h->slots = slots;
	h->cap = cap;
	return 0;
}

void *vs_htab_get(const struct vs_htab *h, const void *key, size_t len)
{
	struct slot *s = find(h->slots, h->cap, hash_of(key, len), key, len);

	return s->hash ? s->val : NULL;
}

int vs_htab_put(struct vs_htab *h, const void *key, size_t len, void *val, void **old)
{
	uint64_t hash = hash_of(key, len);
	struct slot *s;

	if ((h->count + 1) * 2 > h->cap && grow(h))
		return -ENOMEM;
	s = find(h->slots, h->cap, hash, key, len);
	if (old)
		*old = s->hash ? s->val : NULL;
	if (!s->hash)
		h->count++;
	s->hash = hash;
	s->key = key;
	s->len = len;
	s->val = val;
	return 0;
}

int vs_htab_next(const struct vs_htab *h, size_t *pos, const void **key, size_t *len,
		 void **val)
{
	for (; *pos < h->cap; (*pos)++) {
		struct slot *s = &h->slots[*pos];

		if (!s->hash)
			continue;
		if (key)
			*key = s->key;
		if (len)
			*len = s->len;
		if (val)
			*val = s->val;
		(*pos)++;
		return 1;
	}
	return 0;
}

void *vs_htab_del(struct vs_htab *h, const void *key, size_t len)
{
	size_t mask = h->cap - 1, hole, i;
	struct slot *s = find(h->slots, h->cap, hash_of(key, len), key, len);
	void *val;

	if (!s->hash)
		return NULL;
	val = s->val;
	hole = (size_t)(s - h->slots);
	/* Move back every entry after the hole whose home slot does not lie
	 * cyclically in (hole, i]: it could not be found past the hole. */
	for (i = (hole + 1) & mask; h->slots[i].hash; i = (i + 1) & mask) {
		size_t home = h->slots[i].hash & mask;

		if ((i > hole && (home <= hole || home > i)) || (i < hole && home <= hole && home > i)) {
			h->slots[hole] = h->slots[i];
			hole = i;
		}
	}
	memset(&h->slots[hole], 0, sizeof(h->slots[hole]));
	h->count--;
	return val;
}
