/* The recorder; see recorder.h. Dictionary records (stacks, names,
 * mappings) go in DICT chunks written just before the events chunk that
 * first needs them, so a reader meets every stack before its first use;
 * stack ids are the session's own, and the reader maps them to its own.
 *
 * A flight recorder keeps no dictionary chunks: each chunk in its ring
 * lists the stacks it refers to, and the names and mappings of their
 * processes are kept while some chunk in the ring refers to them (names are
 * taken when a chunk is made, while its processes still run). The recording
 * it writes starts with the definitions its chunks need. Without that, the
 * ring would keep the names of every process that ever came and went: under
 * a load that starts guests and forks helpers, its memory grew without end. */
#include "recorder.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/htab.h"
#include "../lib/util.h"
#include "rec_writer.h"
#include "symbolize.h"

/* Calls that took at least this share of their timeout ran into it (as the
 * operations report counts them). */
#define TIMEOUT_SHARE 0.95

struct ring_chunk {
	struct vs_rec_buf enc; /* the encoded chunk */
	uint32_t type;
	uint64_t max_ts;       /* the latest event end in it */
	uint64_t gen;          /* its place in the ring's history, from 1 */
	uint64_t epoch;        /* when it was made, in seconds (stacks and names
				  it refers to were touched then) */
	vs_stack_id *ids;      /* the stacks its events refer to, each once */
	size_t nr_ids;
};

/* A process whose stacks chunks in the ring refer to. */
struct ring_pid {
	uint64_t key;          /* the pid */
	uint64_t last_gen;     /* the newest chunk referring to one of its stacks */
	struct vs_rec_buf maps; /* its mapping records, taken while it ran */
};

/* Dropped chunks between sweeps of what the ring no longer refers to. */
#define RING_SWEEP_CHUNKS 32

/* Stacks and names no chunk refers to are kept this long after their last
 * use all the same: collectors hold some stack ids for a while (a thread
 * blocked where it last blocked reuses its stack; a call's stack waits for
 * its end, up to a D-Bus timeout, 30 s in libvirt). A call longer than this
 * whose beginning fell off the ring ends without its stack. Under mixed
 * load, 300 s kept the heap growing 32 KiB/s for 5 minutes; 60 s flattens
 * it after one. */
#define RING_KEEP_S 60

struct sym_key {
	uint32_t pid, pad;
	uint64_t ip;
};

struct vs_recorder {
	struct vs_consumer consumer;
	struct vs_session *s;
	struct vs_recorder_opts opts;
	struct vs_rec_meta meta;
	struct vs_symbolizer *sym;
	int fd;
	struct vs_rec_writer *writer; /* writes the chunks of a plain recording */
	uint32_t seq;
	struct vs_rec_buf events;  /* the events chunk being filled */
	uint64_t nr_buffered, prev_ts, max_ts;
	struct vs_rec_buf dict;    /* dictionary records not yet written */
	struct vs_rec_buf totals;  /* the figures read at the end */
	struct vs_htab *names;     /* struct sym_key -> itself: names written */
	struct vs_htab *pids;      /* pid -> 1: mappings written */
	uint32_t stacks_done;      /* stacks up to this id are written */
	uint64_t last_flush_ns;
	int error;                 /* the first write error, sticky */
	/* flight recorder */
	struct ring_chunk *ring;
	size_t ring_len, ring_cap;
	uint64_t ring_bytes;
	uint64_t gen;              /* of the chunk being filled */
	vs_stack_id *refs;         /* stacks its events refer to (repeats too) */
	size_t nr_refs, refs_cap;
	uint64_t *stack_gen;       /* by stack id: the last chunk listing it */
	size_t stack_gen_cap;
	struct vs_htab *ring_pids; /* pid -> struct ring_pid */
	unsigned int dropped_since_sweep;
	uint64_t trimmed_ns;     /* when freed memory was last handed back */
	int fired, done;
	uint64_t fire_start_ns, fire_ts_ns, dump_at_ns;
	struct vs_recorder_stats stats;
};

