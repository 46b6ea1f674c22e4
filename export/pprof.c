/* pprof's profile.proto, encoded by hand (it is a handful of messages) and
 * gzipped with zlib, as `go tool pprof` and pprof's other readers expect.
 * Each on-CPU sample, off-CPU block and lock wait is one sample with four
 * values (samples, cpu, off_cpu and lock_wait nanoseconds) and a "thread"
 * label; locations are one per distinct frame name, leaf first, with no
 * mapping: the names were resolved when the recording was made. */
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../collectors/recfile.h"
#include "../lib/htab.h"

/* protobuf wire types */
#define VARINT 0
#define LEN 2

struct strings {
	struct vs_htab *index; /* string -> index + 1 */
	char **v;
	size_t n, cap;
	int oom;
};

static uint64_t str_of(struct strings *s, const char *str)
{
	size_t len = strlen(str);
	void *v = vs_htab_get(s->index, str, len);
	char *copy;

	if (v)
		return (uint64_t)(uintptr_t)v - 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		char **p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			goto oom;
		s->v = p;
		s->cap = cap;
	}
	copy = strdup(str);
	if (!copy || vs_htab_put(s->index, copy, len, (void *)(uintptr_t)(s->n + 1), NULL)) {
		free(copy);
		goto oom;
	}
	s->v[s->n] = copy;
	return s->n++;
oom:
	s->oom = 1;
	return 0;
}

static void key(struct vs_rec_buf *b, unsigned int field, unsigned int wire)
{
	vs_rec_buf_uv(b, (uint64_t)field << 3 | wire);
}

static void field_uv(struct vs_rec_buf *b, unsigned int field, uint64_t v)
{
	key(b, field, VARINT);
	vs_rec_buf_uv(b, v);
}

static void field_msg(struct vs_rec_buf *b, unsigned int field, const struct vs_rec_buf *m)
{
	key(b, field, LEN);
	vs_rec_buf_uv(b, m->len);
	vs_rec_buf_bytes(b, m->data, m->len);
}

static void value_type(struct vs_rec_buf *b, unsigned int field, struct strings *s,
		       const char *type, const char *unit)
{
	struct vs_rec_buf m = { 0 };

	field_uv(&m, 1, str_of(s, type));
	field_uv(&m, 2, str_of(s, unit));
	field_msg(b, field, &m);
	b->oom |= m.oom;
	vs_rec_buf_release(&m);
}

struct sample_build {
	struct strings *s;
	uint64_t *locs; /* function (= location) ids, root first */
	size_t n, cap;
	int oom;
};

static void add_loc(void *arg, const char *name, int kernel)
{
	struct sample_build *sb = arg;
	char buf[512];

	snprintf(buf, sizeof(buf), "%s%s", name, kernel ? "_[k]" : "");
	if (sb->n == sb->cap) {
		size_t cap = sb->cap ? sb->cap * 2 : 64;
		uint64_t *p = realloc(sb->locs, cap * sizeof(*p));

		if (!p) {
			sb->oom = 1;
			return;
		}
		sb->locs = p;
		sb->cap = cap;
	}
	/* Location and function ids are the name's string index: unique,
	 * and never 0 (index 0 is the empty string). */
	sb->locs[sb->n++] = str_of(sb->s, buf);
}

static int sample_values(const struct vs_event *e, int64_t v[4])
{
	memset(v, 0, 4 * sizeof(*v));
	if (e->kind == VS_EV_SAMPLE) {
		v[0] = 1;
		v[1] = (int64_t)e->sample.period_ns;
	} else if (e->kind == VS_EV_OFFCPU) {
		v[2] = (int64_t)e->dur_ns;
	} else if (e->kind == VS_EV_LOCK && e->lock.phase == VS_LOCK_WAIT) {
		v[3] = (int64_t)e->dur_ns;
	} else {
		return 0;
	}
	return 1;
}

static void put_sample(struct vs_rec_buf *b, struct sample_build *sb, const int64_t v[4],
		       uint64_t thread_key, uint64_t thread)
{
	struct vs_rec_buf m = { 0 }, packed = { 0 }, label = { 0 };

	for (size_t i = sb->n; i-- > 0;) /* leaf first */
		vs_rec_buf_uv(&packed, sb->locs[i]);
	field_msg(&m, 1, &packed);
	vs_rec_buf_reset(&packed);
	for (int i = 0; i < 4; i++)
		vs_rec_buf_uv(&packed, (uint64_t)v[i]);
	field_msg(&m, 2, &packed);
	field_uv(&label, 1, thread_key);
	field_uv(&label, 2, thread);
	field_msg(&m, 3, &label);
	field_msg(b, 2, &m);
	b->oom |= m.oom | packed.oom | label.oom;
	vs_rec_buf_release(&m);
	vs_rec_buf_release(&packed);
	vs_rec_buf_release(&label);
}

