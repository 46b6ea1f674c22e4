/* top's F key: a flame graph of the last seconds of on-CPU samples or
 * off-CPU blocks, written without leaving the dashboard.
 *
 * top keeps the stacked events of a window in a ring, by stack id: naming
 * stacks costs, and waits until someone asks for a graph. Stack ids belong
 * to the session that interned them, so the ring is emptied on detach. */
#ifndef VS_TOP_FLAME_H
#define VS_TOP_FLAME_H

#include <stddef.h>
#include <stdint.h>

#include "../collectors/session.h"
#include "../collectors/symbolize.h"

#define VS_TOP_FLAME_WINDOW_NS (30ull * 1000000000ull)

struct vs_top_flame;

/* NULL when out of memory. */
struct vs_top_flame *vs_top_flame_new(size_t capacity);
void vs_top_flame_free(struct vs_top_flame *tf); /* NULL ok */
struct vs_consumer *vs_top_flame_consumer(struct vs_top_flame *tf);
void vs_top_flame_clear(struct vs_top_flame *tf);

/* Keeps the stacks of the window before now_ns from being forgotten
 * (vs_stacks_forget_before): older entries are never drawn. */
void vs_top_flame_touch(const struct vs_top_flame *tf, struct vs_stacks *stacks, uint64_t now_ns);

/* What a written graph holds, for top's message line. */
struct vs_top_flame_result {
	uint64_t events; /* samples or blocks in the window */
	uint64_t span_ns; /* how far back they reach (less than the window
			     when the ring wrapped) */
};

/* Writes an SVG of the events of the last VS_TOP_FLAME_WINDOW_NS before
 * now_ns to path (created 0600, never through a symlink): on-CPU samples,
 * or off-CPU blocks weighted in microseconds when offcpu is set. 0, or
 * -errno with a one-line reason in err. */
int vs_top_flame_write(struct vs_top_flame *tf, int offcpu, const struct vs_stacks *stacks,
		       struct vs_symbolizer *sym, uint64_t now_ns, const char *title,
		       const char *path, struct vs_top_flame_result *res, char *err,
		       size_t errlen);

#endif
