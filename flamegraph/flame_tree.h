/* The merged call tree behind `virtscope flame`: one node per distinct path
 * from the root, counts as exact fixed-point integers.
 *
 * Nodes live in one array (an arena: ids are indices, and a parent's id is
 * always below its children's). Frame names are interned, without copying:
 * they point into the input buffer, which must outlive the tree. A child is
 * found through a hash of its whole path (see flame_tree_child()). While
 * stacks are added a node holds its self count; after flame_tree_finalize()
 * it holds its total, and the children are linked. */
#ifndef VS_FLAME_TREE_H
#define VS_FLAME_TREE_H

#include <stddef.h>
#include <stdint.h>

#define FLAME_ROOT 0
#define FLAME_NONE 0        /* "no node" in child links: the root is nobody's child */
#define FLAME_ROOT_NAME 0   /* "all": never interned, so a frame may be named so too */
#define FLAME_MAX_DIGITS 9  /* decimals a count may have */

struct flame_name {
	const char *s; /* not NUL-terminated */
	uint32_t len;
	uint32_t hash;
};

struct flame_node {
	uint32_t name; /* index in names */
	uint32_t parent;
	uint64_t count; /* self while building, total after finalize */
};

struct flame_slot;

struct flame_name_chunk;

struct flame_tree {
	struct flame_node *nodes;
	uint64_t *before;     /* --diff: the second input's counts, else NULL */
	uint64_t *start;      /* --flamechart: where each node starts, else NULL */
	uint32_t n, cap;
	struct flame_name *names;
	uint32_t nnames, names_cap;
	uint32_t *name_slots; /* name hash -> name id + 1 */
	uint32_t name_mask;
	struct flame_name_chunk *name_chunks; /* where interned names' bytes live */
	char *chunk_next;
	size_t chunk_left;
	struct flame_slot *slots; /* (parent, name) -> child, or NULL; freed by finalize */
	uint32_t slot_mask;
	uint32_t *first_child, *next_sibling; /* after finalize */
	uint64_t sum[2];      /* per input: the sum of its counts */
	uint64_t time;        /* --flamechart: the counts added so far */
	unsigned int digits;  /* every count is value * 10^digits */
	uint32_t nonzero;     /* after finalize: nodes with a count in input 0 */
};

/* two_inputs: keep a second count per node (for --diff). flamechart: record
 * each node's start so that siblings keep input order and time position. */
int flame_tree_init(struct flame_tree *t, int two_inputs, int flamechart);
void flame_tree_release(struct flame_tree *t); /* zeroed ok */

/* The id of a frame name, interned on first sight. 0, -ENOMEM or
 * -EOVERFLOW (a name over 4 GiB, or 2^32 names). */
int flame_tree_intern(struct flame_tree *t, const char *s, size_t len, uint32_t *name);

/* A 32-bit hash of bytes (a frame name). */
uint32_t flame_bytes_hash(const char *s, size_t len);

/* The hash of a path, from its parent's (FLAME_ROOT_HASH for the root's
 * children) and its last name. Known before the parent's id is, so that a
 * reader can compute a whole stack's hashes and prefetch their slots. */
#define FLAME_ROOT_HASH 0x6a09e667u
static inline uint32_t flame_path_hash(uint32_t parent_hash, uint32_t name)
{
	uint64_t h = ((uint64_t)parent_hash << 32 | name) * 0x9e3779b97f4a7c15ULL;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (uint32_t)(h ^ h >> 32);
}

/* The index from (parent, name) to child is built only when needed: input
 * whose siblings come in increasing order (sorted input) never needs one.
 * flame_tree_index() builds it over every node so far (which must all be
 * distinct children of their parents), sized for about expect nodes (a hint,
 * to spare rebuilds as it grows); from then on flame_tree_child() finds and
 * creates nodes through it. 0, -ENOMEM or -EOVERFLOW. */
int flame_tree_index(struct flame_tree *t, size_t expect);

static inline int flame_tree_indexed(const struct flame_tree *t)
{
	return t->slots != NULL;
}

/* A hint that the child with this path hash is looked up soon. */
void flame_tree_prefetch(const struct flame_tree *t, uint32_t hash);

/* The child of parent named name (whose path hash is hash), created if
 * missing. Indexed trees only. 0, -ENOMEM or -EOVERFLOW (2^32 nodes). */
int flame_tree_child(struct flame_tree *t, uint32_t parent, uint32_t name, uint32_t hash,
		     uint32_t *child);

/* A new child of parent, whatever its siblings: for flame charts (which
 * merge a frame only with the same frame of the line before), and for
 * input known to hold no such child yet. Trees not indexed only (-EINVAL). */
int flame_tree_append(struct flame_tree *t, uint32_t parent, uint32_t name, uint32_t *child);

/* Adds count (already at the tree's scale) to node's self for input 0 or 1.
 * 0 or -EOVERFLOW when an input's sum would not fit 64 bits. */
int flame_tree_add(struct flame_tree *t, uint32_t node, int input, uint64_t count);

/* Raises the fixed-point scale to digits decimals, multiplying every count
 * so far. 0, -EINVAL (over FLAME_MAX_DIGITS) or -EOVERFLOW. */
int flame_tree_set_digits(struct flame_tree *t, unsigned int digits);

/* --normalize: scales input 1's counts so that they sum to input 0's
 * (each self count rounded to nearest). Before finalize. */
int flame_tree_normalize(struct flame_tree *t);

/* Moves every node and count of from into t (both single-input trees, not
 * yet finalized), leaving from to be released. Only nodes at most shared
 * frames deep may be in both: the caller split the input so that every
 * deeper path went to one tree alone, and those are appended without a
 * lookup. Neither tree is indexed afterwards. 0, -ENOMEM or -EOVERFLOW. */
int flame_tree_merge(struct flame_tree *t, struct flame_tree *from, unsigned int shared);

/* Turns self counts into totals and links each node's children in creation
 * order. Frees the child hash. 0 or -ENOMEM. */
int flame_tree_finalize(struct flame_tree *t);

/* Orders node's children by name, as `LC_ALL=C sort` orders whole folded
 * lines: a name that is a prefix of its sibling's compares as if followed by
 * ';'. Stable for equal names (flame charts). 0 or -ENOMEM. */
int flame_tree_sort_children(struct flame_tree *t, uint32_t node);

/* Every node's self count for input 0 or 1 (total minus its children's), in
 * a new array the caller frees; NULL on -ENOMEM. After finalize. */
uint64_t *flame_tree_selfs(const struct flame_tree *t, int input);

/* The total (after finalize) of node for input 0 or 1. */
static inline uint64_t flame_tree_total(const struct flame_tree *t, uint32_t node, int input)
{
	return input ? t->before[node] : t->nodes[node].count;
}

static inline const struct flame_name *flame_tree_name(const struct flame_tree *t, uint32_t node)
{
	return &t->names[t->nodes[node].name];
}

/* Compares two frame names as flame_tree_sort_children() orders them. */
int flame_name_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
