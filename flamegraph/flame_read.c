/* Folded-stack input: one read (or mmap) of the whole file, lines parsed in
 * place without allocating per line.
 *
 * Consecutive lines usually share their first frames (sorted input, and
 * profiles in time order), so each line is compared frame by frame with the
 * frames last seen and only those past the common prefix cost anything. In
 * sorted input those are new frames, appended without any hashing; the
 * tree's index is built only when a line comes out of order (see
 * need_index()). */
#include "flame_read.h"
#include "flame_parallel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_all(int fd, struct flame_input *in)
{
	size_t cap = 1 << 20;
	ssize_t n;
	char *p;

	in->buf = malloc(cap);
	if (!in->buf)
		return -ENOMEM;
	for (;;) {
		if (in->len == cap) {
			p = realloc(in->buf, cap * 2);
			if (!p)
				return -ENOMEM;
			in->buf = p;
			cap *= 2;
		}
		n = read(fd, in->buf + in->len, cap - in->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		in->len += (size_t)n;
	}
}

int flame_input_load(struct flame_input *in, const char *path)
{
	int fd = -1, rc = 0;
	struct stat st;

	memset(in, 0, sizeof(*in));
	if (!path || !strcmp(path, "-"))
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto cleanup;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		/* MAP_POPULATE reads the file in one go instead of a fault per
		 * few pages; the names in the tree point into this mapping. */
		in->buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (in->buf != MAP_FAILED) {
			in->len = (size_t)st.st_size;
			in->mapped = 1;
			goto cleanup;
		}
		in->buf = NULL;
	}
	rc = read_all(fd, in);
cleanup:
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc)
		flame_input_release(in);
	return rc;
}

void flame_input_release(struct flame_input *in)
{
	if (in->mapped)
		munmap(in->buf, in->len);
	else
		free(in->buf);
	memset(in, 0, sizeof(*in));
}

int flame_parse_count(const char *s, size_t len, uint64_t *mantissa, unsigned int *digits)
{
	const char *end = s + len, *dot = memchr(s, '.', len);
	uint64_t v = 0;

	if (!len || *s < '0' || *s > '9')
		return -EINVAL;
	if (dot) {
		/* "2.50" is 25 tenths: trailing zeros would only raise the scale. */
		while (end > dot + 1 && end[-1] == '0')
			end--;
		if (end - dot - 1 > FLAME_MAX_DIGITS)
			return -EINVAL;
	}
	for (const char *p = s; p < end; p++) {
		if (p == dot)
			continue;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
			return -EINVAL;
	}
	*mantissa = v;
	*digits = dot && end > dot + 1 ? (unsigned int)(end - dot - 1) : 0;
	return 0;
}

struct frame {
	const char *s;
	uint32_t len;
	uint32_t name;
	uint32_t hash; /* of the path down to this frame; set once indexed */
	uint32_t node;
};

/* path: the frames last seen at each depth. For a flame chart that is the
 * line before. Otherwise a line that stops short of the path leaves the
 * deeper frames in place: they are still the last children seen under it,
 * which is what the order check needs. Both arrays grow to the deepest
 * stack seen, never per line. */
