/* speedscope's JSON file format: a "sampled" profile whose samples are the
 * merged stacks, each a list of indices into the shared frames. One walk
 * writes the samples, a second their weights. Frames are numbered as the
 * sorted walk first meets their names, not as the names were interned: the
 * file then depends only on the stacks, not on input order or on how many
 * threads read the input. */
#include "flame_folded.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "flame_out.h"
#include "flame_stacks.h"

struct speedscope {
	struct flame_out out;
	const struct flame_tree *t;
	uint32_t *path;
	size_t path_cap;
	uint32_t *frame_of; /* name id -> frame index + 1; 0: not met yet */
	uint32_t *names;    /* frame index -> name id */
	uint32_t nframes;
	int any;
};

static const char *unit_of(const char *countname)
{
	static const char *const units[][2] = {
		{ "ns", "nanoseconds" }, { "nanoseconds", "nanoseconds" },
		{ "us", "microseconds" }, { "microseconds", "microseconds" },
		{ "ms", "milliseconds" }, { "milliseconds", "milliseconds" },
		{ "s", "seconds" }, { "seconds", "seconds" }, { "bytes", "bytes" },
	};

	for (size_t i = 0; i < VS_ARRAY_SIZE(units); i++)
		if (!strcmp(countname, units[i][0]))
			return units[i][1];
	return "none";
}

static int write_sample(void *ctx, uint32_t leaf, uint64_t weight, uint64_t before)
{
	struct speedscope *s = ctx;
	size_t n = 0;

	(void)weight;
	(void)before;
	for (uint32_t i = leaf; i != FLAME_ROOT; i = s->t->nodes[i].parent) {
		if (n == s->path_cap) {
			size_t cap = s->path_cap ? s->path_cap * 2 : 64;
			uint32_t *p = realloc(s->path, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			s->path = p;
			s->path_cap = cap;
		}
		s->path[n++] = i;
	}
	flame_out_str(&s->out, s->any++ ? ",[" : "[");
	while (n--) {
		uint32_t name = s->t->nodes[s->path[n]].name;

		if (!s->frame_of[name]) {
			s->names[s->nframes++] = name;
			s->frame_of[name] = s->nframes;
		}
		flame_out_u64(&s->out, s->frame_of[name] - 1);
		if (n)
			flame_out_char(&s->out, ',');
	}
	flame_out_char(&s->out, ']');
	return s->out.err;
}

static int write_weight(void *ctx, uint32_t leaf, uint64_t weight, uint64_t before)
{
	struct speedscope *s = ctx;

	(void)leaf;
	(void)before;
	if (s->any++)
		flame_out_char(&s->out, ',');
	flame_out_count(&s->out, weight, s->t->digits, 0);
	return s->out.err;
}

static void write_string(struct flame_out *o, const char *str, size_t len)
{
	flame_out_char(o, '"');
	flame_out_json(o, str, len);
	flame_out_char(o, '"');
}

static int write_doc(struct speedscope *s, int chart, const char *name, const char *countname)
{
	struct flame_out *o = &s->out;
	int rc;

	flame_out_str(o, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
			 "\"exporter\":\"virtscope flame\",\"name\":");
	write_string(o, name, strlen(name));
	flame_out_str(o, ",\"activeProfileIndex\":0,\"profiles\":[{\"type\":\"sampled\",\"name\":");
	write_string(o, name, strlen(name));
	flame_out_fmt(o, ",\"unit\":\"%s\",\"startValue\":0,\"endValue\":", unit_of(countname));
	flame_out_count(o, s->t->nodes[FLAME_ROOT].count, s->t->digits, 0);
	flame_out_str(o, ",\"samples\":[");
	if ((rc = flame_stacks_walk(s->t, chart, write_sample, s)))
		return rc;
	flame_out_str(o, "],\"weights\":[");
	s->any = 0;
	if ((rc = flame_stacks_walk(s->t, chart, write_weight, s)))
		return rc;
	flame_out_str(o, "]}],\"shared\":{\"frames\":[");
	for (uint32_t i = 0; i < s->nframes; i++) {
		const struct flame_name *nm = &s->t->names[s->names[i]];

		flame_out_str(o, i ? ",{\"name\":" : "{\"name\":");
		write_string(o, nm->s, nm->len);
		flame_out_char(o, '}');
	}
	flame_out_str(o, "]}}\n");
	return 0;
}

int flame_speedscope_write(const struct flame_tree *t, int chart, const char *name,
			   const char *countname, FILE *f)
{
	struct speedscope s = { .t = t };
	int rc, err;


	s.frame_of = calloc(t->nnames, sizeof(*s.frame_of));
	s.names = malloc((size_t)t->nnames * sizeof(*s.names));
	if (!s.frame_of || !s.names) {
		rc = -ENOMEM;
		goto cleanup;
	}
	rc = flame_out_init(&s.out, f);
	if (rc)
		goto cleanup;
	rc = write_doc(&s, chart, name, countname);
	err = flame_out_finish(&s.out);
	rc = rc ? rc : err;
cleanup:
	free(s.names);
	free(s.frame_of);
	free(s.path);
	return rc;
}
