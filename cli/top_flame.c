/* top's flame graphs; see top_flame.h. */
#include "top_flame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../flamegraph/flame_read.h"
#include "../flamegraph/flame_svg.h"
#include "../flamegraph/flame_tree.h"
#include "../flamegraph/folded.h"

struct entry {
	uint64_t ts_ns;
	uint64_t weight; /* 1 per sample; microseconds per block */
	vs_stack_id stack;
	uint8_t offcpu;
	char comm[VS_COMM_LEN];
};

struct vs_top_flame {
	struct vs_consumer consumer;
	struct entry *ring;
	size_t capacity, head, count; /* head: the next slot written */
};

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_top_flame *tf = (struct vs_top_flame *)self;
	struct entry *e;

	if ((ev->kind != VS_EV_SAMPLE && ev->kind != VS_EV_OFFCPU) || !ev->stack)
		return;
	e = &tf->ring[tf->head];
	e->ts_ns = ev->ts_ns;
	e->offcpu = ev->kind == VS_EV_OFFCPU;
	e->weight = e->offcpu ? ev->dur_ns / 1000 : 1;
	e->stack = ev->stack;
	memcpy(e->comm, ev->comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = '\0';
	tf->head = (tf->head + 1) % tf->capacity;
	if (tf->count < tf->capacity)
		tf->count++;
}

struct vs_top_flame *vs_top_flame_new(size_t capacity)
{
	struct vs_top_flame *tf = calloc(1, sizeof(*tf));

	if (!tf || !capacity)
		goto fail;
	tf->ring = calloc(capacity, sizeof(*tf->ring));
	if (!tf->ring)
		goto fail;
	tf->capacity = capacity;
	tf->consumer.event = on_event;
	return tf;
fail:
	free(tf);
	return NULL;
}

void vs_top_flame_free(struct vs_top_flame *tf)
{
	if (!tf)
		return;
	free(tf->ring);
	free(tf);
}

struct vs_consumer *vs_top_flame_consumer(struct vs_top_flame *tf)
{
	return &tf->consumer;
}

void vs_top_flame_clear(struct vs_top_flame *tf)
{
	tf->head = 0;
	tf->count = 0;
}

void vs_top_flame_touch(const struct vs_top_flame *tf, struct vs_stacks *stacks, uint64_t now_ns)
{
	uint64_t from = now_ns > VS_TOP_FLAME_WINDOW_NS ? now_ns - VS_TOP_FLAME_WINDOW_NS : 0;

	for (size_t i = 0; i < tf->count; i++) {
		const struct entry *e =
			&tf->ring[(tf->head + tf->capacity - tf->count + i) % tf->capacity];

		if (e->ts_ns >= from)
			vs_stacks_touch(stacks, e->stack);
	}
}

/* The window's events of one kind, folded: a malloc'ed buffer in *buf. */
static int fold_window(struct vs_top_flame *tf, int offcpu, const struct vs_stacks *stacks,
		       struct vs_symbolizer *sym, uint64_t now_ns, char **buf, size_t *len,
		       struct vs_top_flame_result *res)
{
	uint64_t from = now_ns > VS_TOP_FLAME_WINDOW_NS ? now_ns - VS_TOP_FLAME_WINDOW_NS : 0;
	struct vs_folded *f;
	FILE *mem = NULL;
	int rc = -ENOMEM;

	f = vs_folded_new(stacks, sym, offcpu ? VS_EV_OFFCPU : VS_EV_SAMPLE,
			  offcpu ? VS_FOLDED_DURATION : VS_FOLDED_COUNT);
	if (!f)
		goto cleanup;
	res->events = 0;
	res->span_ns = 0;
	for (size_t i = 0; i < tf->count; i++) {
		const struct entry *e =
			&tf->ring[(tf->head + tf->capacity - tf->count + i) % tf->capacity];

		if (e->offcpu != !!offcpu || e->ts_ns < from || !e->weight)
			continue;
		if (vs_folded_add(f, e->comm, e->stack, e->weight))
			goto cleanup;
		if (!res->events && now_ns > e->ts_ns)
			res->span_ns = now_ns - e->ts_ns;
		res->events++;
	}
	mem = open_memstream(buf, len);
	if (!mem)
		goto cleanup;
	rc = vs_folded_write(f, mem);
cleanup:
	if (mem && fclose(mem) && !rc)
		rc = -ENOMEM;
	vs_folded_free(f);
	return rc;
}

static int write_svg(struct flame_tree *t, int offcpu, const char *title, const char *path)
{
	struct flame_svg_opts o;
	FILE *out;
	int fd, rc;

	flame_svg_opts_default(&o);
	o.title = title;
	if (offcpu) {
		o.countname = "us";
		o.palette = FLAME_IO;
	}

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	out = fdopen(fd, "w");
	if (!out) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = flame_svg_write(t, &o, out);
	if (fclose(out) && !rc)
		rc = -EIO;
	if (rc)
		unlink(path);
	return rc;
}

int vs_top_flame_write(struct vs_top_flame *tf, int offcpu, const struct vs_stacks *stacks,
		       struct vs_symbolizer *sym, uint64_t now_ns, const char *title,
		       const char *path, struct vs_top_flame_result *res, char *err,
		       size_t errlen)
{
	struct flame_parse_opts po = { 0 };
	struct flame_parse_stats st;
	struct flame_tree t = { 0 };
	char *folded = NULL;
	size_t len = 0;
	int rc;

	rc = fold_window(tf, offcpu, stacks, sym, now_ns, &folded, &len, res);
	if (rc) {
		snprintf(err, errlen, "cannot fold the stacks: %s", strerror(-rc));
		goto cleanup;
	}
	if (!res->events) {
		rc = -ENODATA;
		snprintf(err, errlen, "no %s stacks in the last %llu s", offcpu ? "off-CPU" : "on-CPU",
			 (unsigned long long)(VS_TOP_FLAME_WINDOW_NS / 1000000000ull));
		goto cleanup;
	}
	rc = flame_tree_init(&t, 0, 0);
	if (!rc)
		rc = flame_parse(&t, folded, len, &po, &st);
	if (!rc)
		rc = flame_tree_finalize(&t);
	if (rc) {
		snprintf(err, errlen, "cannot build the flame graph: %s", strerror(-rc));
		goto cleanup;
	}
	rc = write_svg(&t, offcpu, title, path);
	if (rc)
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 rc == -ELOOP ? "it is a symbolic link" : strerror(-rc));
cleanup:
	flame_tree_release(&t);
	free(folded);
	return rc;
}
