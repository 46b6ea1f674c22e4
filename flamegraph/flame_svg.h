/* The interactive flame graph: one self-contained SVG (style and script
 * inside, no external resource) from a finalized flame tree. */
#ifndef VS_FLAME_SVG_H
#define VS_FLAME_SVG_H

#include <stdio.h>

#include "flame_color.h"
#include "flame_layout.h"
#include "flame_tree.h"

struct flame_svg_opts {
	const char *title;         /* NULL: named after the kind of graph */
	const char *subtitle;      /* NULL: none */
	const char *countname;     /* "samples" */
	unsigned int width;        /* of the image, px (at least 100) */
	unsigned int frame_height; /* px (at least 8) */
	struct flame_min min;      /* narrower frames are elided */
	const char *min_text;      /* how min was given, for the elided note */
	enum flame_palette palette;
	int by_hash;  /* colour by flamegraph.pl's name hash */
	int inverted; /* icicle: root at the top */
	int chart;    /* flame chart: input order, time on x */
	int diff;     /* t has two inputs: colour by the change of self counts */
};

/* flamegraph.pl's defaults: 1200 px wide, 16 px frames, frames under
 * 0.1 px elided, counted in "samples", hot palette. */
void flame_svg_opts_default(struct flame_svg_opts *o);

/* Writes the SVG of t to f. 0, -ENOMEM or -EIO. An empty tree gives a
 * valid SVG that says so. */
int flame_svg_write(struct flame_tree *t, const struct flame_svg_opts *o, FILE *f);

#endif
