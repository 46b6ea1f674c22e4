/* The merged call tree: an arena of nodes, a table of interned names, and an
 * open-addressing hash from (parent, name) to child.
 *
 * Why hash a child by its whole path rather than by its parent's id: the
 * path hash of every frame of a stack is known as soon as its names are, so
 * the reader can prefetch all of a stack's slots before walking it, and the
 * cache misses of a big tree overlap instead of queueing. A slot holds the
 * key itself (parent and name ids), so a probe touches no other memory.
 * Nothing is removed until finalize frees the whole table. */
#include "flame_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "flame_mem.h"

struct flame_slot {
	uint32_t parent;
	uint32_t name;
	uint32_t node; /* FLAME_NONE: empty */
};

static const char root_name[] = "all";

#define INITIAL_CAP 1024

/* Grows one of the node arrays from t->cap to cap elements; on failure the
 * old one stays valid. NULL arrays are optional ones not kept. */
/* Interned names are copied together: a name's first occurrence may be
 * anywhere in a 200 MB input, and every later lookup compares with it, so
 * keeping the input's copy would cost a cache miss per frame. */
struct flame_name_chunk {
	struct flame_name_chunk *next;
	char data[];
};

#define NAME_CHUNK (1u << 20)

static int grow_array(void *arrp, size_t elem, size_t old_cap, size_t cap)
{
	void **arr = arrp;
	void *p;

	if (!*arr)
		return 0;
	p = flame_mem_grow(*arr, old_cap * elem, cap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

int flame_tree_init(struct flame_tree *t, int two_inputs, int flamechart)
{
	memset(t, 0, sizeof(*t));
	t->cap = t->names_cap = INITIAL_CAP;
	t->nodes = flame_mem_alloc(INITIAL_CAP * sizeof(*t->nodes));
	t->names = malloc(INITIAL_CAP * sizeof(*t->names));
	t->name_slots = calloc(INITIAL_CAP, sizeof(*t->name_slots));
	if (two_inputs)
		t->before = flame_mem_alloc(INITIAL_CAP * sizeof(*t->before));
	if (flamechart)
		t->start = flame_mem_alloc(INITIAL_CAP * sizeof(*t->start));
	if (!t->nodes || !t->names || !t->name_slots ||
	    (two_inputs && !t->before) || (flamechart && !t->start)) {
		flame_tree_release(t);
		return -ENOMEM;
	}
	t->name_mask = INITIAL_CAP - 1;
	t->names[FLAME_ROOT_NAME] = (struct flame_name){ root_name, sizeof(root_name) - 1, 0 };
	t->nnames = 1;
	t->nodes[FLAME_ROOT] = (struct flame_node){ FLAME_ROOT_NAME, 0, 0 };
	if (t->before)
		t->before[FLAME_ROOT] = 0;
	if (t->start)
		t->start[FLAME_ROOT] = 0;
	t->n = 1;
	return 0;
}

static void drop_index(struct flame_tree *t)
{
	if (t->slots)
		flame_mem_free(t->slots, ((size_t)t->slot_mask + 1) * sizeof(*t->slots));
	t->slots = NULL;
	t->slot_mask = 0;
}

void flame_tree_release(struct flame_tree *t)
{
	flame_mem_free(t->nodes, (size_t)t->cap * sizeof(*t->nodes));
	flame_mem_free(t->before, (size_t)t->cap * sizeof(*t->before));
	flame_mem_free(t->start, (size_t)t->cap * sizeof(*t->start));
	free(t->names);
	free(t->name_slots);
	while (t->name_chunks) {
		struct flame_name_chunk *c = t->name_chunks;

		t->name_chunks = c->next;
		free(c);
	}
	drop_index(t);
	flame_mem_free(t->first_child, (size_t)t->n * sizeof(*t->first_child));
	flame_mem_free(t->next_sibling, (size_t)t->n * sizeof(*t->next_sibling));
	memset(t, 0, sizeof(*t));
}

/* Eight bytes at a time: names are short, and every frame of a stack past
 * its shared prefix is hashed. */
uint32_t flame_bytes_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL;
	return (uint32_t)(h ^ h >> 32);
}

/* memcmp() == 0 for the short strings frame names are, without a call. */
static int same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y;

	for (; n >= 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return 0;
	}
	while (n--)
		if (*a++ != *b++)
			return 0;
	return 1;
}

