/* The merged stacks of a flame tree, one by one, in the order the folded and
 * speedscope writers give them. */
#ifndef VS_FLAME_STACKS_H
#define VS_FLAME_STACKS_H

#include <stdint.h>

#include "flame_tree.h"

/* Called with the leaf node of each stack and its counts: weight for input
 * 0, before for input 1 (0 without --diff). Returns 0 to go on, or -errno
 * to stop the walk with that error. */
typedef int (*flame_stack_fn)(void *ctx, uint32_t leaf, uint64_t weight, uint64_t before);

/* Walks t (finalized). Sorted: every node with a self count, in the byte
 * order of whole folded lines (as `LC_ALL=C sort`). chart (t has starts):
 * time order, each stretch of a node's own time between its children one
 * stack. 0, -ENOMEM or fn's error. */
int flame_stacks_walk(const struct flame_tree *t, int chart, flame_stack_fn fn, void *ctx);

#endif
