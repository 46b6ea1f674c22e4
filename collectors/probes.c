/* The "probes" collector: a daemon's profile (profile.h) attached through
 * the probe engine (bpf/probes.bpf.c), its hits turned into events by
 * probe_events.c.
 *
 * The profile is the one named in the config, or found for the target:
 * first a profile matching a USDT provider that one of its mapped files
 * carries (a daemon built with probes gets USDT automatically), then one
 * matching its name. Probe points are resolved against the target's own
 * mappings, so a replaced binary or another mount namespace is attached
 * where the process really runs. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/probes.h"
#include "probes.skel.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "collector.h"
#include "elf_symbol.h"
#include "probe_events.h"
#include "probes.h"
#include "profile.h"
#include "session.h"
#include "usdt_notes.h"

/* bench/95-scale.sh: 64 clients on a busy 2-CPU host can keep the reader
 * off the CPU long enough to overflow this (and the loss is counted); 32 MiB
 * held them, but it moved the soak's RSS, so it waits for a ring that is
 * faulted in at attach. */
#define DEFAULT_RINGBUF (8u << 20)
#define DEFAULT_LOCK_MIN_NS (10 * VS_NSEC_PER_MSEC)

struct probes {
	struct probes_bpf *skel;
	struct vs_profile profile;
	int have_profile;
	struct bpf_link **links;
	size_t nr_links;
	struct ring_buffer *rb;
	struct vs_probe_events *events;
	uint64_t lost_seen;
	size_t attached;
};

/* A file the target maps, as the target sees it. */
struct mapped_file {
	char path[PATH_MAX];  /* as /proc/PID/maps shows it */
	char open[PATH_MAX];  /* a path that reaches the same inode from here */
};

static int same_inode(const char *path, uint64_t inode, unsigned int maj, unsigned int min)
{
	struct stat st;

	return !stat(path, &st) && st.st_ino == inode && major(st.st_dev) == maj &&
	       minor(st.st_dev) == min;
}

/* Calls fn for every distinct file of pid with an executable mapping, until
 * fn returns non-zero, which is returned. */
static int for_each_mapped(pid_t pid, int (*fn)(const struct mapped_file *, void *), void *arg)
{
	char line[PATH_MAX + 128], perms[8], last[PATH_MAX] = "";
	struct mapped_file *mf = malloc(sizeof(*mf));
	int rc = 0, n, lines = 0;
	FILE *f;

	if (!mf)
		return -ENOMEM;
	snprintf(line, sizeof(line), "/proc/%d/maps", (int)pid);
	f = fopen(line, "re");
	if (!f) {
		free(mf);
		return errno == ENOENT ? -ESRCH : -errno;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		uint64_t start, end, off, inode;
		unsigned int maj, min;
		char *path;

		lines++;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &start,
			   &end, perms, &off, &maj, &min, &inode, &n) < 7 || perms[2] != 'x')
			continue;
		path = line + n;
		path[strcspn(path, "\n")] = '\0';
		if (path[0] != '/' || !strcmp(path, last))
			continue;
		snprintf(last, sizeof(last), "%s", path);
		snprintf(mf->path, sizeof(mf->path), "%s", path);
		if (strstr(path, " (deleted)") || !same_inode(path, inode, maj, min))
			snprintf(mf->open, sizeof(mf->open), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
				 (int)pid, start, end);
		else
			snprintf(mf->open, sizeof(mf->open), "%s", path);
		rc = fn(mf, arg);
	}
	fclose(f);
	free(mf);
	/* No mappings at all: the process is exiting (its memory is gone
	 * before its pidfd says so). */
	return rc || lines ? rc : -ESRCH;
}

struct find_arg {
	const char *want; /* "@provider", a file name prefix, or with exact a path */
	int exact;
	char *out;
	size_t outlen;
};

static int match_file(const struct mapped_file *mf, void *arg)
{
	struct find_arg *fa = arg;
	const char *base = strrchr(mf->path, '/') + 1;
	int match;

	if (fa->exact)
		match = !strcmp(mf->path, fa->want);
	else if (fa->want[0] == '@')
		match = vs_usdt_has_provider(mf->open, fa->want + 1) == 1;
	else
		match = !strncmp(base, fa->want, strlen(fa->want));
	if (match)
		snprintf(fa->out, fa->outlen, "%s", mf->open);
	return match;
}

