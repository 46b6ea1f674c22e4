/* Walking the merged stacks back out of the tree.
 *
 * Sorted order must match `LC_ALL=C sort` on the whole lines, which a plain
 * depth-first walk does not: "main 5" sorts before "main2;x 1", but
 * "main;y 1" after it. So each child stands among its siblings twice, as its
 * own line (its name then ' ') and as its subtree (its name then ';'), and
 * both kinds are sorted together. Explicit stacks: input stacks can be
 * deeper than the C stack. */
#include "flame_stacks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct item {
	uint32_t node;
	uint32_t subtree; /* 0: the node's own line; 1: its children */
};

struct walk {
	const struct flame_tree *t;
	uint64_t *self0, *self1;
	struct item *items;
	size_t n, cap;
};

static int key_cmp(const void *pa, const void *pb, void *arg)
{
	const struct item *ia = pa, *ib = pb;
	const struct flame_tree *t = arg;
	const struct flame_name *a = flame_tree_name(t, ia->node), *b = flame_tree_name(t, ib->node);
	size_t n = a->len < b->len ? a->len : b->len;
	unsigned char ca, cb;
	int c = memcmp(a->s, b->s, n);

	if (c)
		return c;
	ca = a->len > n ? (unsigned char)a->s[n] : ia->subtree ? ';' : ' ';
	cb = b->len > n ? (unsigned char)b->s[n] : ib->subtree ? ';' : ' ';
	if (ca != cb)
		return ca < cb ? -1 : 1;
	/* Only a name with a space gets here, against a shorter name's own
	 * line: the order would depend on the count, so take the shorter. */
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return (int)ia->subtree - (int)ib->subtree;
}

static int push(struct walk *w, uint32_t node, uint32_t subtree)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct item *p = realloc(w->items, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		w->items = p;
		w->cap = cap;
	}
	w->items[w->n++] = (struct item){ node, subtree };
	return 0;
}

/* Pushes the items of node's children, largest first, to pop in order. */
static int push_children(struct walk *w, uint32_t node)
{
	const struct flame_tree *t = w->t;
	size_t first = w->n;
	int rc;

	for (uint32_t c = t->first_child[node]; c; c = t->next_sibling[c]) {
		if ((w->self0[c] || (w->self1 && w->self1[c])) && (rc = push(w, c, 0)))
			return rc;
		if (t->first_child[c] && (rc = push(w, c, 1)))
			return rc;
	}
	qsort_r(w->items + first, w->n - first, sizeof(*w->items), key_cmp, (void *)t);
	for (size_t i = first, j = w->n; j-- > i + 1; i++) {
		struct item x = w->items[i];

		w->items[i] = w->items[j];
		w->items[j] = x;
	}
	return 0;
}

static int walk_sorted(const struct flame_tree *t, flame_stack_fn fn, void *ctx)
{
	struct walk w = { .t = t };
	int rc = -ENOMEM;

	w.self0 = flame_tree_selfs(t, 0);
	if (!w.self0 || (t->before && !(w.self1 = flame_tree_selfs(t, 1))))
		goto cleanup;
	rc = push_children(&w, FLAME_ROOT);
	while (!rc && w.n) {
		struct item it = w.items[--w.n];

		if (it.subtree)
			rc = push_children(&w, it.node);
		else
			rc = fn(ctx, it.node, w.self0[it.node], w.self1 ? w.self1[it.node] : 0);
	}
cleanup:
	free(w.items);
	free(w.self0);
	free(w.self1);
	return rc;
}

struct chart_frame {
	uint32_t node;
	uint32_t next;  /* the next child to visit */
	uint64_t cur;   /* time up to which the node is accounted for */
};

/* Time order: a node's own time is what its children leave uncovered. */
static int walk_chart(const struct flame_tree *t, flame_stack_fn fn, void *ctx)
{
	struct chart_frame *st = NULL, *top, *p;
	size_t n = 0, cap = 0;
	int rc = 0;

	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			p = realloc(st, cap * sizeof(*st));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			st = p;
		}
		if (!n) {
			st[n++] = (struct chart_frame){ FLAME_ROOT, t->first_child[FLAME_ROOT], 0 };
			continue;
		}
		top = &st[n - 1];
		if (top->next) {
			uint32_t c = top->next;

			top->next = t->next_sibling[c];
			if (t->start[c] > top->cur && top->node != FLAME_ROOT)
				rc = fn(ctx, top->node, t->start[c] - top->cur, 0);
			top->cur = t->start[c] + t->nodes[c].count;
			st[n++] = (struct chart_frame){ c, t->first_child[c], t->start[c] };
		} else {
			uint64_t end = t->start[top->node] + t->nodes[top->node].count;

			if (end > top->cur && top->node != FLAME_ROOT)
				rc = fn(ctx, top->node, end - top->cur, 0);
			n--;
		}
	} while (!rc && n);
	free(st);
	return rc;
}

int flame_stacks_walk(const struct flame_tree *t, int chart, flame_stack_fn fn, void *ctx)
{
	return chart ? walk_chart(t, fn, ctx) : walk_sorted(t, fn, ctx);
}
