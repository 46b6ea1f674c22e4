/* Merged folded stacks and speedscope JSON: the flame tree written back out
 * for other tools. */
#ifndef VS_FLAME_FOLDED_H
#define VS_FLAME_FOLDED_H

#include <stdio.h>

#include "flame_tree.h"

/* "frame;...;leaf COUNT" per merged stack, sorted as `LC_ALL=C sort` (or in
 * time order for a flame chart). With two inputs, difffolded.pl's format:
 * "frame;...;leaf BEFORE AFTER". 0, -ENOMEM or -EIO. */
int flame_folded_write(const struct flame_tree *t, int chart, FILE *f);

/* speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one "sampled" profile, a sample per merged stack weighted by its count,
 * over shared frames. countname picks the unit ("ns", "us", "ms", "s",
 * "bytes", their long names, or "none"). 0, -ENOMEM or -EIO. */
int flame_speedscope_write(const struct flame_tree *t, int chart, const char *name,
			   const char *countname, FILE *f);

#endif