/* The path to attach BINARY of the profile at, for the target. libbpf
 * matches shared objects against /proc/PID/maps by path, so the path the
 * process mapped is used whenever it still names the same file. */
int vs_probes_resolve_binary(pid_t pid, const char *binary, char *out, size_t outlen)
{
	struct find_arg fa = { .want = binary, .out = out, .outlen = outlen };
	char link[64], exe[PATH_MAX];
	ssize_t n;
	int rc;

	if (strcmp(binary, "$exe")) {
		rc = for_each_mapped(pid, match_file, &fa);
		return rc == 1 ? 0 : rc == -ESRCH ? -ESRCH : -ENOENT;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	snprintf(out, outlen, "%s", link);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	fa.want = exe;
	fa.exact = 1;
	for_each_mapped(pid, match_file, &fa);
	return 0;
}

/* ---- choosing a profile ---- */

static void check_build_ids(pid_t pid, struct vs_profile *profile);

static int load_profile_text(const char *name, char **text, char *err, size_t errlen)
{
	const char *builtin = vs_builtin_profile_text(name);
	FILE *f;
	long n;

	if (builtin) {
		*text = strdup(builtin);
		return *text ? 0 : -ENOMEM;
	}
	if (!strchr(name, '/') && !strstr(name, ".profile")) {
		snprintf(err, errlen, "no built-in profile '%s'", name);
		return -ENOENT;
	}
	f = fopen(name, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read profile '%s': %s", name, strerror(errno));
		return -errno;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*text = n >= 0 && n < (1 << 20) ? malloc((size_t)n + 1) : NULL;
	if (!*text || fread(*text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(*text);
		*text = NULL;
		snprintf(err, errlen, "cannot read profile '%s'", name);
		return -EIO;
	}
	(*text)[n] = '\0';
	fclose(f);
	return 0;
}

struct provider_arg {
	const char *provider;
};

static int carries_provider(const struct mapped_file *mf, void *arg)
{
	struct provider_arg *pa = arg;

	return vs_usdt_has_provider(mf->open, pa->provider) == 1;
}

/* Does the built-in profile `name` match the target? */
static int profile_matches(const struct vs_target *t, const char *name)
{
	struct vs_profile p;
	char err[128];
	int match = 0;

	if (vs_profile_parse(&p, vs_builtin_profile_text(name), err, sizeof(err)) == 0) {
		const char *exe = strrchr(t->exe, '/');

		switch (p.match) {
		case VS_MATCH_USDT: {
			struct provider_arg pa = { p.match_value };

			match = for_each_mapped(t->pid, carries_provider, &pa) == 1 ? 2 : 0;
			break;
		}
		case VS_MATCH_COMM:
			match = !strcmp(t->comm, p.match_value);
			break;
		case VS_MATCH_EXE:
			match = exe && !strncmp(exe + 1, p.match_value, strlen(p.match_value));
			break;
		default:
			break;
		}
	}
	vs_profile_release(&p);
	return match;
}

/* A USDT match (2) beats a name match (1). */
static const char *find_profile(const struct vs_target *t)
{
	const char *best = NULL;
	int best_score = 0;

	for (size_t i = 0; i < vs_builtin_profile_count(); i++) {
		const char *name = vs_builtin_profile_name(i);
		int score = profile_matches(t, name);

		if (score > best_score) {
			best = name;
			best_score = score;
		}
	}
	return best;
}

int vs_profile_load_for(const struct vs_target *t, const char *name, struct vs_profile *p,
			char *err, size_t errlen)
{
	char *text = NULL, perr[200] = "";
	int rc;

	memset(p, 0, sizeof(*p));
	if (!name)
		name = find_profile(t);
	if (!name) {
		snprintf(err, errlen, "no profile knows process %d ('%s'): name one with --profile",
			 (int)t->pid, t->comm);
		return -ENOENT;
	}
	rc = load_profile_text(name, &text, perr, sizeof(perr));
	if (rc) {
		snprintf(err, errlen, "%s", perr);
		return rc;
	}
	rc = vs_profile_parse(p, text, perr, sizeof(perr));
	free(text);
	if (rc) {
		snprintf(err, errlen, "profile '%s': %s", name, perr);
		vs_profile_release(p);
		return rc;
	}
	check_build_ids(t->pid, p);
	pr_info("using profile '%s'", p->name);
	return 0;
}

static int choose_profile(struct vs_collector *c, struct probes *p)
{
	const struct vs_config *cfg = &c->session->config;
	int rc = vs_profile_load_for(&c->session->target, cfg->profile, &p->profile, c->error,
				     sizeof(c->error));

	if (!rc) {
		p->have_profile = 1;
		return 0;
	}
	/* A profile is optional when the probes only add to another source. */
	if (rc == -ENOENT && !cfg->profile && cfg->probe_kinds)
		return 0;
	return rc;
}

/* ---- attaching ---- */

static struct bpf_link *attach_one(struct probes *p, pid_t pid, size_t idx, const char *path)
{
	const struct vs_profile_probe *pp = &p->profile.probes[idx];
	pid_t where = pp->children ? -1 : pid;

	if (pp->where == VS_WHERE_USDT) {
		LIBBPF_OPTS(bpf_usdt_opts, uo, .usdt_cookie = idx);

		return bpf_program__attach_usdt(p->skel->progs.vs_usdt, where, path, pp->provider,
						pp->name, &uo);
	}
	LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = pp->name,
		    .retprobe = pp->where == VS_WHERE_URETPROBE, .bpf_cookie = idx);
	uint64_t offset = pp->offset, func;

	/* Resolved here where libbpf would refuse a versioned name. */
	if (!vs_elf_func_file_offset(path, pp->name, &func)) {
		uo.func_name = NULL;
		offset += func;
	}
	return bpf_program__attach_uprobe_opts(pp->where == VS_WHERE_URETPROBE
						       ? p->skel->progs.vs_uretprobe
						       : p->skel->progs.vs_uprobe,
					       where, path, offset, &uo);
}

/* Ends are attached before middles, and middles before beginnings: a call
 * whose beginning is seen then always has its end seen too. Attached in the
 * profile's order, the RPCs received while the reply probe was not yet in
 * place stayed "in flight" for as long as virtscope ran. */
static int attach_rank(uint32_t kind)
{
	switch (kind) {
	case VS_PK_SPAN_END:
	case VS_PK_RPC_REPLY:
	case VS_PK_LOCK_RELEASE:
	case VS_PK_FORK_END:
	case VS_PK_LOOP_END:
		return 0;
	case VS_PK_RPC_DISPATCH:
	case VS_PK_LOCK_ACQUIRED:
		return 1;
	default:
		return 2;
	}
}

static int attach_all(struct vs_collector *c, struct probes *p)
{
	pid_t pid = c->session->target.pid;
	char path[PATH_MAX];
	int rc;

	p->links = calloc(p->profile.nr_probes ? p->profile.nr_probes : 1, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	for (size_t n = 0; n < 3 * p->profile.nr_probes; n++) {
		size_t i = n % p->profile.nr_probes;
		const struct vs_profile_probe *pp = &p->profile.probes[i];
		struct bpf_link *link;

		if (attach_rank(pp->spec.kind) != (int)(n / p->profile.nr_probes))
			continue;

		/* A process gone makes the rest fail one by one, each with a
		 * warning: stop at the first. */
		rc = vs_probes_resolve_binary(pid, pp->binary, path, sizeof(path));
		if (rc == -ESRCH)
			return rc;
		if (rc) {
			/* A profile for any process probes what each maps. */
			if (p->profile.match == VS_MATCH_NONE)
				pr_debug("profile line %d: process %d maps no '%s'", pp->line,
					 (int)pid, pp->binary);
			else
				pr_warn("profile line %d: process %d maps no '%s'", pp->line,
					(int)pid, pp->binary);
			continue;
		}
		link = attach_one(p, pid, i, path);
		if (!link && errno == ESRCH)
			return -ESRCH;
		if (!link) {
			/* A profile may name probes a given build lacks. */
			vs_log(errno == ENOENT ? VS_LOG_INFO : VS_LOG_WARN,
			       "profile line %d: cannot attach %s in %s: %s", pp->line, pp->name,
			       path, strerror(errno));
			continue;
		}
		p->links[p->nr_links++] = link;
	}
	if (!p->nr_links && p->profile.nr_probes && !c->session->config.probe_kinds) {
		snprintf(c->error, sizeof(c->error), "no probe of profile '%s' could be attached",
			 p->profile.name);
		return -ENOENT;
	}
	return 0;
}

static int uses_memory(const struct vs_fetch *f)
{
	for (int i = 0; i < VS_PROBE_OPS; i++)
		if (f->ops[i].op >= VS_FOP_DEREF64)
			return 1;
	return 0;
}

/* Reading memory through a profile's offsets is only right on the build it
 * was made for: on any other, every fetch that dereferences is dropped, and
 * events keep their addresses and stacks but lose the names. */
static void check_build_ids(pid_t pid, struct vs_profile *profile)
{
	char path[PATH_MAX], id[128];

	for (size_t i = 0; i < profile->nr_build_ids; i++) {
		const struct vs_profile_build_id *b = &profile->build_ids[i];
		int rc = vs_probes_resolve_binary(pid, b->binary, path, sizeof(path));

		if (!rc)
			rc = vs_elf_build_id(path, id, sizeof(id));
		if (rc || strcmp(id, b->hex)) {
			pr_warn("%s here is not the build profile '%s' was made for (build-id %s, "
				"expected %s): its objects are named by address only",
				b->binary, profile->name, rc ? "unreadable" : id, b->hex);
			goto strip;
		}
	}
	return;
strip:
	profile->job_key.binary[0] = '\0';
	for (size_t i = 0; i < profile->nr_probes; i++) {
		struct vs_probe_spec *spec = &profile->probes[i].spec;

		/* An offset into a function of another build could fall in the
		 * middle of an instruction: back to the symbol itself. */
		profile->probes[i].offset = 0;
		for (int f = 0; f < VS_PROBE_NUMS; f++)
			if (uses_memory(&spec->nums[f]))
				spec->nums_mask &= ~(1u << f);
		for (int f = 0; f < VS_PROBE_STRS; f++)
			if (uses_memory(&spec->strs[f]))
				spec->strs_mask &= ~(1u << f);
		spec->check_mask = 0;
	}
}

/* Drops the probes of kinds not in mask (bit = enum vs_probe_kind). */
static int is_span(const struct vs_probe_spec *spec)
{
	return spec->kind == VS_PK_SPAN_BEGIN || spec->kind == VS_PK_SPAN_END;
}

static void keep_kinds(struct vs_profile *profile, uint32_t mask, uint32_t span_mask)
{
	size_t n = 0;

	for (size_t i = 0; i < profile->nr_probes; i++)
		if (mask & (1u << profile->probes[i].spec.kind) &&
		    (!span_mask || !is_span(&profile->probes[i].spec) ||
		     (profile->probes[i].spec.span < 32 && span_mask & (1u << profile->probes[i].spec.span))))
			profile->probes[n++] = profile->probes[i];
	profile->nr_probes = n;
	/* entry/return links referred to old indexes: none of the kept kinds
	 * (thread jobs, spans) may depend on a dropped one across the cut */
	for (size_t i = 0; i < n; i++)
		profile->probes[i].spec.flags &= ~(__u32)(VS_PF_RETURN | VS_PF_STASH);
}

static int fill_specs(struct probes *p)
{
	int fd = bpf_map__fd(p->skel->maps.specs);

	for (size_t i = 0; i < p->profile.nr_probes; i++) {
		__u32 key = (__u32)i;

		if (bpf_map_update_elem(fd, &key, &p->profile.probes[i].spec, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct probes *p = ctx;

	vs_probe_events_handle(p->events, data, size);
	return 0;
}

static int probes_start(struct vs_collector *c)
{
	const struct vs_config *cfg = &c->session->config;
	struct probes *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	c->priv = p;
	rc = choose_profile(c, p);
	if (rc)
		return rc;
	if (cfg->probe_kinds)
		keep_kinds(&p->profile, cfg->probe_kinds, cfg->span_kinds);
	if (!p->have_profile || !p->profile.nr_probes)
		return 0; /* optional and absent, or only wanted for its roles */
	p->events = vs_probe_events_new(c, &p->profile);
	p->skel = probes_bpf__open();
	if (!p->events || !p->skel) {
		snprintf(c->error, sizeof(c->error), "cannot open the probe engine: %s",
			 strerror(errno));
		return -ENOMEM;
	}
	p->skel->rodata->targ_tgid = (uint32_t)c->session->target.pid;
	p->skel->rodata->wakeup_bytes = (cfg->ringbuf_size ? cfg->ringbuf_size : DEFAULT_RINGBUF) / 8;
	p->skel->rodata->lock_min_ns = cfg->lock_min_ns ? cfg->lock_min_ns : DEFAULT_LOCK_MIN_NS;
	rc = bpf_map__set_max_entries(p->skel->maps.records,
				      cfg->ringbuf_size ? cfg->ringbuf_size : DEFAULT_RINGBUF);
	if (!rc)
		rc = probes_bpf__load(p->skel);
	if (!rc)
		rc = fill_specs(p);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "cannot load the probe engine: %s",
			 strerror(-rc));
		return rc;
	}
	rc = attach_all(c, p);
	if (rc)
		return rc;
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.records), handle_record, p, NULL);
	if (!p->rb) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the probe ring buffer: %s",
			 strerror(errno));
		return rc;
	}
	return 0;
}

