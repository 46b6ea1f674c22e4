/* A big folded input parsed on every CPU: its lines are split into parts by
 * their first frames, each part builds a tree of its own on a thread, and
 * the trees are merged. Building the tree is bound by cache misses on its
 * hash tables, one after another on a core, so more cores are the only way
 * to a million unsorted stacks in well under two seconds. */
#ifndef VS_FLAME_PARALLEL_H
#define VS_FLAME_PARALLEL_H

#include <stddef.h>

#include "flame_read.h"
#include "flame_tree.h"

/* How many parts flame_parse() splits this input into: 1 (no threads)
 * unless it is big, t is empty and single-input, and nothing depends on the
 * order nodes are made in or on the line's last frames (flame charts,
 * --reverse). */
unsigned int flame_parallel_parts(const struct flame_tree *t, size_t len,
				  const struct flame_parse_opts *o);

/* flame_parse() in nparts parts (at most FLAME_MAX_PARTS), the first on
 * this thread. */
#define FLAME_MAX_PARTS 8
int flame_parse_parallel(struct flame_tree *t, const char *buf, size_t len,
			 const struct flame_parse_opts *o, unsigned int nparts,
			 struct flame_parse_stats *st);

#endif
