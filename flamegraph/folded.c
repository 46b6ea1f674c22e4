/* Folded-stack aggregation and output. */
#include "folded.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/hist.h"
#include "../lib/htab.h"
#include "../lib/util.h"

struct stack_key {
	char comm[VS_COMM_LEN];
	vs_stack_id stack;
};

struct stack_count {
	struct stack_key key;
	uint64_t weight;
};

struct line {
	uint64_t weight;
	size_t len;
	char text[];
};

struct vs_folded {
	struct vs_consumer consumer;
	const struct vs_stacks *stacks;
	struct vs_symbolizer *sym;
	enum vs_event_kind kind;
	enum vs_folded_weight weight;
	int (*accept)(const struct vs_event *ev);
	struct vs_htab *counts; /* struct stack_key -> struct stack_count */
	uint64_t events;
	uint64_t total;
	struct vs_folded_stats stats;
	struct vs_hist warm; /* time to name one warm stack (see unwind.c) */
};

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_folded *f = (struct vs_folded *)((char *)self - offsetof(struct vs_folded, consumer));
	uint64_t w;

	if (ev->kind != f->kind || (f->accept && !f->accept(ev)))
		return;
	w = f->weight == VS_FOLDED_COUNT ? 1 : ev->dur_ns / 1000;
	vs_folded_add(f, ev->comm, ev->stack, w);
}

struct vs_folded *vs_folded_new(const struct vs_stacks *stacks, struct vs_symbolizer *sym,
				enum vs_event_kind kind, enum vs_folded_weight weight)
{
	struct vs_folded *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->consumer.event = on_event;
	f->stacks = stacks;
	f->sym = sym;
	f->kind = kind;
	f->weight = weight;
	f->counts = vs_htab_new();
	if (!f->counts) {
		free(f);
		return NULL;
	}
	return f;
}

void vs_folded_free(struct vs_folded *f)
{
	if (!f)
		return;
	vs_htab_free(f->counts, free);
	free(f);
}

void vs_folded_set_filter(struct vs_folded *f, int (*accept)(const struct vs_event *ev))
{
	f->accept = accept;
}

struct vs_consumer *vs_folded_consumer(struct vs_folded *f)
{
	return &f->consumer;
}

int vs_folded_add(struct vs_folded *f, const char *comm, vs_stack_id stack, uint64_t weight)
{
	struct stack_key key;
	struct stack_count *sc;

	memset(&key, 0, sizeof(key));
	strncpy(key.comm, comm, sizeof(key.comm) - 1);
	key.stack = stack;
	f->events++;
	f->total += weight;
	sc = vs_htab_get(f->counts, &key, sizeof(key));
	if (sc) {
		sc->weight += weight;
		return 0;
	}
	sc = malloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->key = key;
	sc->weight = weight;
	if (vs_htab_put(f->counts, &sc->key, sizeof(sc->key), sc, NULL)) {
		free(sc);
		return -ENOMEM;
	}
	return 0;
}

uint64_t vs_folded_events(const struct vs_folded *f)
{
	return f->events;
}

uint64_t vs_folded_total(const struct vs_folded *f)
{
	return f->total;
}

int vs_folded_add_frame(struct vs_strbuf *sb, const char *name, const char *suffix)
{
	size_t start = sb->len;

	if (start && vs_strbuf_add(sb, ";", 1))
		return -ENOMEM;
	if (vs_strbuf_adds(sb, name) || (suffix && vs_strbuf_adds(sb, suffix)))
		return -ENOMEM;
	for (char *p = sb->buf + start + (start ? 1 : 0); *p; p++)
		if (*p == ';')
			*p = ':';
		else if (*p == '\n' || *p == '\r')
			*p = ' ';
	return 0;
}

/* "comm;user root..user leaf;kernel root_[k]..kernel leaf_[k]" */
static int build_line(struct vs_folded *f, const struct stack_key *key, struct vs_strbuf *sb)
{
	const struct vs_stack *st = vs_stacks_get(f->stacks, key->stack);
	int rc = vs_folded_add_frame(sb, key->comm[0] ? key->comm : "[unknown]", NULL);

	if (rc || !st)
		return rc;
	const uint64_t *kips = st->ips, *uips = st->ips + st->nr_kernel;

	for (unsigned int i = st->nr_user; i-- > 0 && !rc;)
		rc = vs_folded_add_frame(sb, vs_symbolize_user(f->sym, st->pid,
							    vs_stack_lookup_ip(uips, i)), NULL);
	for (unsigned int i = st->nr_kernel; i-- > 0 && !rc;)
		rc = vs_folded_add_frame(sb, vs_symbolize_kernel(f->sym,
							      vs_stack_lookup_ip(kips, i)), "_[k]");
	return rc;
}

static int merge_line(struct vs_htab *lines, const struct vs_strbuf *sb, uint64_t weight)
{
	struct line *l = vs_htab_get(lines, sb->buf, sb->len);

	if (l) {
		l->weight += weight;
		return 0;
	}
	l = malloc(sizeof(*l) + sb->len + 1);
	if (!l)
		return -ENOMEM;
	l->weight = weight;
	l->len = sb->len;
	memcpy(l->text, sb->buf, sb->len + 1);
	if (vs_htab_put(lines, l->text, l->len, l, NULL)) {
		free(l);
		return -ENOMEM;
	}
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = *(const struct line *const *)a, *y = *(const struct line *const *)b;

	return strcmp(x->text, y->text);
}

static int print_sorted(struct vs_htab *lines, FILE *out)
{
	size_t n = vs_htab_count(lines), pos = 0, i = 0;
	struct line **v = calloc(n ? n : 1, sizeof(*v));
	void *val;

	if (!v)
		return -ENOMEM;
	while (vs_htab_next(lines, &pos, NULL, NULL, &val))
		v[i++] = val;
	qsort(v, n, sizeof(*v), line_cmp);
	for (i = 0; i < n; i++)
		fprintf(out, "%s %llu\n", v[i]->text, (unsigned long long)v[i]->weight);
	free(v);
	return fflush(out) || ferror(out) ? -EIO : 0;
}

void vs_folded_stats(const struct vs_folded *f, struct vs_folded_stats *st)
{
	*st = f->stats;
	st->warm_stacks = f->warm.count;
	st->warm_median_ns = vs_hist_percentile(&f->warm, 0.5);
}

int vs_folded_write(struct vs_folded *f, FILE *out)
{
	struct vs_htab *lines = vs_htab_new();
	struct vs_strbuf sb = { 0 };
	size_t pos = 0;
	void *val;
	int rc = 0;

	if (!lines)
		return -ENOMEM;
	while (!rc && vs_htab_next(f->counts, &pos, NULL, NULL, &val)) {
		struct stack_count *sc = val;
		uint64_t t0 = vs_now_ns(), misses = vs_symbolizer_misses(f->sym), dt;
		const struct vs_stack *st = vs_stacks_get(f->stacks, sc->key.stack);

		vs_strbuf_reset(&sb);
		rc = build_line(f, &sc->key, &sb);
		dt = vs_now_ns() - t0;
		f->stats.stacks++;
		f->stats.frames += st ? (uint64_t)st->nr_user + st->nr_kernel : 0;
		f->stats.ns += dt;
		if (vs_symbolizer_misses(f->sym) == misses)
			vs_hist_add(&f->warm, dt);
		if (!rc)
			rc = merge_line(lines, &sb, sc->weight);
	}
	if (!rc)
		rc = print_sorted(lines, out);
	vs_strbuf_release(&sb);
	vs_htab_free(lines, free);
	return rc;
}