static int grow_names(struct flame_tree *t)
{
	size_t cap = (size_t)t->name_mask + 1, ncap = cap * 2;
	uint32_t *s;

	if (ncap > (size_t)UINT32_MAX + 1)
		return -EOVERFLOW;
	s = calloc(ncap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (uint32_t id = 1; id < t->nnames; id++) {
		size_t j = t->names[id].hash & (ncap - 1);

		while (s[j])
			j = (j + 1) & (ncap - 1);
		s[j] = id + 1;
	}
	free(t->name_slots);
	t->name_slots = s;
	t->name_mask = (uint32_t)(ncap - 1);
	return 0;
}


static const char *keep_name(struct flame_tree *t, const char *s, size_t len)
{
	char *p;

	if (len > t->chunk_left) {
		size_t size = len > NAME_CHUNK ? len : NAME_CHUNK;
		struct flame_name_chunk *c = malloc(sizeof(*c) + size);

		if (!c)
			return NULL;
		c->next = t->name_chunks;
		t->name_chunks = c;
		t->chunk_next = c->data;
		t->chunk_left = size;
	}
	p = t->chunk_next;
	memcpy(p, s, len);
	t->chunk_next += len;
	t->chunk_left -= len;
	return p;
}

int flame_tree_intern(struct flame_tree *t, const char *s, size_t len, uint32_t *name)
{
	uint32_t h, i;

	if (len > UINT32_MAX)
		return -EOVERFLOW;
	h = flame_bytes_hash(s, len);
	for (i = h & t->name_mask; t->name_slots[i]; i = (i + 1) & t->name_mask) {
		const struct flame_name *nm = &t->names[t->name_slots[i] - 1];

		if (nm->hash == h && nm->len == len && same_bytes(nm->s, s, len)) {
			*name = t->name_slots[i] - 1;
			return 0;
		}
	}
	if (t->nnames == UINT32_MAX - 1)
		return -EOVERFLOW;
	if (t->nnames == t->names_cap) {
		uint32_t cap = t->names_cap > UINT32_MAX / 2 ? UINT32_MAX : t->names_cap * 2;

		struct flame_name *p = realloc(t->names, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->names = p;
		t->names_cap = cap;
	}
	s = keep_name(t, s, len);
	if (!s)
		return -ENOMEM;
	*name = t->nnames++;
	t->names[*name] = (struct flame_name){ s, (uint32_t)len, h };
	t->name_slots[i] = *name + 1;
	/* The table stays under half full: probes stay short. */
	if ((uint64_t)t->nnames * 2 > t->name_mask)
		return grow_names(t);
	return 0;
}

static int new_node(struct flame_tree *t, uint32_t parent, uint32_t name, uint32_t *id)
{
	if (t->n == UINT32_MAX)
		return -EOVERFLOW;
	if (t->n == t->cap) {
		uint32_t cap = t->cap > UINT32_MAX / 2 ? UINT32_MAX : t->cap * 2;

		/* Each array is sized by t->cap, which only moves once all
		 * have grown: one failing leaves the others merely oversized. */
		if (grow_array(&t->nodes, sizeof(*t->nodes), t->cap, cap) ||
		    grow_array(&t->before, sizeof(*t->before), t->cap, cap) ||
		    grow_array(&t->start, sizeof(*t->start), t->cap, cap))
			return -ENOMEM;
		t->cap = cap;
	}
	*id = t->n++;
	t->nodes[*id] = (struct flame_node){ name, parent, 0 };
	if (t->before)
		t->before[*id] = 0;
	if (t->start)
		t->start[*id] = t->time;
	return 0;
}

/* (Re)builds the child table with cap slots. Slots keep no hash, so the
 * path hashes are recomputed, parents first (their ids are lower). */
static int build_slots(struct flame_tree *t, size_t cap)
{
	uint32_t *hash = NULL;
	struct flame_slot *s = NULL;
	int rc = -ENOMEM;

	if (cap > (size_t)UINT32_MAX + 1)
		return -EOVERFLOW;
	hash = malloc((size_t)t->n * sizeof(*hash));
	s = flame_mem_alloc(cap * sizeof(*s));
	if (!hash || !s)
		goto cleanup;
	hash[FLAME_ROOT] = FLAME_ROOT_HASH;
	for (uint32_t id = 1; id < t->n; id++) {
		const struct flame_node *n = &t->nodes[id];
		size_t j;

		hash[id] = flame_path_hash(hash[n->parent], n->name);
		for (j = hash[id] & (cap - 1); s[j].node; j = (j + 1) & (cap - 1))
			;
		s[j] = (struct flame_slot){ n->parent, n->name, id };
	}
	drop_index(t);
	t->slots = s;
	s = NULL;
	t->slot_mask = (uint32_t)(cap - 1);
	rc = 0;
cleanup:
	free(hash);
	flame_mem_free(s, cap * sizeof(*s));
	return rc;
}

int flame_tree_index(struct flame_tree *t, size_t expect)
{
	size_t cap = INITIAL_CAP, n = (size_t)t->n > expect ? t->n : expect;

	if (t->slots)
		return 0;
	/* Under half full, as in flame_tree_child(). */
	while (cap <= n * 2 && cap <= (size_t)UINT32_MAX)
		cap *= 2;
	return build_slots(t, cap);
}

void flame_tree_prefetch(const struct flame_tree *t, uint32_t hash)
{
	__builtin_prefetch(&t->slots[hash & t->slot_mask]);
}

int flame_tree_child(struct flame_tree *t, uint32_t parent, uint32_t name, uint32_t hash,
		     uint32_t *child)
{
	uint32_t i;
	int rc;

	for (i = hash & t->slot_mask; t->slots[i].node; i = (i + 1) & t->slot_mask)
		if (t->slots[i].parent == parent && t->slots[i].name == name) {
			*child = t->slots[i].node;
			return 0;
		}
	rc = new_node(t, parent, name, child);
	if (rc)
		return rc;
	t->slots[i] = (struct flame_slot){ parent, name, *child };
	if ((uint64_t)(t->n - 1) * 2 > t->slot_mask)
		return build_slots(t, ((size_t)t->slot_mask + 1) * 2);
	return 0;
}

int flame_tree_append(struct flame_tree *t, uint32_t parent, uint32_t name, uint32_t *child)
{
	/* An indexed tree would need the child's path hash. */
	if (t->slots)
		return -EINVAL;
	return new_node(t, parent, name, child);
}

int flame_tree_add(struct flame_tree *t, uint32_t node, int input, uint64_t count)
{
	uint64_t *self = input ? &t->before[node] : &t->nodes[node].count;

	/* Every self and total is bounded by its input's sum: checking the sum
	 * is enough to rule out overflow everywhere. */
	if (__builtin_add_overflow(t->sum[input], count, &t->sum[input]))
		return -EOVERFLOW;
	*self += count;
	if (!input)
		t->time += count;
	return 0;
}

int flame_tree_set_digits(struct flame_tree *t, unsigned int digits)
{
	uint64_t f, s0, s1;

	if (digits > FLAME_MAX_DIGITS)
		return -EINVAL;
	if (digits <= t->digits)
		return 0;
	f = 1;
	for (unsigned int d = t->digits; d < digits; d++)
		f *= 10;
	if (__builtin_mul_overflow(t->sum[0], f, &s0) || __builtin_mul_overflow(t->sum[1], f, &s1))
		return -EOVERFLOW;
	for (uint32_t i = 0; i < t->n; i++) {
		t->nodes[i].count *= f;
		if (t->before)
			t->before[i] *= f;
		if (t->start)
			t->start[i] *= f;
	}
	t->sum[0] = s0;
	t->sum[1] = s1;
	t->time *= f;
	t->digits = digits;
	return 0;
}

int flame_tree_normalize(struct flame_tree *t)
{
	unsigned __int128 v;
	uint64_t sum = 0;

	if (!t->before || !t->sum[1] || t->sum[0] == t->sum[1])
		return 0;
	for (uint32_t i = 0; i < t->n; i++) {
		/* Each value is at most sum[0] + 1/2, so it fits; the new sum is
		 * checked because roundings add up. */
		v = ((unsigned __int128)t->before[i] * t->sum[0] + t->sum[1] / 2) / t->sum[1];
		t->before[i] = (uint64_t)v;
		if (__builtin_add_overflow(sum, t->before[i], &sum))
			return -EOVERFLOW;
	}
	t->sum[1] = sum;
	return 0;
}

/* Depth of every node of t in frames (the root's is 0, capped at 255), and
 * how many nodes other than the root are at most max deep. */
static uint8_t *node_depths(const struct flame_tree *t, unsigned int max, uint32_t *shallow)
{
	uint8_t *d = malloc(t->n);

	if (!d)
		return NULL;
	d[FLAME_ROOT] = 0;
	*shallow = 0;
	for (uint32_t i = 1; i < t->n; i++) {
		uint8_t pd = d[t->nodes[i].parent];

		d[i] = pd < UINT8_MAX ? pd + 1 : UINT8_MAX;
		if (d[i] <= max)
			(*shallow)++;
	}
	return d;
}

/* The slot of (parent, name) in a table of the nodes a merge may meet
 * twice: empty (node FLAME_NONE) when it holds no such node yet. */
static struct flame_slot *shallow_slot(struct flame_slot *slots, uint32_t mask, uint32_t parent,
				       uint32_t name)
{
	uint32_t i = flame_path_hash(parent, name) & mask;

	while (slots[i].node && (slots[i].parent != parent || slots[i].name != name))
		i = (i + 1) & mask;
	return &slots[i];
}

int flame_tree_merge(struct flame_tree *t, struct flame_tree *from, unsigned int shared)
{
	uint32_t *names = NULL, *map = NULL, nt, nf;
	uint8_t *dt = NULL, *df = NULL;
	struct flame_slot *slots = NULL;
	uint64_t scale = 1, sum;
	size_t cap = 16;
	int rc;

	if (t->before || t->start || from->before || from->start)
		return -EINVAL;
	if (from->digits > t->digits && (rc = flame_tree_set_digits(t, from->digits)))
		return rc;
	for (unsigned int d = from->digits; d < t->digits; d++)
		scale *= 10;
	/* Every count is bounded by its tree's sum: checking the sums rules
	 * out overflow everywhere. */
	if (__builtin_mul_overflow(from->sum[0], scale, &sum) ||
	    __builtin_add_overflow(sum, t->sum[0], &sum))
		return -EOVERFLOW;
	/* Neither index is of use here, and t's would miss the nodes added. */
	drop_index(t);
	drop_index(from);
	rc = -ENOMEM;
	names = malloc((size_t)from->nnames * sizeof(*names));
	map = malloc((size_t)from->n * sizeof(*map));
	dt = node_depths(t, shared, &nt);
	df = node_depths(from, shared, &nf);
	if (!names || !map || !dt || !df)
		goto cleanup;
	while (cap <= ((size_t)nt + nf) * 2)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		goto cleanup;
	for (uint32_t i = 1; i < t->n; i++) {
		const struct flame_node *n = &t->nodes[i];

		if (dt[i] <= shared)
			*shallow_slot(slots, (uint32_t)(cap - 1), n->parent, n->name) =
				(struct flame_slot){ n->parent, n->name, i };
	}
	names[FLAME_ROOT_NAME] = FLAME_ROOT_NAME;
	for (uint32_t i = 1; i < from->nnames; i++)
		if ((rc = flame_tree_intern(t, from->names[i].s, from->names[i].len, &names[i])))
			goto cleanup;
	map[FLAME_ROOT] = FLAME_ROOT;
	t->nodes[FLAME_ROOT].count += from->nodes[FLAME_ROOT].count * scale;
	/* Parents come before their children in both arenas, so each node's
	 * parent is mapped by the time the node is, and what is appended to t
	 * keeps that order. */
	for (uint32_t i = 1; i < from->n; i++) {
		const struct flame_node *n = &from->nodes[i];
		uint32_t parent = map[n->parent], name = names[n->name];
		struct flame_slot *slot = NULL;

		if (df[i] <= shared)
			slot = shallow_slot(slots, (uint32_t)(cap - 1), parent, name);
		if (slot && slot->node) {
			map[i] = slot->node;
		} else {
			if ((rc = new_node(t, parent, name, &map[i])))
				goto cleanup;
			if (slot)
				*slot = (struct flame_slot){ parent, name, map[i] };
		}
		t->nodes[map[i]].count += n->count * scale;
	}
	t->sum[0] = sum;
	t->time += from->time * scale;
	rc = 0;
cleanup:
	free(slots);
	free(df);
	free(dt);
	free(map);
	free(names);
	return rc;
}

int flame_tree_finalize(struct flame_tree *t)
{
	drop_index(t);
	free(t->name_slots);
	t->name_slots = NULL;
	t->first_child = flame_mem_alloc((size_t)t->n * sizeof(*t->first_child));
	t->next_sibling = flame_mem_alloc((size_t)t->n * sizeof(*t->next_sibling));
	if (!t->first_child || !t->next_sibling)
		return -ENOMEM;
	/* Children have higher ids than their parents, so one pass from the
	 * top id down sums every subtree before its parent is reached, and
	 * prepending links each node's children in creation order. */
	for (uint32_t i = t->n - 1; i > 0; i--) {
		uint32_t p = t->nodes[i].parent;

		t->nodes[p].count += t->nodes[i].count;
		if (t->before)
			t->before[p] += t->before[i];
		t->next_sibling[i] = t->first_child[p];
		t->first_child[p] = i;
		if (t->nodes[i].count)
			t->nonzero++;
	}
	if (t->nodes[FLAME_ROOT].count)
		t->nonzero++;
	return 0;
}

int flame_name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);

	if (c || alen == blen)
		return c;
	/* In a whole line the shorter name is followed by ';'. */
	if (alen < blen)
		return (unsigned char)b[n] > ';' ? -1 : 1;
	return (unsigned char)a[n] > ';' ? 1 : -1;
}

