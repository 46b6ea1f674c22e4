/* Which frames a flame graph draws, and where: exact positions in counts,
 * turned into pixels only at the end, so that children never stick out of
 * their parent and widths add up. */
#ifndef VS_FLAME_LAYOUT_H
#define VS_FLAME_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "flame_tree.h"

/* A drawn frame; boxes come in pre-order (a frame, then its subtree). */
struct flame_box {
	uint32_t node;
	uint32_t depth;  /* the root is 0 */
	uint64_t start;  /* in counts, from the left edge */
};

/* The narrowest frame drawn: hundredths of a pixel, or of a percent of the
 * total when percent is set. Narrower frames and their subtrees are left
 * out; their parents keep their width. */
struct flame_min {
	uint64_t centi;
	int percent;
};

struct flame_layout {
	struct flame_box *boxes;
	size_t n, cap;
	uint32_t max_depth;
	uint64_t total;      /* the root's count */
	uint64_t plot_centi; /* the width that total spans, hundredths of px */
	uint64_t elided;     /* frames with a count that are not drawn */
};

/* Lays out t (finalized) over plot_centi. chart: siblings in input order at
 * their own start (flame charts); otherwise sorted by name, packed left.
 * 0 or -ENOMEM. An empty tree lays out to no box. */
int flame_layout(struct flame_tree *t, int chart, uint64_t plot_centi,
		 const struct flame_min *min, struct flame_layout *l);
void flame_layout_release(struct flame_layout *l); /* zeroed ok */

/* The pixel offset (hundredths) of a position in counts. Monotonic, so a
 * box spans [x(start), x(start + count)) and never leaves its parent's. */
static inline uint64_t flame_layout_x(const struct flame_layout *l, uint64_t pos)
{
	return (uint64_t)((unsigned __int128)pos * l->plot_centi / l->total);
}

#endif
