/* Replay of a recording; see replay.h. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRAMES (2u * UINT16_MAX)

int vs_replay_is_recording(const void *data, size_t size)
{
	return size >= VS_REC_MAGIC_LEN && !memcmp(data, VS_REC_MAGIC, VS_REC_MAGIC_LEN);
}

static int init(struct vs_replay *rp)
{
	rp->stacks = vs_stacks_new();
	rp->sym = vs_symbolizer_new(NULL);
	return rp->stacks && rp->sym ? 0 : -ENOMEM;
}

static int check_header(struct vs_replay *rp, char *err, size_t errlen)
{
	enum vs_rec_error e = vs_rec_reader_init(&rp->reader, rp->data, rp->size);

	if (e == VS_REC_OK)
		return 0;
	vs_rec_error_line(&rp->reader, err, errlen);
	return -EINVAL;
}

int vs_replay_open_mem(struct vs_replay *rp, const void *data, size_t size, char *err,
		       size_t errlen)
{
	memset(rp, 0, sizeof(*rp));
	if (init(rp)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rp->data = (uint8_t *)data;
	rp->size = size;
	return check_header(rp, err, errlen);
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = NULL;
	int rc = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (!buf || len == cap) {
			uint8_t *p = realloc(buf, buf ? cap *= 2 : cap);

			if (!p) {
				rc = -ENOMEM;
				break;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	*data = buf;
	*size = len;
	return 0;
}

int vs_replay_open(struct vs_replay *rp, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	memset(rp, 0, sizeof(*rp));
	if (init(rp)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "'%s' is a directory", path);
		return -EISDIR;
	}
	rc = read_file(path, &rp->data, &rp->size);
	rp->owns_data = !rc;
	if (rc) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-rc));
		return rc;
	}
	rc = check_header(rp, err, errlen);
	if (rc) {
		/* The reason names the file: it ends up alone on one line. */
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "'%s': %s", path, tmp);
	}
	return rc;
}

int vs_replay_add_consumer(struct vs_replay *rp, struct vs_consumer *c)
{
	if (rp->nr_consumers == VS_SESSION_MAX_CONSUMERS)
		return -E2BIG;
	rp->consumers[rp->nr_consumers++] = c;
	return 0;
}

static vs_stack_id map_id(const struct vs_replay *rp, vs_stack_id id)
{
	return id < rp->id_map_len ? rp->id_map[id] : 0;
}

static int put_id(struct vs_replay *rp, vs_stack_id rec, vs_stack_id here)
{
	if (rec >= rp->id_map_len) {
		size_t len = rp->id_map_len ? rp->id_map_len : 256;
		vs_stack_id *p;

		while (len <= rec)
			len *= 2;
		/* A damaged id far beyond any real table is refused. */
		if (len > (1u << 26))
			return -EINVAL;
		p = realloc(rp->id_map, len * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + rp->id_map_len, 0, (len - rp->id_map_len) * sizeof(*p));
		rp->id_map = p;
		rp->id_map_len = len;
	}
	rp->id_map[rec] = here;
	return 0;
}

static int read_stack(struct vs_replay *rp, struct vs_rec_cur *c, uint64_t *ips)
{
	uint32_t pid, nk, nu, flags;
	vs_stack_id rec, here;

	if (vs_rec_get_stack(c, &rec, &pid, &nk, &nu, &flags, ips))
		return -EINVAL;
	here = vs_stacks_intern(rp->stacks, pid, ips, nk, ips + nk, nu, flags);
	if (!here)
		return -ENOMEM;
	return put_id(rp, rec, here);
}

static int read_dict(struct vs_replay *rp, struct vs_rec_cur *c)
{
	static uint64_t ips[MAX_FRAMES];
	int rc = 0;

	while (!rc && c->p < c->end) {
		uint8_t type = vs_rec_get_u8(c);
		struct vs_rec_mapping m;
		const char *name;
		uint32_t pid;
		uint64_t ip;

		vs_rec_cur_reset_scratch(c);
		switch (type) {
		case VS_REC_STACK:
			rc = read_stack(rp, c, ips);
			break;
		case VS_REC_SYMBOL:
			rc = vs_rec_get_symbol(c, &pid, &ip, &name);
			if (!rc)
				rc = vs_symbolizer_add_name(rp->sym, pid, ip, name);
			break;
		case VS_REC_MAPPING:
			rc = vs_rec_get_mapping(c, &m);
			if (!rc)
				rp->mappings++;
			break;
		default:
			return -EINVAL; /* a record this reader does not know */
		}
	}
	return rc;
}