struct sort_item {
	const char *name;
	uint32_t len;
	uint32_t id;
};

static int item_cmp(const void *pa, const void *pb)
{
	const struct sort_item *a = pa, *b = pb;
	int c = flame_name_cmp(a->name, a->len, b->name, b->len);

	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}

int flame_tree_sort_children(struct flame_tree *t, uint32_t node)
{
	struct sort_item stack_items[64], *items = stack_items;
	size_t k = 0, n = 0;
	int sorted = 1;

	for (uint32_t c = t->first_child[node]; c; c = t->next_sibling[c], n++) {
		uint32_t d = t->next_sibling[c];
		const struct flame_name *x = flame_tree_name(t, c), *y;

		if (!d)
			continue;
		y = flame_tree_name(t, d);
		if (flame_name_cmp(x->s, x->len, y->s, y->len) > 0)
			sorted = 0;
	}
	if (sorted)
		return 0;
	if (n > VS_ARRAY_SIZE(stack_items)) {
		items = malloc(n * sizeof(*items));
		if (!items)
			return -ENOMEM;
	}
	for (uint32_t c = t->first_child[node]; c; c = t->next_sibling[c]) {
		const struct flame_name *x = flame_tree_name(t, c);

		items[k++] = (struct sort_item){ x->s, x->len, c };
	}
	qsort(items, n, sizeof(*items), item_cmp);
	t->first_child[node] = items[0].id;
	for (size_t i = 0; i < n; i++)
		t->next_sibling[items[i].id] = i + 1 < n ? items[i + 1].id : FLAME_NONE;
	if (items != stack_items)
		free(items);
	return 0;
}

uint64_t *flame_tree_selfs(const struct flame_tree *t, int input)
{
	uint64_t *self = malloc((size_t)t->n * sizeof(*self));

	if (!self)
		return NULL;
	for (uint32_t i = 0; i < t->n; i++)
		self[i] = flame_tree_total(t, i, input);
	for (uint32_t i = 1; i < t->n; i++)
		self[t->nodes[i].parent] -= flame_tree_total(t, i, input);
	return self;
}
