/* Reading folded stacks ("frame;frame;...;leaf COUNT" per line, the format of
 * `virtscope profile` and of Brendan Gregg's stackcollapse scripts) into a
 * flame tree: the whole input in one buffer, parsed in place. */
#ifndef VS_FLAME_READ_H
#define VS_FLAME_READ_H

#include <stddef.h>
#include <stdint.h>

#include "flame_tree.h"

/* A whole input in memory: mapped when it is a regular file, read otherwise
 * (pipes). The tree's names point into buf. */
struct flame_input {
	char *buf;
	size_t len;
	int mapped;
};

/* Loads path, or stdin when path is NULL or "-". 0 or -errno. */
int flame_input_load(struct flame_input *in, const char *path);
void flame_input_release(struct flame_input *in); /* zeroed ok */

struct flame_parse_opts {
	int input;      /* 0, or 1 for --diff's BEFORE */
	int reverse;    /* leaf first: flamegraph.pl's --reverse */
	int flamechart; /* merge a frame only with the line before's */
};

/* Lines that are neither blank nor stacks: no count, a negative or
 * non-numeric count, more than FLAME_MAX_DIGITS decimals, an empty stack. */
struct flame_parse_stats {
	uint64_t lines;          /* stacks added */
	uint64_t malformed;
	uint64_t first_malformed; /* its line number, from 1 */
};

/* Adds every line of buf[0..len) to t. Malformed lines are counted in st and
 * skipped. 0, -ENOMEM or -EOVERFLOW (counts beyond 64 bits). */
int flame_parse(struct flame_tree *t, const char *buf, size_t len,
		const struct flame_parse_opts *o, struct flame_parse_stats *st);

/* One of nparts shares of an input's lines, split by their first depth
 * frames (see flame_line_part()). */
struct flame_split {
	unsigned int depth;
	unsigned int part, nparts;
};

/* Which of nparts a line goes to: a hash of its first depth frames, so that
 * every node deeper than depth frames is built in one part alone. A line of
 * no more than depth frames goes to part 0. end: the line's end. */
unsigned int flame_line_part(const char *s, const char *end, unsigned int depth,
			     unsigned int nparts);

/* flame_parse() of only the lines of split's part (all of them when split
 * is NULL). Line numbers in st still count every line. */
int flame_parse_part(struct flame_tree *t, const char *buf, size_t len,
		     const struct flame_parse_opts *o, const struct flame_split *split,
		     struct flame_parse_stats *st);

/* Parses a count token "123" or "1.25" into mantissa and decimals (trailing
 * zeros dropped: "2.50" is 25 with 1 decimal). 0 or -EINVAL. */
int flame_parse_count(const char *s, size_t len, uint64_t *mantissa, unsigned int *digits);

#endif
