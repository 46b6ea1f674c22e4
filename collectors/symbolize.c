/* One Dwfl per process, built from /proc/PID/maps on first use and reported
 * again, at most once a second, when an address falls outside every known
 * module: that is how libraries dlopen'ed after the first report (libvirt's
 * drivers) are found. */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "kallsyms.h"

#define UNKNOWN "[unknown]"
#define REPORT_INTERVAL_NS VS_NSEC_PER_SEC

struct proc_syms {
	uint32_t pid;
	Dwfl *dwfl;          /* NULL when the process could not be read */
	uint64_t reported_ns;
};

struct name_key {
	uint32_t pid; /* 0 for kernel addresses */
	uint32_t pad;
	uint64_t ip;
};

struct name_entry {
	struct name_key key;
	char name[];
};

struct vs_symbolizer {
	struct vs_htab *procs; /* pid -> struct proc_syms */
	struct vs_htab *names; /* struct name_key -> struct name_entry */
	struct vs_kallsyms *kallsyms;
	int kallsyms_failed;
};

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

struct vs_symbolizer *vs_symbolizer_new(void)
{
	struct vs_symbolizer *sym = calloc(1, sizeof(*sym));

	if (!sym)
		return NULL;
	sym->procs = vs_htab_new();
	sym->names = vs_htab_new();
	if (!sym->procs || !sym->names) {
		vs_symbolizer_free(sym);
		return NULL;
	}
	return sym;
}

static void proc_free(void *p)
{
	struct proc_syms *ps = p;

	if (ps->dwfl)
		dwfl_end(ps->dwfl);
	free(ps);
}

void vs_symbolizer_free(struct vs_symbolizer *sym)
{
	if (!sym)
		return;
	vs_htab_free(sym->procs, proc_free);
	vs_htab_free(sym->names, free);
	vs_kallsyms_free(sym->kallsyms);
	free(sym);
}

/* (Re)reads the process's mappings into its Dwfl. Modules already known are
 * kept by libdwfl, so their symbol tables are not loaded again. */
static int report(struct proc_syms *ps)
{
	int rc;

	ps->reported_ns = vs_now_ns();
	dwfl_report_begin(ps->dwfl);
	rc = dwfl_linux_proc_report(ps->dwfl, (pid_t)ps->pid);
	dwfl_report_end(ps->dwfl, NULL, NULL);
	return rc;
}

static struct proc_syms *proc_get(struct vs_symbolizer *sym, uint32_t pid)
{
	struct proc_syms *ps = vs_htab_get(sym->procs, &pid, sizeof(pid));

	if (ps)
		return ps;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return NULL;
	ps->pid = pid;
	ps->dwfl = dwfl_begin(&proc_callbacks);
	if (ps->dwfl && report(ps)) {
		pr_debug("cannot read the mappings of pid %u", pid);
		dwfl_end(ps->dwfl);
		ps->dwfl = NULL;
	}
	if (vs_htab_put(sym->procs, &ps->pid, sizeof(ps->pid), ps, NULL)) {
		proc_free(ps);
		return NULL;
	}
	return ps;
}

static Dwfl_Module *module_of(struct proc_syms *ps, uint64_t ip)
{
	Dwfl_Module *mod;

	if (!ps->dwfl)
		return NULL;
	mod = dwfl_addrmodule(ps->dwfl, ip);
	if (mod || vs_now_ns() - ps->reported_ns < REPORT_INTERVAL_NS)
		return mod;
	report(ps);
	return dwfl_addrmodule(ps->dwfl, ip);
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Writes the user frame's name into sb. */
static int name_user(struct proc_syms *ps, uint64_t ip, struct vs_strbuf *sb)
{
	Dwfl_Module *mod = module_of(ps, ip);
	const char *name, *modname;
	Dwarf_Addr low;
	GElf_Off off;
	GElf_Sym s;

	if (!mod)
		return vs_strbuf_adds(sb, UNKNOWN);
	name = dwfl_module_addrinfo(mod, ip, &off, &s, NULL, NULL, NULL);
	if (name)
		return vs_strbuf_adds(sb, name);
	modname = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
	return vs_strbuf_addf(sb, "%s+0x%llx", modname ? basename_of(modname) : "?",
			      (unsigned long long)(ip - low));
}

static const char *cache(struct vs_symbolizer *sym, const struct name_key *key,
			 const char *name)
{
	size_t n = strlen(name);
	struct name_entry *e = malloc(sizeof(*e) + n + 1);

	if (!e)
		return UNKNOWN;
	e->key = *key;
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
	struct proc_syms *ps;
	const char *name = UNKNOWN;

	if (!pid)
		return UNKNOWN;
	e = vs_htab_get(sym->names, &key, sizeof(key));
	if (e)
		return e->name;
	ps = proc_get(sym, pid);
	if (ps && !name_user(ps, ip, &sb))
		name = sb.buf;
	name = cache(sym, &key, name);
	vs_strbuf_release(&sb);
	return name;
}

const char *vs_symbolize_kernel(struct vs_symbolizer *sym, uint64_t ip)
{
	const char *name;

	if (!sym->kallsyms && !sym->kallsyms_failed) {
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