int vs_trigger_parse(const char *s, struct vs_trigger *t)
{
	static const struct {
		const char *name;
		enum vs_trigger_kind kind;
	} kinds[] = {
		{ "stall", VS_TRIGGER_STALL },
		{ "rpc", VS_TRIGGER_RPC },
		{ "lock", VS_TRIGGER_LOCK },
	};
	const char *colon = strchr(s, ':');
	uint64_t ns;

	memset(t, 0, sizeof(*t));
	if (!strcmp(s, "dbus-timeout")) {
		t->kind = VS_TRIGGER_DBUS_TIMEOUT;
		return 0;
	}
	if (!colon)
		return -EINVAL;
	for (size_t i = 0; i < VS_ARRAY_SIZE(kinds); i++) {
		if (strlen(kinds[i].name) != (size_t)(colon - s) ||
		    strncmp(s, kinds[i].name, (size_t)(colon - s)))
			continue;
		/* milliseconds, fractions allowed, up to an hour: parsed as
		 * seconds, so both bounds are 1000 times the wanted ones */
		if (vs_parse_seconds(colon + 1, 1000, 1000 * 3600 * VS_NSEC_PER_SEC, &ns))
			return -EINVAL;
		t->kind = kinds[i].kind;
		t->threshold_ns = ns / 1000;
		return 0;
	}
	return -EINVAL;
}

static const char *trigger_name(enum vs_trigger_kind k)
{
	switch (k) {
	case VS_TRIGGER_STALL: return "main-loop stall";
	case VS_TRIGGER_RPC: return "RPC";
	case VS_TRIGGER_LOCK: return "lock wait";
	case VS_TRIGGER_DBUS_TIMEOUT: return "D-Bus timeout";
	}
	return "?";
}

static int matches(const struct vs_trigger *t, const struct vs_event *ev)
{
	switch (t->kind) {
	case VS_TRIGGER_STALL:
		return ev->kind == VS_EV_SPAN_END && ev->span.kind == VS_SPAN_LOOP_ITERATION &&
		       ev->dur_ns >= t->threshold_ns;
	case VS_TRIGGER_RPC:
		return ev->kind == VS_EV_SPAN_END && ev->span.kind == VS_SPAN_RPC &&
		       ev->dur_ns >= t->threshold_ns;
	case VS_TRIGGER_LOCK:
		return ev->kind == VS_EV_LOCK && ev->lock.phase == VS_LOCK_WAIT &&
		       ev->dur_ns >= t->threshold_ns;
	case VS_TRIGGER_DBUS_TIMEOUT:
		return ev->kind == VS_EV_SPAN_END && ev->span.kind == VS_SPAN_DBUS &&
		       ev->span.timeout_ms &&
		       (double)ev->dur_ns >=
			       TIMEOUT_SHARE * (double)(ev->span.timeout_ms * VS_NSEC_PER_MSEC);
	}
	return 0;
}

/* In words, for the report: the recording may be read where the thread ids
 * and the clock mean nothing, so what and how long come first. */
static void describe_trigger(char *buf, size_t len, const struct vs_trigger *t,
			     const struct vs_event *ev)
{
	const char *what, *object;

	if (ev->kind == VS_EV_LOCK) {
		what = ev->lock.kind ? ev->lock.kind : "lock";
		object = ev->lock.object;
	} else {
		what = ev->span.name ? ev->span.name
		       : ev->span.kind == VS_SPAN_LOOP_ITERATION ? "main loop" : "?";
		object = ev->span.object;
	}
	snprintf(buf, len, "%s of %.3f ms (%s%s%s) in %s[%u]", trigger_name(t->kind),
		 (double)ev->dur_ns / 1e6, what, object ? " " : "", object ? object : "",
		 ev->comm, ev->tid);
}

