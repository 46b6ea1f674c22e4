/* Symbolization with a per-(pid, address) name cache. */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "fde_index.h"
#include "kallsyms.h"

#define UNKNOWN "[unknown]"

struct name_key {
	uint32_t pid; /* 0 for kernel addresses */
	uint32_t pad;
	uint64_t ip;
};

struct name_entry {
	struct name_key key;
	uint64_t epoch; /* the symbolizer's epoch when it was last looked up */
	char name[];
};

struct vs_symbolizer {
	struct vs_procs *procs;
	struct vs_fde_index *fdes; /* keyed by Dwfl_Module pointers */
	uint64_t fdes_generation;  /* the procs' generation they belong to */
	struct vs_htab *names; /* struct name_key -> struct name_entry */
	struct vs_kallsyms *kallsyms;
	int kallsyms_failed;
	uint64_t misses;
	uint64_t epoch;
};

struct vs_symbolizer *vs_symbolizer_new(struct vs_procs *procs)
{
	struct vs_symbolizer *sym = calloc(1, sizeof(*sym));

	if (!sym)
		return NULL;
	sym->procs = procs;
	sym->fdes_generation = procs ? vs_procs_generation(procs) : 0;
	sym->names = vs_htab_new();
	sym->fdes = vs_fde_index_new();
	if (!sym->names || !sym->fdes) {
		vs_symbolizer_free(sym);
		return NULL;
	}
	return sym;
}