static void dispatch(struct vs_replay *rp, struct vs_event *ev)
{
	ev->stack = map_id(rp, ev->stack);
	if (ev->kind == VS_EV_LOCK)
		ev->lock.holder_stack = map_id(rp, ev->lock.holder_stack);
	else if (ev->kind == VS_EV_OFFCPU)
		ev->offcpu.waker_stack = map_id(rp, ev->offcpu.waker_stack);
	if (!rp->events || ev->ts_ns < rp->first_ts)
		rp->first_ts = ev->ts_ns;
	if (ev->ts_ns + ev->dur_ns > rp->last_ts)
		rp->last_ts = ev->ts_ns + ev->dur_ns;
	rp->events++;
	for (size_t i = 0; i < rp->nr_consumers; i++)
		rp->consumers[i]->event(rp->consumers[i], ev);
}

static int read_events(struct vs_replay *rp, struct vs_rec_cur *c)
{
	uint64_t prev_ts = 0;

	while (c->p < c->end) {
		struct vs_event ev;

		vs_rec_cur_reset_scratch(c);
		if (vs_rec_get_u8(c) != VS_REC_EVENT || vs_rec_get_event(c, &ev, &prev_ts))
			return -EINVAL;
		dispatch(rp, &ev);
	}
	return 0;
}

static void *grow(void *p, size_t n, size_t size)
{
	/* Capacity doubles at powers of two. */
	if (n & (n - 1))
		return p;
	return realloc(p, (n ? n * 2 : 16) * size);
}

static int read_totals(struct vs_replay *rp, struct vs_rec_cur *c)
{
	while (c->p < c->end) {
		uint8_t type = vs_rec_get_u8(c);
		void *p;

		vs_rec_cur_reset_scratch(c);
		if (type == VS_REC_LOCK_STATS) {
			struct vs_replay_lock_stats l;

			if (vs_rec_get_lock_stats(c, &l.addr, &l.st))
				return -EINVAL;
			p = grow(rp->locks, rp->nr_locks, sizeof(*rp->locks));
			if (!p)
				return -ENOMEM;
			rp->locks = p;
			rp->locks[rp->nr_locks++] = l;
		} else if (type == VS_REC_THREAD_TOTALS) {
			struct vs_offcpu_totals t;

			if (vs_rec_get_thread_totals(c, &t))
				return -EINVAL;
			p = grow(rp->threads, rp->nr_threads, sizeof(*rp->threads));
			if (!p)
				return -ENOMEM;
			rp->threads = p;
			rp->threads[rp->nr_threads++] = t;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static int read_chunk(struct vs_replay *rp, uint32_t type, const uint8_t *payload, size_t len)
{
	struct vs_rec_cur c = { 0 };
	int rc = vs_rec_cur_init(&c, payload, len);

	if (rc)
		goto out;
	switch (type) {
	case VS_REC_CHUNK_META:
		rc = vs_rec_get_meta(&c, &rp->meta);
		rp->have_meta = !rc;
		break;
	case VS_REC_CHUNK_DICT:
		rc = read_dict(rp, &c);
		break;
	case VS_REC_CHUNK_EVENTS:
		rc = read_events(rp, &c);
		break;
	case VS_REC_CHUNK_TOTALS:
		rc = read_totals(rp, &c);
		break;
	case VS_REC_CHUNK_END:
		rc = vs_rec_get_end(&c, &rp->end);
		rp->have_end = !rc;
		break;
	default:
		break; /* a newer writer's chunk within this version: skipped */
	}
out:
	vs_rec_cur_release(&c);
	return rc;
}

int vs_replay_run(struct vs_replay *rp, char *err, size_t errlen)
{
	const uint8_t *payload;
	uint32_t type;
	size_t len;
	int bad_records = 0;

	while (vs_rec_next_chunk(&rp->reader, &type, &payload, &len)) {
		int rc = read_chunk(rp, type, payload, len);

		if (rc == -ENOMEM) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		/* A chunk whose checksum held but whose records do not parse
		 * was written by something else: what parsed before stays. */
		if (rc)
			bad_records++;
	}
	if (rp->reader.error != VS_REC_OK) {
		vs_rec_error_line(&rp->reader, err, errlen);
		return 1;
	}
	if (bad_records) {
		snprintf(err, errlen, "%d chunks hold records this virtscope cannot read", bad_records);
		return 1;
	}
	return 0;
}

uint64_t vs_replay_interval(const struct vs_replay *rp)
{
	/* A flight recording covers its window, not the time it waited. */
	uint64_t start = rp->have_meta && rp->meta.start_ns && !rp->meta.ring_bytes
				 ? rp->meta.start_ns
				 : rp->first_ts;
	uint64_t end = rp->have_end ? rp->end.end_ns : rp->last_ts;

	return end > start ? end - start : 0;
}

void vs_replay_release(struct vs_replay *rp)
{
	vs_rec_reader_release(&rp->reader);
	vs_stacks_free(rp->stacks);
	vs_symbolizer_free(rp->sym);
	free(rp->locks);
	free(rp->threads);
	free(rp->id_map);
	/* A file's image is ours; a memory image is the caller's. */
	if (rp->data && rp->owns_data)
		free(rp->data);
	memset(rp, 0, sizeof(*rp));
}