static int probes_fd(struct vs_collector *c)
{
	struct probes *p = c->priv;


	return p && p->rb ? ring_buffer__epoll_fd(p->rb) : -1;
}

static int probes_poll(struct vs_collector *c)
{
	struct probes *p = c->priv;

	/* Without a profile there is no skeleton, so no lost count to read. */
	if (!p->rb)
		return 0;
	return vs_collector_consume(c, p->rb, VS_EV_SPAN_END,
				    (const uint64_t *)&p->skel->bss->lost, &p->lost_seen);
}

static void probes_stop(struct vs_collector *c)
{
	struct probes *p = c->priv;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	/* Detaching also brings every USDT semaphore back down. */
	for (size_t i = 0; i < p->nr_links; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	probes_bpf__destroy(p->skel);
	vs_probe_events_free(p->events);
	if (p->have_profile)
		vs_profile_release(&p->profile);
	free(p);
	c->priv = NULL;
}

const struct vs_profile *vs_probes_profile(const struct vs_collector *c)
{
	const struct probes *p = c->priv;

	return p && p->have_profile ? &p->profile : NULL;
}

size_t vs_probes_nr_attached(const struct vs_collector *c)
{
	const struct probes *p = c->priv;

	return p ? p->nr_links : 0;
}

int vs_probes_lock_stats(const struct vs_collector *c,
			 int (*fn)(uint64_t addr, const struct vs_lock_stats *st, void *arg), void *arg)
{
	const struct probes *p = c->priv;
	struct vs_lock_stats st;
	__u64 key, next;
	int fd, rc = 0, first = 1;

	if (!p || !p->skel)
		return -ENODEV;
	fd = bpf_map__fd(p->skel->maps.lock_stats);
	while (!rc && !bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = 0;
		key = next;
		if (!bpf_map_lookup_elem(fd, &key, &st))
			rc = fn(key, &st, arg);
	}
	return rc;
}

int vs_probes_objects(const struct vs_collector *c, uint64_t since_ns,
		      int (*fn)(const struct vs_probe_object *o, void *arg), void *arg)
{
	const struct probes *p = c->priv;

	if (!p || !p->events)
		return -ENODEV;
	return vs_probe_events_objects(p->events, since_ns, fn, arg);
}

const struct vs_collector_ops vs_probes_collector = {
	.name = "probes",
	.summary = "a daemon's locks, operations, forks, D-Bus calls, loop and keepalives, "
		   "from its profile (USDT or uprobes)",
	.start = probes_start,
	.fd = probes_fd,
	.poll = probes_poll,
	.stop = probes_stop,
};
