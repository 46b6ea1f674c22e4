/* speedscope's file format: three sampled profiles (on-CPU, off-CPU and
 * lock-wait time, in nanoseconds), each sample a stack from the thread
 * (its name is the root frame) to the leaf, kernel frames last with "_[k]".
 * Frames are shared by index; the profiles are written first and the frame
 * table after them, so one pass over the events does. */
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"

struct frames {
	struct vs_htab *index; /* name -> index + 1 */
	char **names;
	size_t n, cap;
	int oom;
};

static size_t frame_of(struct frames *f, const char *name)
{
	size_t len = strlen(name);
	void *v = vs_htab_get(f->index, name, len);
	char *copy;

	if (v)
		return (size_t)(uintptr_t)v - 1;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		char **p = realloc(f->names, cap * sizeof(*p));

		if (!p)
			goto oom;
		f->names = p;
		f->cap = cap;
	}
	copy = strdup(name);
	if (!copy || vs_htab_put(f->index, copy, len, (void *)(uintptr_t)(f->n + 1), NULL)) {
		free(copy);
		goto oom;
	}
	f->names[f->n] = copy;
	return f->n++;
oom:
	f->oom = 1;
	return 0;
}

struct sample_writer {
	FILE *out;
	struct frames *f;
	int first;
};

static void put_frame(void *arg, const char *name, int kernel)
{
	struct sample_writer *w = arg;
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%s", name, kernel ? "_[k]" : "");
	fprintf(w->out, ",%zu", frame_of(w->f, buf));
}

static int wanted(const struct vs_event *e, int which)
{
	switch (which) {
	case 0: return e->kind == VS_EV_SAMPLE;
	case 1: return e->kind == VS_EV_OFFCPU;
	default: return e->kind == VS_EV_LOCK && e->lock.phase == VS_LOCK_WAIT;
	}
}

static uint64_t weight(const struct vs_event *e)
{
	return e->kind == VS_EV_SAMPLE ? e->sample.period_ns : e->dur_ns;
}

static void write_profile(const struct vs_export_input *in, FILE *out, struct frames *f,
			  int which)
{
	static const char *const names[] = { "on-CPU", "off-CPU", "lock wait" };
	const struct vs_timeline *t = in->timeline;
	struct sample_writer w = { out, f, 1 };
	uint64_t total = 0;
	int first = 1;

	for (size_t i = 0; i < t->nr; i++)
		if (wanted(&t->events[i], which))
			total += weight(&t->events[i]);
	fprintf(out, "%s{\"type\":\"sampled\",\"name\":\"%s\",\"unit\":\"nanoseconds\","
		     "\"startValue\":0,\"endValue\":%llu,\"samples\":[",
		which ? ",\n" : "", names[which], (unsigned long long)total);
	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];
		char comm[VS_COMM_LEN + 1];

		if (!wanted(e, which))
			continue;
		snprintf(comm, sizeof(comm), "%.*s", VS_COMM_LEN, e->comm[0] ? e->comm : "?");
		fprintf(out, "%s[%zu", first ? "" : ",", frame_of(f, comm));
		vs_export_frames(in, e->stack, put_frame, &w);
		fputc(']', out);
		first = 0;
	}
	fputs("],\"weights\":[", out);
	first = 1;
	for (size_t i = 0; i < t->nr; i++) {
		if (!wanted(&t->events[i], which))
			continue;
		fprintf(out, "%s%llu", first ? "" : ",", (unsigned long long)weight(&t->events[i]));
		first = 0;
	}
	fputs("]}", out);
}

int vs_export_speedscope(const struct vs_export_input *in, FILE *out)
{
	struct frames f = { 0 };
	int rc = 0;

	f.index = vs_htab_new();
	if (!f.index)
		return -ENOMEM;
	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",", out);
	fputs("\"exporter\":\"virtscope\",\"name\":", out);
	vs_json_string(out, in->comm);
	fputs(",\"activeProfileIndex\":0,\"profiles\":[\n", out);
	for (int which = 0; which < 3; which++)
		write_profile(in, out, &f, which);
	fputs("],\n\"shared\":{\"frames\":[", out);
	for (size_t i = 0; i < f.n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		vs_json_string(out, f.names[i]);
		fputc('}', out);
	}
	fputs("]}}\n", out);
	if (f.oom)
		rc = -ENOMEM;
	else if (ferror(out))
		rc = -EIO;
	vs_htab_free(f.index, NULL);
	for (size_t i = 0; i < f.n; i++)
		free(f.names[i]);
	free(f.names);
	return rc;
}