static void check_triggers(struct vs_recorder *r, const struct vs_event *ev)
{
	for (size_t i = 0; i < r->opts.nr_triggers && !r->fired; i++) {
		const struct vs_trigger *t = &r->opts.triggers[i];

		if (!matches(t, ev))
			continue;
		r->fired = 1;
		r->fire_start_ns = ev->ts_ns;
		r->fire_ts_ns = ev->ts_ns + ev->dur_ns;
		r->dump_at_ns = vs_now_ns() + r->opts.after_ns;
		describe_trigger(r->meta.trigger, sizeof(r->meta.trigger), t, ev);
	}
}

/* ---- the dictionary ---- */

static void name_once(struct vs_recorder *r, uint32_t pid, uint64_t ip, int kernel)
{
	struct sym_key key = { .pid = kernel ? 0 : pid, .ip = ip }, *k;
	const char *name;

	if (vs_htab_get(r->names, &key, sizeof(key)))
		return;
	k = malloc(sizeof(*k));
	if (k)
		*k = key; /* the table hashes the key as it is put */
	if (!k || vs_htab_put(r->names, k, sizeof(*k), k, NULL)) {
		free(k);
		r->dict.oom = 1;
		return;
	}
	name = kernel ? vs_symbolize_kernel(r->sym, ip) : vs_symbolize_user(r->sym, pid, ip);
	vs_rec_put_symbol(&r->dict, key.pid, ip, name);
	r->stats.symbols++;
}

struct module_walk {
	struct vs_rec_buf *out;
	uint32_t pid;
};