/* Functions and locations, one per string that names a frame. */
static void put_functions(struct vs_rec_buf *b, const struct strings *s, const uint8_t *is_frame)
{
	for (size_t i = 1; i < s->n; i++) {
		struct vs_rec_buf m = { 0 }, line = { 0 };

		if (!is_frame[i])
			continue;
		field_uv(&m, 1, i);
		field_uv(&m, 2, i);
		field_uv(&m, 3, i);
		field_msg(b, 5, &m);
		vs_rec_buf_reset(&m);
		field_uv(&line, 1, i);
		field_uv(&m, 1, i);
		field_msg(&m, 4, &line);
		field_msg(b, 4, &m);
		b->oom |= m.oom | line.oom;
		vs_rec_buf_release(&m);
		vs_rec_buf_release(&line);
	}
}

static int encode(const struct vs_export_input *in, struct strings *s, struct vs_rec_buf *b)
{
	const struct vs_timeline *t = in->timeline;
	struct sample_build sb = { .s = s };
	uint64_t thread_key, period = 0;
	uint8_t *is_frame = NULL;
	size_t frames_cap = 0;

	str_of(s, "");
	value_type(b, 1, s, "samples", "count");
	value_type(b, 1, s, "cpu", "nanoseconds");
	value_type(b, 1, s, "off_cpu", "nanoseconds");
	value_type(b, 1, s, "lock_wait", "nanoseconds");
	thread_key = str_of(s, "thread");
	for (size_t i = 0; i < t->nr; i++) {
		const struct vs_event *e = &t->events[i];
		char comm[VS_COMM_LEN + 1];
		int64_t v[4];

		if (!sample_values(e, v))
			continue;
		if (e->kind == VS_EV_SAMPLE && !period)
			period = e->sample.period_ns;
		sb.n = 0;
		vs_export_frames(in, e->stack, add_loc, &sb);
		if (s->n > frames_cap) {
			size_t cap = s->n * 2;
			uint8_t *p = realloc(is_frame, cap);

			if (!p) {
				sb.oom = 1;
				break;
			}
			memset(p + frames_cap, 0, cap - frames_cap);
			is_frame = p;
			frames_cap = cap;
		}
		for (size_t k = 0; k < sb.n; k++)
			is_frame[sb.locs[k]] = 1;
		snprintf(comm, sizeof(comm), "%.*s", VS_COMM_LEN, e->comm);
		put_sample(b, &sb, v, thread_key, str_of(s, comm));
	}
	if (is_frame)
		put_functions(b, s, is_frame);
	for (size_t i = 0; i < s->n; i++) {
		key(b, 6, LEN);
		vs_rec_buf_uv(b, strlen(s->v[i]));
		vs_rec_buf_bytes(b, s->v[i], strlen(s->v[i]));
	}
	field_uv(b, 9, in->start_ns); /* monotonic, for lack of the wall clock per event */
	field_uv(b, 10, in->duration_ns);
	value_type(b, 11, s, "cpu", "nanoseconds");
	field_uv(b, 12, period);
	free(is_frame);
	free(sb.locs);
	return sb.oom || s->oom || b->oom ? -ENOMEM : 0;
}

static int gzip_out(const struct vs_rec_buf *b, FILE *out)
{
	unsigned char chunk[1 << 16];
	z_stream z;
	int zr, rc = 0;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper rather than zlib's */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	z.next_in = b->data;
	z.avail_in = (uInt)b->len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			rc = -EIO;
			break;
		}
		if (fwrite(chunk, 1, sizeof(chunk) - z.avail_out, out) != sizeof(chunk) - z.avail_out) {
			rc = -EIO;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return rc;
}

int vs_export_pprof(const struct vs_export_input *in, FILE *out)
{
	struct strings s = { 0 };
	struct vs_rec_buf b = { 0 };
	int rc;

	s.index = vs_htab_new();
	if (!s.index)
		return -ENOMEM;
	rc = encode(in, &s, &b);
	if (!rc)
		rc = gzip_out(&b, out);
	vs_htab_free(s.index, NULL);
	for (size_t i = 0; i < s.n; i++)
		free(s.v[i]);
	free(s.v);
	vs_rec_buf_release(&b);
	return rc;
}