struct parser {
	struct flame_tree *t;
	const struct flame_parse_opts *o;
	struct frame *path, *cur;
	size_t npath, ncur, cap;
	size_t expect; /* nodes the index should be sized for */
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int grow_frames(struct parser *p)
{
	size_t cap = p->cap ? p->cap * 2 : 64;
	struct frame *a, *b;

	a = realloc(p->path, cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	p->path = a;
	b = realloc(p->cur, cap * sizeof(*b));
	if (!b)
		return -ENOMEM;
	p->cur = b;
	p->cap = cap;
	return 0;
}

/* Splits "a;b;c" into p->cur, leaf first when reversing. */
static int split_frames(struct parser *p, const char *s, const char *end)
{
	int rc;

	p->ncur = 0;
	for (;;) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *e = semi ? semi : end;

		if (p->ncur == p->cap && (rc = grow_frames(p)))
			return rc;
		if ((size_t)(e - s) > UINT32_MAX)
			return -EOVERFLOW;
		p->cur[p->ncur++] = (struct frame){ .s = s, .len = (uint32_t)(e - s) };
		if (!semi)
			break;
		s = semi + 1;
	}
	if (p->o->reverse)
		for (size_t i = 0, j = p->ncur - 1; i < j; i++, j--) {
			struct frame f = p->cur[i];

			p->cur[i] = p->cur[j];
			p->cur[j] = f;
		}
	return 0;
}

/* Sorted input needs no index: while every new frame sorts after the last
 * sibling seen at its depth, it cannot be one seen before, and is simply
 * appended. The first frame out of order builds the index, and from then on
 * every new frame is looked up. */
static int need_index(struct parser *p, size_t i)
{
	struct flame_tree *t = p->t;
	const struct frame *c = &p->cur[i], *last = &p->path[i];
	uint32_t h = FLAME_ROOT_HASH;
	int rc;

	if (p->o->flamechart || flame_tree_indexed(t))
		return 0;
	if (i >= p->npath || flame_name_cmp(c->s, c->len, last->s, last->len) > 0)
		return 0;
	if ((rc = flame_tree_index(t, p->expect)))
		return rc;
	for (size_t j = 0; j < p->npath; j++)
		h = p->path[j].hash = flame_path_hash(h, p->path[j].name);
	return 0;
}

/* Walks this line's frames down from the root. The prefix it shares with
 * the path reuses its nodes. For the rest, the names are interned and, in
 * an indexed tree, the path hashes computed first, so that every slot can
 * be prefetched before the first is read. */
static int add_frames(struct parser *p, uint32_t *leaf)
{
	struct flame_tree *t = p->t;
	uint32_t node = FLAME_ROOT, hash = FLAME_ROOT_HASH;
	size_t i = 0, j;
	int rc;

	for (; i < p->ncur && i < p->npath && p->path[i].len == p->cur[i].len &&
	       !memcmp(p->path[i].s, p->cur[i].s, p->cur[i].len); i++)
		;
	for (j = i; j < p->ncur; j++)
		if ((rc = flame_tree_intern(t, p->cur[j].s, p->cur[j].len, &p->cur[j].name)))
			return rc;
	if (i < p->ncur && (rc = need_index(p, i)))
		return rc;
	if (i) {
		node = p->path[i - 1].node;
		hash = p->path[i - 1].hash;
	}
	if (flame_tree_indexed(t))
		for (j = i; j < p->ncur; j++) {
			hash = p->cur[j].hash = flame_path_hash(hash, p->cur[j].name);
			flame_tree_prefetch(t, hash);
		}
	for (j = i; j < p->ncur; j++) {
		struct frame *f = &p->cur[j];

		rc = flame_tree_indexed(t) ? flame_tree_child(t, node, f->name, f->hash, &node)
					   : flame_tree_append(t, node, f->name, &node);
		if (rc)
			return rc;
		f->node = node;
		p->path[j] = *f;
	}
	if (i < p->ncur || p->o->flamechart)
		p->npath = p->ncur;
	*leaf = p->path[p->ncur - 1].node;
	return 0;
}

/* One line without its newline. 1 when added, 0 when blank, -EINVAL when
 * malformed, other -errno on failure. */
static int parse_line(struct parser *p, const char *s, const char *end)
{
	const char *tok, *stack_end;
	uint64_t count;
	unsigned int digits;
	uint32_t leaf;
	int rc;

	while (end > s && is_blank(end[-1]))
		end--;
	if (end == s)
		return 0;
	/* The count is the last field: the stack itself may hold spaces. */
	for (tok = end; tok > s && ((tok[-1] >= '0' && tok[-1] <= '9') || tok[-1] == '.'); tok--)
		;
	if (tok == s || !is_blank(tok[-1]) ||
	    flame_parse_count(tok, (size_t)(end - tok), &count, &digits))
		return -EINVAL;
	for (stack_end = tok; stack_end > s && is_blank(stack_end[-1]); stack_end--)
		;
	if (stack_end == s)
		return -EINVAL;
	if (digits > p->t->digits && (rc = flame_tree_set_digits(p->t, digits)))
		return rc;
	for (unsigned int d = digits; d < p->t->digits; d++)
		if (__builtin_mul_overflow(count, 10, &count))
			return -EINVAL;
	if ((rc = split_frames(p, s, stack_end)) || (rc = add_frames(p, &leaf)))
		return rc;
	if ((rc = flame_tree_add(p->t, leaf, p->o->input, count)))
		return rc;
	return 1;
}

unsigned int flame_line_part(const char *s, const char *end, unsigned int depth,
			     unsigned int nparts)
{
	const char *q = s;

	for (unsigned int k = 0; k < depth; k++) {
		q = memchr(q, ';', (size_t)(end - q));
		if (!q)
			return 0;
		q++;
	}
	return flame_bytes_hash(s, (size_t)(q - 1 - s)) % nparts;
}

int flame_parse_part(struct flame_tree *t, const char *buf, size_t len,
		     const struct flame_parse_opts *o, const struct flame_split *split,
		     struct flame_parse_stats *st)
{
	struct parser p = { .t = t, .o = o };
	const char *s = buf, *end = buf + len;
	unsigned int nparts = split ? split->nparts : 1;
	uint64_t lineno = 0;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	/* A guess for the index, erring low (it grows): unsorted inputs the
	 * benchmark makes hold a node per 30 bytes, real ones share more. */
	p.expect = len / 64 / nparts;
	/* Sorted order only proves something about a tree this input built
	 * alone: a second input (--diff) is always looked up. */
	if (t->n > 1 && !o->flamechart && (rc = flame_tree_index(t, t->n + p.expect)))
		return rc;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;

		lineno++;
		if (nparts > 1 && flame_line_part(s, e, split->depth, nparts) != split->part) {
			s = e + 1;
			continue;
		}
		rc = parse_line(&p, s, e);
		if (rc == -EINVAL) {
			if (!st->malformed++)
				st->first_malformed = lineno;
		} else if (rc < 0) {
			goto cleanup;
		} else {
			st->lines += (uint64_t)rc;
		}
		s = e + 1;
	}
	rc = 0;
cleanup:
	free(p.path);
	free(p.cur);
	return rc;
}

int flame_parse(struct flame_tree *t, const char *buf, size_t len,
		const struct flame_parse_opts *o, struct flame_parse_stats *st)
{
	unsigned int nparts = flame_parallel_parts(t, len, o);

	if (nparts > 1)
		return flame_parse_parallel(t, buf, len, o, nparts, st);
	return flame_parse_part(t, buf, len, o, NULL, st);
}