static int put_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		      void *arg)
{
	struct module_walk *w = arg;
	struct vs_rec_mapping m = { .pid = w->pid, .start = start, .path = name };
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	Dwarf_Addr end = 0;
	char hex[2 * 64 + 1];
	int n;

	(void)userdata;
	dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	m.end = end;
	n = dwfl_module_build_id(mod, &bits, &vaddr);
	if (n > 0 && n <= 64) {
		for (int i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", bits[i]);
		m.build_id = hex;
	}
	vs_rec_put_mapping(w->out, &m);
	return DWARF_CB_OK;
}

static void put_mappings(struct vs_recorder *r, uint32_t pid, struct vs_rec_buf *out)
{
	struct module_walk w = { out, pid };
	struct vs_proc *proc = vs_procs_get(r->s->procs, pid);

	if (proc)
		dwfl_getmodules(vs_proc_dwfl(proc), put_module, &w, 0);
}

static void mappings_once(struct vs_recorder *r, uint32_t pid)
{
	uint64_t key = pid;
	uint64_t *k;

	if (!pid || vs_htab_get(r->pids, &key, sizeof(key)))
		return;
	k = malloc(sizeof(*k));
	if (k)
		*k = key;
	if (!k || vs_htab_put(r->pids, k, sizeof(*k), k, NULL)) {
		free(k);
		r->dict.oom = 1;
		return;
	}
	put_mappings(r, pid, &r->dict);
}

/* Every stack interned since the last call, with its names and its
 * process's mappings. */
static void dict_new_stacks(struct vs_recorder *r)
{
	uint32_t count = vs_stacks_count(r->s->stacks);

	for (uint32_t id = r->stacks_done + 1; id <= count; id++) {
		const struct vs_stack *st = vs_stacks_get(r->s->stacks, id);
		const uint64_t *u;

		if (!st)
			continue;
		/* A kernel-only stack (a waker from another process) needs no
		 * mappings: reading them built a process's whole module map. */
		if (st->nr_user)
			mappings_once(r, st->pid);
		vs_rec_put_stack(&r->dict, id, st);
		r->stats.stacks++;
		for (unsigned int i = 0; i < st->nr_kernel; i++)
			name_once(r, 0, vs_stack_lookup_ip(st->ips, i), 1);
		u = st->ips + st->nr_kernel;
		for (unsigned int i = 0; i < st->nr_user; i++)
			name_once(r, st->pid, vs_stack_lookup_ip(u, i), 0);
	}
	r->stacks_done = count;
}

/* ---- the flight recorder's dictionary ---- */

static void ring_pid_free(void *p)
{
	struct ring_pid *rp = p;

	vs_rec_buf_release(&rp->maps);
	free(rp);
}

static void note_ref(struct vs_recorder *r, vs_stack_id id)
{
	if (!id)
		return;
	if (r->nr_refs == r->refs_cap) {
		size_t cap = r->refs_cap ? 2 * r->refs_cap : 1024;
		vs_stack_id *p = realloc(r->refs, cap * sizeof(*p));

		if (!p) {
			r->error = -ENOMEM;
			return;
		}
		r->refs = p;
		r->refs_cap = cap;
	}
	r->refs[r->nr_refs++] = id;
}

static void note_refs(struct vs_recorder *r, const struct vs_event *ev)
{
	note_ref(r, ev->stack);
	if (ev->kind == VS_EV_LOCK)
		note_ref(r, ev->lock.holder_stack);
	else if (ev->kind == VS_EV_OFFCPU)
		note_ref(r, ev->offcpu.waker_stack);
}

/* The process of a stack the chunk being made refers to: its mappings are
 * taken the first time, and it is kept while the ring refers to it. */
static int touch_pid(struct vs_recorder *r, uint32_t pid)
{
	uint64_t key = pid;
	struct ring_pid *rp = vs_htab_get(r->ring_pids, &key, sizeof(key));

	if (!rp) {
		rp = calloc(1, sizeof(*rp));
		if (!rp)
			return -ENOMEM;
		rp->key = key;
		if (vs_htab_put(r->ring_pids, &rp->key, sizeof(rp->key), rp, NULL)) {
			free(rp);
			return -ENOMEM;
		}
		put_mappings(r, pid, &rp->maps);
		vs_rec_buf_shrink(&rp->maps);
		if (rp->maps.oom)
			return -ENOMEM;
	}
	rp->last_gen = r->gen;
	return 0;
}

/* Names every frame of a stack now, while its process runs: the symbolizer
 * keeps the names until the ring no longer refers to the process. */
static int name_frames(struct vs_recorder *r, const struct vs_stack *st)
{
	const uint64_t *u = st->ips + st->nr_kernel;
	int rc = 0;

	for (unsigned int i = 0; i < st->nr_kernel; i++)
		vs_symbolize_kernel(r->sym, vs_stack_lookup_ip(st->ips, i));
	if (st->nr_user && !(rc = touch_pid(r, st->pid)))
		for (unsigned int i = 0; i < st->nr_user; i++)
			vs_symbolize_user(r->sym, st->pid, vs_stack_lookup_ip(u, i));
	return rc;
}

/* The stacks the buffered events refer to, each once, named; the array
 * goes to the chunk. */
static int chunk_ids(struct vs_recorder *r, vs_stack_id **ids, size_t *nr)
{
	size_t n = 0;
	int rc = 0;

	*ids = NULL;
	*nr = 0;
	for (size_t i = 0; i < r->nr_refs && !rc; i++) {
		vs_stack_id id = r->refs[i];
		const struct vs_stack *st;

		if (id >= r->stack_gen_cap) {
			size_t cap = r->stack_gen_cap ? r->stack_gen_cap : 1024;
			uint64_t *p;

			while (cap <= id)
				cap *= 2;
			p = realloc(r->stack_gen, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			memset(p + r->stack_gen_cap, 0, (cap - r->stack_gen_cap) * sizeof(*p));
			r->stack_gen = p;
			r->stack_gen_cap = cap;
		}
		if (r->stack_gen[id] == r->gen)
			continue;
		r->stack_gen[id] = r->gen;
		if (!vs_stacks_touch(r->s->stacks, id))
			continue; /* forgotten before this event came: nothing to name */
		r->refs[n++] = id; /* compacted in place: n <= i */
		st = vs_stacks_get(r->s->stacks, id);
		rc = name_frames(r, st);
	}
	if (!rc && n) {
		*ids = malloc(n * sizeof(**ids));
		if (!*ids)
			rc = -ENOMEM;
		else
			memcpy(*ids, r->refs, n * sizeof(**ids));
		*nr = *ids ? n : 0;
	}
	r->nr_refs = 0;
	return rc;
}

static uint64_t now_epoch(void)
{
	return vs_now_ns() / VS_NSEC_PER_SEC + 1; /* never 0: 0 is "never set" */
}

/* Forgets what no chunk in the ring refers to any more, nor anything used
 * in the last RING_KEEP_S: stacks, their names, their processes' mappings.
 * Without it the ring's memory grew with every new stack (on-CPU samples
 * land on new addresses for hours) and every new process. */
static void ring_sweep(struct vs_recorder *r)
{
	size_t pos = 0, n = 0, cap = vs_htab_count(r->ring_pids);
	uint64_t oldest = r->ring_len ? r->ring[0].gen : r->gen, now = now_epoch(), horizon;
	struct ring_pid **doomed, *rp;
	const void *key;
	size_t len;
	void *val;

	r->dropped_since_sweep = 0;
	if (!r->ring_len)
		return;
	horizon = now > RING_KEEP_S ? now - RING_KEEP_S : 0;
	if (r->ring[0].epoch < horizon)
		horizon = r->ring[0].epoch;
	vs_stacks_forget_before(r->s->stacks, horizon);
	vs_symbolizer_forget_before(r->sym, horizon);
	if (!cap || !(doomed = malloc(cap * sizeof(*doomed))))
		return;
	while (vs_htab_next(r->ring_pids, &pos, &key, &len, &val) && n < cap) {
		rp = val;
		if (rp->last_gen < oldest)
			doomed[n++] = rp;
	}
	for (size_t i = 0; i < n; i++) {
		vs_htab_del(r->ring_pids, &doomed[i]->key, sizeof(doomed[i]->key));
		ring_pid_free(doomed[i]);
	}
	free(doomed);
	/* A sweep can come every second under load; handing pages back costs a
	 * walk of the heap, which every 10 s is enough for. */
	if (vs_now_ns() - r->trimmed_ns >= 10 * VS_NSEC_PER_SEC) {
		vs_release_free_memory();
		r->trimmed_ns = vs_now_ns();
	}
}

/* The definitions the chunks reaching into the window (from `from` on)
 * need, in r->dict: each process's mappings, each stack, each frame's name. */
static void ring_prelude(struct vs_recorder *r, uint64_t from)
{
	uint32_t count = vs_stacks_count(r->s->stacks);
	uint8_t *seen = calloc((size_t)count + 1, 1);

	if (!seen) {
		r->dict.oom = 1;
		return;
	}
	for (size_t c = 0; c < r->ring_len; c++) {
		if (r->ring[c].max_ts < from)
			continue;
		for (size_t i = 0; i < r->ring[c].nr_ids; i++) {
			vs_stack_id id = r->ring[c].ids[i];
			const struct vs_stack *st = id <= count ? vs_stacks_get(r->s->stacks, id) : NULL;
			uint64_t key;
			const struct ring_pid *rp;
			const uint64_t *u;

			if (!st || seen[id])
				continue;
			seen[id] = 1;
			key = st->pid;
			rp = st->nr_user ? vs_htab_get(r->ring_pids, &key, sizeof(key)) : NULL;
			if (rp && !vs_htab_get(r->pids, &key, sizeof(key))) {
				uint64_t *k = malloc(sizeof(*k));

				if (!k || (*k = key, vs_htab_put(r->pids, k, sizeof(*k), k, NULL))) {
					free(k);
					r->dict.oom = 1;
					break;
				}
				vs_rec_buf_bytes(&r->dict, rp->maps.data, rp->maps.len);
			}
			vs_rec_put_stack(&r->dict, id, st);
			r->stats.stacks++;
			for (unsigned int f = 0; f < st->nr_kernel; f++)
				name_once(r, 0, vs_stack_lookup_ip(st->ips, f), 1);
			u = st->ips + st->nr_kernel;
			for (unsigned int f = 0; f < st->nr_user; f++)
				name_once(r, st->pid, vs_stack_lookup_ip(u, f), 0);
		}
	}
	free(seen);
}

/* ---- chunks ---- */

static void ring_trim(struct vs_recorder *r)
{
	size_t drop = 0;

	/* Keep at least the newest chunk, whatever its size. */
	while (r->ring_bytes > r->opts.ring_bytes && r->ring_len - drop > 1) {
		r->ring_bytes -= r->ring[drop].enc.len + r->ring[drop].nr_ids * sizeof(vs_stack_id);
		vs_rec_buf_release(&r->ring[drop].enc);
		free(r->ring[drop].ids);
		drop++;
		r->stats.dropped_chunks++;
	}
	if (drop) {
		memmove(r->ring, r->ring + drop, (r->ring_len - drop) * sizeof(*r->ring));
		r->ring_len -= drop;
		r->dropped_since_sweep += (unsigned int)drop;
		if (r->dropped_since_sweep >= RING_SWEEP_CHUNKS)
			ring_sweep(r);
	}
}

static int ring_push(struct vs_recorder *r, uint32_t type, const struct vs_rec_buf *raw,
		     uint64_t max_ts)
{
	struct ring_chunk *c;
	uint64_t epoch = now_epoch();
	vs_stack_id *ids;
	size_t nr_ids;
	int rc;

	/* What this chunk refers to is touched now, and so kept as long as
	 * it is. */
	vs_stacks_set_epoch(r->s->stacks, epoch);
	vs_symbolizer_set_epoch(r->sym, epoch);
	rc = chunk_ids(r, &ids, &nr_ids);
	if (rc) {
		free(ids);
		return rc;
	}
	if (r->ring_len == r->ring_cap) {
		size_t cap = r->ring_cap ? r->ring_cap * 2 : 64;
		struct ring_chunk *p = realloc(r->ring, cap * sizeof(*p));

		if (!p) {
			free(ids);
			return -ENOMEM;
		}
		r->ring = p;
		r->ring_cap = cap;
	}
	c = &r->ring[r->ring_len];
	memset(c, 0, sizeof(*c));
	rc = vs_rec_encode_chunk(&c->enc, type, r->seq++, raw->data, raw->len);
	if (rc) {
		vs_rec_buf_release(&c->enc);
		free(ids);
		return rc;
	}
	/* Encoding reserved room for the raw size; the ring holds many
	 * chunks, each for long, and is bounded by what they hold. */
	vs_rec_buf_shrink(&c->enc);
	c->type = type;
	c->max_ts = max_ts;
	c->gen = r->gen++;
	c->epoch = epoch;
	c->ids = ids;
	c->nr_ids = nr_ids;
	r->ring_len++;
	r->ring_bytes += c->enc.len + nr_ids * sizeof(vs_stack_id);
	ring_trim(r);
	return 0;
}

static int put_chunk(struct vs_recorder *r, uint32_t type, struct vs_rec_buf *raw)
{
	int rc;

	if (raw->oom)
		return -ENOMEM;
	if (r->opts.ring_bytes && !r->done) {
		rc = ring_push(r, type, raw, r->max_ts);
	} else if (r->writer) {
		rc = vs_rec_writer_put(r->writer, type, r->seq++, raw);
	} else {
		rc = vs_rec_write_chunk(r->fd, type, r->seq++, raw->data, raw->len,
					!r->opts.no_sync);
	}
	if (!rc)
		r->stats.chunks++;
	vs_rec_buf_reset(raw);
	return rc;
}

static int flush(struct vs_recorder *r)
{
	int rc = 0;

	r->last_flush_ns = vs_now_ns();
	if (!r->nr_buffered || r->error)
		return r->error;
	if (!r->opts.ring_bytes || r->done) {
		dict_new_stacks(r);
		if (r->dict.len)
			rc = put_chunk(r, VS_REC_CHUNK_DICT, &r->dict);
	}
	if (!rc)
		rc = put_chunk(r, VS_REC_CHUNK_EVENTS, &r->events);
	r->nr_buffered = 0;
	r->prev_ts = 0;
	r->max_ts = 0;
	if (rc)
		r->error = rc;
	return rc;
}

static void on_event(struct vs_consumer *self, const struct vs_event *ev)
{
	struct vs_recorder *r = (struct vs_recorder *)self;
	uint64_t flush_events = r->opts.flush_events ? r->opts.flush_events : 4096;

	if (r->done || r->error)
		return;
	vs_rec_put_event(&r->events, ev, &r->prev_ts);
	if (r->opts.ring_bytes)
		note_refs(r, ev);
	if (ev->ts_ns + ev->dur_ns > r->max_ts)
		r->max_ts = ev->ts_ns + ev->dur_ns;
	r->nr_buffered++;
	r->stats.events++;
	if (r->opts.nr_triggers && !r->fired)
		check_triggers(r, ev);
	if (r->nr_buffered >= flush_events)
		flush(r);
}

static int write_meta(struct vs_recorder *r)
{
	struct vs_rec_buf b = { 0 };
	int rc;

	vs_rec_put_meta(&b, &r->meta);
	rc = b.oom ? -ENOMEM
		   : vs_rec_write_chunk(r->fd, VS_REC_CHUNK_META, r->seq++, b.data, b.len,
					!r->opts.no_sync);
	vs_rec_buf_release(&b);
	return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The flight recording: meta (with what fired), every dictionary chunk,
 * then the event chunks that reach into the window. */
static int dump(struct vs_recorder *r)
{
	uint64_t from = r->fire_ts_ns > r->opts.before_ns ? r->fire_ts_ns - r->opts.before_ns : 0;
	int rc;

	if (r->fire_start_ns < from)
		from = r->fire_start_ns;
	if ((rc = flush(r)))
		return rc;
	ring_prelude(r, from);
	/* What comes after (the totals) names only what is new. */
	r->stacks_done = vs_stacks_count(r->s->stacks);
	r->done = 1;
	if ((rc = write_meta(r)) || (r->dict.len && (rc = put_chunk(r, VS_REC_CHUNK_DICT, &r->dict))))
		return rc;
	for (size_t i = 0; i < r->ring_len; i++) {
		if (r->ring[i].max_ts < from)
			continue;
		if ((rc = write_all(r->fd, r->ring[i].enc.data, r->ring[i].enc.len)))
			return rc;
	}
	return fdatasync(r->fd) ? -errno : 0;
}

int vs_recorder_tick(struct vs_recorder *r)
{
	uint64_t every = r->opts.flush_ns ? r->opts.flush_ns : VS_NSEC_PER_SEC;
	uint64_t now = vs_now_ns();

	if (r->done)
		return 0;
	if (now - r->last_flush_ns >= every && flush(r))
		return r->error;
	if (r->fired && now >= r->dump_at_ns) {
		int rc = dump(r);

		if (rc)
			r->error = rc;
		return rc;
	}
	return 0;
}

int vs_recorder_done(const struct vs_recorder *r)
{
	return r->done;
}

int vs_recorder_fired(const struct vs_recorder *r)
{
	return r->fired;
}

int vs_recorder_error(const struct vs_recorder *r)
{
	return r->error;
}

const char *vs_recorder_trigger(const struct vs_recorder *r)
{
	return r->meta.trigger;
}

struct vs_consumer *vs_recorder_consumer(struct vs_recorder *r)
{
	return &r->consumer;
}

struct vs_recorder *vs_recorder_new(struct vs_session *s, const struct vs_rec_meta *meta,
				    const struct vs_recorder_opts *opts, char *err, size_t errlen)
{
	struct vs_recorder *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->fd = -1;
	r->consumer.event = on_event;
	r->s = s;
	r->opts = *opts;
	r->meta = *meta;
	r->meta.roles.probes = NULL;
	r->meta.roles.nr_probes = 0;
	r->meta.roles.procedures = NULL;
	r->meta.roles.nr_procedures = 0;
	r->meta.ring_bytes = opts->ring_bytes;
	r->last_flush_ns = vs_now_ns();
	r->sym = vs_symbolizer_new(s->procs);
	r->names = vs_htab_new();
	r->pids = vs_htab_new();
	r->ring_pids = vs_htab_new();
	r->gen = 1;
	if (!r->sym || !r->names || !r->pids || !r->ring_pids) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->fd = open(opts->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		snprintf(err, errlen, "cannot create '%s': %s", opts->path,
			 errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		goto fail;
	}
	rc = vs_rec_write_header(r->fd);
	if (!rc && !opts->ring_bytes)
		rc = write_meta(r);
	if (rc) {
		snprintf(err, errlen, "cannot write '%s': %s", opts->path, strerror(-rc));
		goto fail;
	}
	/* A flight recorder writes once, when it fires: on its own thread. */
	if (!opts->ring_bytes && !(r->writer = vs_rec_writer_new(r->fd, !opts->no_sync, err, errlen)))
		goto fail;
	return r;
fail:
	vs_recorder_free(r);
	return NULL;
}

int vs_recorder_add_lock_stats(struct vs_recorder *r, uint64_t addr, const struct vs_lock_stats *st)
{
	/* The lock table names where each lock was first asked for. */
	if (st->first_site)
		name_once(r, r->s->target.pid, st->first_site, 0);
	vs_rec_put_lock_stats(&r->totals, addr, st);
	return r->totals.oom ? -ENOMEM : 0;
}

int vs_recorder_add_thread(struct vs_recorder *r, const struct vs_offcpu_totals *t)
{
	vs_rec_put_thread_totals(&r->totals, t);
	return r->totals.oom ? -ENOMEM : 0;
}

int vs_recorder_close(struct vs_recorder *r, uint64_t end_ns)
{
	struct vs_rec_end end = { .end_ns = end_ns, .events = r->stats.events };
	struct vs_rec_buf b = { 0 };
	int rc = r->error, wrc;
	off_t size;

	if (r->opts.ring_bytes && !r->done)
		return rc; /* never fired: nothing to keep */
	if (!rc)
		rc = flush(r);
	if (!rc)
		dict_new_stacks(r);
	if (!rc && r->dict.len)
		rc = put_chunk(r, VS_REC_CHUNK_DICT, &r->dict);
	if (!rc && r->totals.len)
		rc = put_chunk(r, VS_REC_CHUNK_TOTALS, &r->totals);
	vs_rec_put_end(&b, &end);
	if (!rc)
		rc = put_chunk(r, VS_REC_CHUNK_END, &b);
	vs_rec_buf_release(&b);
	wrc = vs_rec_writer_free(r->writer);
	r->writer = NULL;
	if (!rc)
		rc = wrc;
	if (!rc && fsync(r->fd))
		rc = -errno;
	size = lseek(r->fd, 0, SEEK_END);
	if (size >= 0)
		r->stats.bytes = (uint64_t)size;
	if (close(r->fd) && !rc)
		rc = -errno;
	r->fd = -1;
	return rc;
}

void vs_recorder_stats(const struct vs_recorder *r, struct vs_recorder_stats *st)
{
	*st = r->stats;
	if (r->fd >= 0) {
		off_t end = lseek(r->fd, 0, SEEK_END);

		if (end >= 0)
			st->bytes = (uint64_t)end;
	}
}

void vs_recorder_free(struct vs_recorder *r)
{
	if (!r)
		return;
	vs_rec_writer_free(r->writer); /* before the fd it writes to goes */
	if (r->fd >= 0)
		close(r->fd);
	vs_symbolizer_free(r->sym);
	vs_htab_free(r->names, free);
	vs_htab_free(r->pids, free);
	vs_rec_buf_release(&r->events);
	vs_rec_buf_release(&r->dict);
	vs_rec_buf_release(&r->totals);
	vs_htab_free(r->ring_pids, ring_pid_free);
	for (size_t i = 0; i < r->ring_len; i++) {
		vs_rec_buf_release(&r->ring[i].enc);
		free(r->ring[i].ids);
	}
	free(r->ring);
	free(r->refs);
	free(r->stack_gen);
	free(r);
}
