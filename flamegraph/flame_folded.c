/* The folded writer of `virtscope flame --format folded`: each merged stack
 * rebuilt from its leaf up, names as they came in. */
#include "flame_folded.h"

#include <errno.h>
#include <stdlib.h>

#include "flame_out.h"
#include "flame_stacks.h"

struct folded {
	struct flame_out out;
	const struct flame_tree *t;
	uint32_t *path; /* leaf first */
	size_t cap;
};

static int write_line(void *ctx, uint32_t leaf, uint64_t weight, uint64_t before)
{
	struct folded *f = ctx;
	const struct flame_tree *t = f->t;
	size_t n = 0;

	for (uint32_t i = leaf; i != FLAME_ROOT; i = t->nodes[i].parent) {
		if (n == f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 64;
			uint32_t *p = realloc(f->path, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			f->path = p;
			f->cap = cap;
		}
		f->path[n++] = i;
	}
	while (n--) {
		const struct flame_name *nm = flame_tree_name(t, f->path[n]);

		flame_out_write(&f->out, nm->s, nm->len);
		flame_out_char(&f->out, n ? ';' : ' ');
	}
	if (t->before) {
		flame_out_count(&f->out, before, t->digits, 0);
		flame_out_char(&f->out, ' ');
	}
	flame_out_count(&f->out, weight, t->digits, 0);
	flame_out_char(&f->out, '\n');
	return f->out.err;
}

int flame_folded_write(const struct flame_tree *t, int chart, FILE *file)
{
	struct folded f = { .t = t };
	int rc, err;

	rc = flame_out_init(&f.out, file);
	if (rc)
		return rc;
	rc = flame_stacks_walk(t, chart, write_line, &f);
	err = flame_out_finish(&f.out);
	free(f.path);
	return rc ? rc : err;
}