void vs_symbolizer_free(struct vs_symbolizer *sym)
{
	if (!sym)
		return;
	vs_htab_free(sym->names, free);
	vs_fde_index_free(sym->fdes);
	vs_kallsyms_free(sym->kallsyms);
	free(sym);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "module+0xOFFSET", the offset being the ELF address in the module. */
static int name_by_address(Dwfl_Module *mod, uint64_t addr, struct vs_strbuf *sb)
{
	const char *modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	Dwarf_Addr bias = 0;

	if (!dwfl_module_getelf(mod, &bias))
		bias = 0;
	return vs_strbuf_addf(sb, "%s+0x%llx", modname ? basename_of(modname) : "?",
			      (unsigned long long)(addr - bias));
}

static int name_user(struct vs_symbolizer *sym, struct vs_proc *proc, uint64_t ip,
		     struct vs_strbuf *sb)
{
	Dwfl_Module *mod = vs_proc_module(proc, ip);
	uint64_t fde_start = 0;
	const char *name;
	GElf_Off off = 0;
	GElf_Sym s;
	int have_fde;

	if (!mod)
		return vs_strbuf_adds(sb, UNKNOWN);
	name = dwfl_module_addrinfo(mod, ip, &off, &s, NULL, NULL, NULL);
	/* A dropped Dwfl's modules are freed, and their addresses reused. */
	if (sym->fdes_generation != vs_procs_generation(sym->procs)) {
		struct vs_fde_index *fresh = vs_fde_index_new();

		if (fresh) {
			vs_fde_index_free(sym->fdes);
			sym->fdes = fresh;
			sym->fdes_generation = vs_procs_generation(sym->procs);
		}
	}
	have_fde = sym->fdes_generation == vs_procs_generation(sym->procs) &&
		   !vs_fde_start(sym->fdes, mod, ip, &fde_start);
	/* Trust a symbol whose size covers ip, or a sizeless one that starts
	 * exactly where ip's function starts. */
	if (name && (s.st_size ? off < s.st_size : have_fde && ip - off == fde_start))
		return vs_strbuf_add(sb, name, strcspn(name, "@"));
	return name_by_address(mod, have_fde ? fde_start : ip, sb);
}

static const char *cache(struct vs_symbolizer *sym, const struct name_key *key,
			 const char *name)
{
	size_t n = strlen(name);
	struct name_entry *e = malloc(sizeof(*e) + n + 1);

	if (!e)
		return UNKNOWN;
	e->key = *key;
	e->epoch = sym->epoch;
	memcpy(e->name, name, n + 1);
	if (vs_htab_put(sym->names, &e->key, sizeof(e->key), e, NULL)) {
		free(e);
		return UNKNOWN;
	}
	return e->name;
}

const char *vs_symbolize_user(struct vs_symbolizer *sym, uint32_t pid, uint64_t ip)
{
	struct name_key key = { .pid = pid, .ip = ip };
	struct vs_strbuf sb = { 0 };
	struct name_entry *e;
	struct vs_proc *proc;
	const char *name = UNKNOWN;

	if (!pid)
		return UNKNOWN;
	e = vs_htab_get(sym->names, &key, sizeof(key));
	if (e) {
		e->epoch = sym->epoch;
		return e->name;
	}
	sym->misses++;
	if (!sym->procs)
		return UNKNOWN;
	proc = vs_procs_get(sym->procs, pid);
	if (proc && !name_user(sym, proc, ip, &sb) && sb.buf)
		name = sb.buf;
	name = cache(sym, &key, name);
	vs_strbuf_release(&sb);
	return name;
}

size_t vs_symbolizer_forget_before(struct vs_symbolizer *sym, uint64_t epoch)
{
	size_t pos = 0, n = 0, forgotten = 0, cap = 0;
	struct name_entry **doomed = NULL, *e;
	const void *key;
	size_t len;
	void *val;

	/* Collected first: the table must not change while it is walked. */
	while (vs_htab_next(sym->names, &pos, &key, &len, &val)) {
		e = val;
		if (e->epoch >= epoch)
			continue;
		if (n == cap) {
			size_t c = cap ? 2 * cap : 256;
			struct name_entry **p = realloc(doomed, c * sizeof(*p));

			if (!p)
				break; /* the rest stays cached: harmless */
			doomed = p;
			cap = c;
		}
		doomed[n++] = e;
	}
	for (size_t i = 0; i < n; i++) {
		if (vs_htab_del(sym->names, &doomed[i]->key, sizeof(doomed[i]->key)) == doomed[i]) {
			free(doomed[i]);
			forgotten++;
		}
	}
	free(doomed);
	return forgotten;
}

void vs_symbolizer_set_epoch(struct vs_symbolizer *sym, uint64_t epoch)
{
	sym->epoch = epoch;
}

uint64_t vs_symbolizer_misses(const struct vs_symbolizer *sym)
{
	return sym->misses;
}

int vs_symbolizer_add_name(struct vs_symbolizer *sym, uint32_t pid, uint64_t ip,
			   const char *name)
{
	struct name_key key = { .pid = pid, .ip = ip };

	size_t n = strlen(name);
	struct name_entry *e;

	if (vs_htab_get(sym->names, &key, sizeof(key)))
		return 0;
	e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return -ENOMEM;
	e->key = key;
	e->epoch = sym->epoch;
	memcpy(e->name, name, n + 1);
	if (vs_htab_put(sym->names, &e->key, sizeof(e->key), e, NULL)) {
		free(e);
		return -ENOMEM;
	}
	return 0;
}

const char *vs_symbolize_kernel(struct vs_symbolizer *sym, uint64_t ip)
{
	const char *name;

	if (!sym->procs) {
		struct name_key key = { .pid = 0, .ip = ip };
		struct name_entry *e = vs_htab_get(sym->names, &key, sizeof(key));

		return e ? e->name : UNKNOWN;
	}
	if (!sym->kallsyms && !sym->kallsyms_failed) {
		sym->misses++;
		sym->kallsyms = vs_kallsyms_load(NULL);
		if (!sym->kallsyms) {
			pr_warn("cannot read kernel symbols from /proc/kallsyms: %s",
				strerror(errno));
			sym->kallsyms_failed = 1;
		}
	}
	if (!sym->kallsyms)
		return UNKNOWN;
	name = vs_kallsyms_lookup(sym->kallsyms, ip);
	return name ? name : UNKNOWN;
}
