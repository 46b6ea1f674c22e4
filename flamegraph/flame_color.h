/* Frame colours: flamegraph.pl's palettes, and its red/blue scale for
 * differential graphs. */
#ifndef VS_FLAME_COLOR_H
#define VS_FLAME_COLOR_H

#include <stddef.h>
#include <stdint.h>

enum flame_palette {
	FLAME_HOT,    /* on-CPU: reds and yellows */
	FLAME_MEM,    /* memory: greens */
	FLAME_IO,     /* off-CPU: blues */
	FLAME_WAKEUP, /* wake-up stacks: aquas */
	FLAME_CHAIN,  /* off-wake chains: blue, with "_[w]" wakers in aqua */
};

struct flame_rgb {
	uint8_t r, g, b;
};

/* 0, or -EINVAL for a name that is none of hot, mem, io, wakeup, chain. */
int flame_palette_parse(const char *s, enum flame_palette *p);

/* The colour of a frame. Frames ending in "_[k]" are kernel frames, in
 * orange whatever the palette. by_hash: flamegraph.pl's --hash (similar names
 * get similar colours); otherwise each name gets its own scattered colour.
 * Either way a name always gets the same colour. */
struct flame_rgb flame_color(enum flame_palette p, int by_hash, const char *name, size_t len);

/* Differential graphs: red when a frame grew (delta > 0), blue when it
 * shrank, white when unchanged, deeper as |delta| nears max. */
struct flame_rgb flame_color_delta(int64_t delta, uint64_t max);

/* The background gradient's two colours, as "#rrggbb". */
void flame_palette_background(enum flame_palette p, const char **top, const char **bottom);

#endif
