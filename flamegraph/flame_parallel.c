/* Parallel parsing (see flame_parallel.h). Why split by the first frames
 * rather than in chunks of lines: a node deeper than the split is then made
 * by one part alone and moves into the merged tree without a lookup; only
 * the few nodes down to the split can be made twice, and only they are
 * looked up when merging. */
#include "flame_parallel.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

/* Below this, threads gain less than they cost to start and merge. */
#define MIN_PARALLEL_BYTES (16u << 20)
#define MAX_SPLIT_DEPTH 8
#define SAMPLE_LINES 4096
/* The largest share over the mean that a split depth may give a part
 * before a deeper one is tried. */
#define GOOD_BALANCE 1.1

unsigned int flame_parallel_parts(const struct flame_tree *t, size_t len,
				  const struct flame_parse_opts *o)
{
	cpu_set_t set;
	int n;

	if (len < MIN_PARALLEL_BYTES || t->n > 1 || t->before || t->start || o->input ||
	    o->reverse || o->flamechart)
		return 1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	n = CPU_COUNT(&set);
	if (n < 1)
		return 1;
	return n > FLAME_MAX_PARTS ? FLAME_MAX_PARTS : (unsigned int)n;
}

/* The fewest first frames that split a sample of the lines evenly between
 * the parts, by bytes. Fewer is better, since every node down to the depth
 * may be made twice and merged; but the first frames of a profile are often
 * few (thread names, start_thread), and a split on those alone would leave
 * one part with most of the work. */
static unsigned int split_depth(const char *buf, size_t len, unsigned int nparts)
{
	const char *end = buf + len;
	unsigned int best = 1;
	double best_share = 0;

	for (unsigned int depth = 1; depth <= MAX_SPLIT_DEPTH; depth++) {
		size_t load[FLAME_MAX_PARTS] = { 0 }, total = 0, most = 0;
		double share;

		for (size_t k = 0; k < SAMPLE_LINES; k++) {
			const char *s = buf + len / SAMPLE_LINES * k, *e;

			if (k && !(s = memchr(s, '\n', (size_t)(end - s))))
				break;
			s += k ? 1 : 0;
			e = memchr(s, '\n', (size_t)(end - s));
			e = e ? e : end;
			load[flame_line_part(s, e, depth, nparts)] += (size_t)(e - s);
			total += (size_t)(e - s);
		}
		if (!total)
			return 1;
		for (unsigned int i = 0; i < nparts; i++)
			most = load[i] > most ? load[i] : most;
		share = (double)most * nparts / (double)total;
		if (depth == 1 || share < best_share) {
			best = depth;
			best_share = share;
		}
		if (share <= GOOD_BALANCE)
			break;
	}
	return best;
}

struct part {
	pthread_t thread;
	int started;
	int rc;
	struct flame_tree tree;
	struct flame_split split;
	struct flame_parse_stats st;
	const char *buf;
	size_t len;
	const struct flame_parse_opts *o;
};

static void *parse_part(void *arg)
{
	struct part *p = arg;

	p->rc = flame_parse_part(&p->tree, p->buf, p->len, p->o, &p->split, &p->st);
	return NULL;
}

static void add_stats(struct flame_parse_stats *st, const struct flame_parse_stats *part)
{
	st->lines += part->lines;
	if (part->malformed && (!st->malformed || part->first_malformed < st->first_malformed))
		st->first_malformed = part->first_malformed;
	st->malformed += part->malformed;
}

int flame_parse_parallel(struct flame_tree *t, const char *buf, size_t len,
			 const struct flame_parse_opts *o, unsigned int nparts,
			 struct flame_parse_stats *st)
{
	struct part parts[FLAME_MAX_PARTS];
	unsigned int depth;
	int rc;

	if (nparts < 1 || nparts > FLAME_MAX_PARTS)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	memset(parts, 0, sizeof(parts));
	depth = split_depth(buf, len, nparts);
	for (unsigned int i = 0; i < nparts; i++) {
		parts[i] = (struct part){
			.split = { depth, i, nparts }, .buf = buf, .len = len, .o = o,
		};
		/* Part 0 is parsed into t itself, here. */
		if (i && !(parts[i].rc = flame_tree_init(&parts[i].tree, 0, 0)))
			parts[i].started = !pthread_create(&parts[i].thread, NULL, parse_part, &parts[i]);
	}
	rc = flame_parse_part(t, buf, len, o, &parts[0].split, &parts[0].st);
	add_stats(st, &parts[0].st);
	for (unsigned int i = 1; i < nparts; i++) {
		struct part *p = &parts[i];

		if (p->started)
			pthread_join(p->thread, NULL);
		else if (!p->rc && !rc) /* no thread to be had: its share is parsed here */
			parse_part(p);
		if (!rc)
			rc = p->rc;
		if (!rc)
			rc = flame_tree_merge(t, &p->tree, depth);
		add_stats(st, &p->st);
		flame_tree_release(&p->tree);
	}
	return rc;
}
