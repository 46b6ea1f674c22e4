/* Flame graph layout: a depth-first walk with an explicit stack (stacks can
 * be thousands of frames deep), visiting only the frames wide enough to be
 * drawn, so that a million-stack input costs the walk of a few thousand
 * nodes, and sorting only their children. */
#include "flame_layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int visible(const struct flame_layout *l, const struct flame_min *min, uint64_t count)
{
	unsigned __int128 lhs = (unsigned __int128)count * (min->percent ? 10000 : l->plot_centi);

	return count && lhs >= (unsigned __int128)min->centi * l->total;
}

static int push(struct flame_box **v, size_t *n, size_t *cap, struct flame_box b)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct flame_box *p = realloc(*v, ncap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*v = p;
		*cap = ncap;
	}
	(*v)[(*n)++] = b;
	return 0;
}

/* Pushes box's drawn children on the stack, last child first so that they
 * pop in order. */
static int push_children(struct flame_tree *t, int chart, struct flame_layout *l,
			 const struct flame_min *min, const struct flame_box *box,
			 struct flame_box **stack, size_t *n, size_t *cap)
{
	uint64_t pos = box->start;
	size_t first = *n;
	int rc;

	if (!chart && (rc = flame_tree_sort_children(t, box->node)))
		return rc;
	for (uint32_t c = t->first_child[box->node]; c; c = t->next_sibling[c]) {
		uint64_t count = t->nodes[c].count, start = chart ? t->start[c] : pos;

		pos += count;
		if (visible(l, min, count) &&
		    (rc = push(stack, n, cap, (struct flame_box){ c, box->depth + 1, start })))
			return rc;
	}
	for (size_t i = first, j = *n; j-- > i + 1; i++) {
		struct flame_box b = (*stack)[i];

		(*stack)[i] = (*stack)[j];
		(*stack)[j] = b;
	}
	return 0;
}

int flame_layout(struct flame_tree *t, int chart, uint64_t plot_centi,
		 const struct flame_min *min, struct flame_layout *l)
{
	struct flame_box *stack = NULL, box;
	size_t n = 0, cap = 0;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	l->total = t->nodes[FLAME_ROOT].count;
	l->plot_centi = plot_centi;
	if (!l->total)
		return 0;
	rc = push(&stack, &n, &cap, (struct flame_box){ FLAME_ROOT, 0, 0 });
	while (!rc && n) {
		box = stack[--n];
		if (box.depth > l->max_depth)
			l->max_depth = box.depth;
		rc = push(&l->boxes, &l->n, &l->cap, box);
		if (!rc)
			rc = push_children(t, chart, l, min, &box, &stack, &n, &cap);
	}
	free(stack);
	if (rc) {
		flame_layout_release(l);
		return rc;
	}
	l->elided = t->nonzero - l->n;
	return 0;
}

void flame_layout_release(struct flame_layout *l)
{
	free(l->boxes);
	memset(l, 0, sizeof(*l));
}
