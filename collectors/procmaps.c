/* Reporting /proc/PID/maps to libdwfl, one Dwfl per process. */
#include "procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../lib/htab.h"
#include "../lib/log.h"
#include "../lib/util.h"

#define REFRESH_INTERVAL_NS (50 * VS_NSEC_PER_MSEC)
/* A process that has exited keeps its Dwfl while its stacks may still be
 * named (the recorder names each stack within a second of taking it); then
 * it is dropped. Every client that wakes the daemon, every child it forks,
 * has one: kept for ever, their libraries' pages grew virtscope's memory by
 * megabytes a second under load. */
#define DEAD_KEEP_NS (30 * VS_NSEC_PER_SEC)
#define SWEEP_INTERVAL_NS (5 * VS_NSEC_PER_SEC)

struct vs_proc {
	struct vs_procs *procs;
	uint32_t pid;
	uint32_t parent; /* 0, or whose mappings stand in when ours are gone */
	Dwfl *dwfl;
	struct vs_proc *same_as; /* whose Dwfl serves for ours: the same modules
				    at the same addresses */
	uint64_t digest;         /* of the mappings its Dwfl was built from */
	uint64_t refreshed_ns;
	uint64_t used_ns;        /* last asked for */
};

struct vs_procs {
	struct vs_htab *by_pid; /* pid -> struct vs_proc, NULL value: unreadable */
	struct vs_htab *by_digest; /* maps digest -> the vs_proc with that Dwfl */
	uint64_t swept_ns;
	uint64_t generation; /* Dwfls dropped so far */
	int vdso_fd;            /* a memfd holding this kernel's vDSO, or -1 */
	uint64_t vdso_size;
};

/* Where debug files are looked for, in elfutils' syntax ("+:.debug:DIR...",
 * see dwfl_standard_find_debuginfo); NULL means its default, /usr/lib/debug.
 * VIRTSCOPE_DEBUGINFO_PATH overrides it, for debug files kept elsewhere. */
static char *debuginfo_path;

/* Modules are reported with an fd of their own, so find_elf is only asked
 * for the debug files that find_debuginfo looks up. */
static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* Copies virtscope's own vDSO into a memfd; the kernel maps the same image
 * into every 64-bit process, so it stands for the target's. */
static void load_vdso(struct vs_procs *procs)
{
	unsigned long base = getauxval(AT_SYSINFO_EHDR);
	char line[512];
	FILE *f;

	procs->vdso_fd = -1;
	if (!base)
		return;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && start == base &&
		    strstr(line, "[vdso]")) {
			procs->vdso_size = end - start;
			break;
		}
	}
	fclose(f);
	if (!procs->vdso_size)
		return;
	procs->vdso_fd = memfd_create("virtscope-vdso", MFD_CLOEXEC);
	if (procs->vdso_fd >= 0 &&
	    write(procs->vdso_fd, (const void *)base, procs->vdso_size) != (ssize_t)procs->vdso_size) {
		close(procs->vdso_fd);
		procs->vdso_fd = -1;
	}
}

struct vs_procs *vs_procs_new(void)
{
	struct vs_procs *procs = calloc(1, sizeof(*procs));

	if (!procs)
		return NULL;
	debuginfo_path = getenv("VIRTSCOPE_DEBUGINFO_PATH");
	procs->by_pid = vs_htab_new();
	procs->by_digest = vs_htab_new();
	if (!procs->by_pid || !procs->by_digest) {
		vs_htab_free(procs->by_pid, NULL);
		vs_htab_free(procs->by_digest, NULL);
		free(procs);
		return NULL;
	}
	load_vdso(procs);
	return procs;
}

static void proc_free(void *p)
{
	struct vs_proc *proc = p;

	if (!proc)
		return;
	if (proc->dwfl)
		dwfl_end(proc->dwfl);
	free(proc);
}

void vs_procs_free(struct vs_procs *procs)
{
	if (!procs)
		return;
	vs_htab_free(procs->by_digest, NULL);
	vs_htab_free(procs->by_pid, proc_free);
	if (procs->vdso_fd >= 0)
		close(procs->vdso_fd);
	free(procs);
}

struct mapping {
	uint64_t start, end, offset;
	uint64_t inode;
	unsigned int dev_major, dev_minor;
	int exec;
	char path[4096];
};

static int parse_line(const char *line, struct mapping *m)
{
	char perms[8];
	int n = 0;

	m->path[0] = '\0';
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n", &m->start,
		   &m->end, perms, &m->offset, &m->dev_major, &m->dev_minor, &m->inode, &n) < 7)
		return -EINVAL;
	m->exec = perms[2] == 'x';
	snprintf(m->path, sizeof(m->path), "%s", line + n);
	m->path[strcspn(m->path, "\n")] = '\0';
	return 0;
}

/* A digest of pid's executable file mappings (where, which file, which
 * path); 0 when they cannot be read. */
static uint64_t maps_digest(uint32_t pid)
{
	struct mapping *m = malloc(sizeof(*m));
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	char path[64], line[4400];
	int any = 0;
	FILE *f;

	if (!m)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (parse_line(line, m) || !m->exec || (m->path[0] != '/' && strcmp(m->path, "[vdso]")))
			continue;
		h = vs_hash_bytes(&m->start, sizeof(m->start), h);
		h = vs_hash_bytes(&m->inode, sizeof(m->inode), h);
		h = vs_hash_bytes(m->path, strlen(m->path), h);
		any = 1;
	}
	if (f)
		fclose(f);
	free(m);
	return any && h ? h : 0;
}

static int is_deleted(char *path)
{
	size_t n = strlen(path);

	if (n > 10 && !strcmp(path + n - 10, " (deleted)")) {
		path[n - 10] = '\0';
		return 1;
	}
	return 0;
}

static int same_inode(const char *path, const struct mapping *m)
{
	struct stat st;

	return !stat(path, &st) && st.st_ino == m->inode && major(st.st_dev) == m->dev_major &&
	       minor(st.st_dev) == m->dev_minor;
}

/* Opens the file behind mapping m the way the process sees it. The plain
 * path is preferred when it is the same inode, because debug files are
 * looked up relative to it (debuglink). */
static int open_mapped(uint32_t pid, const struct mapping *m, int deleted, char *used,
		       size_t usedlen)
{
	int fd;

	if (!deleted && same_inode(m->path, m)) {
		snprintf(used, usedlen, "%s", m->path);
	} else {
		snprintf(used, usedlen, "/proc/%u/root%s", pid, m->path);
		if (deleted || !same_inode(used, m))
			snprintf(used, usedlen, "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid,
				 m->start, m->end);
	}
	fd = open(used, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void report_file(struct vs_procs *procs, struct vs_proc *proc, struct mapping *first,
			uint64_t exec_start)
{
	char used[4200];
	int deleted, fd;

	if (dwfl_addrmodule(proc->dwfl, exec_start))
		return; /* reported by an earlier pass */
	if (!strcmp(first->path, "[vdso]")) {
		if (procs->vdso_fd < 0)
			return;
		fd = dup(procs->vdso_fd);
		snprintf(used, sizeof(used), "[vdso]");
	} else {
		deleted = is_deleted(first->path);
		fd = open_mapped(proc->pid, first, deleted, used, sizeof(used));
	}
	if (fd < 0) {
		pr_debug("pid %u: cannot open %s: %s", proc->pid, first->path, strerror(-fd));
		return;
	}
	/* On success libdwfl owns fd; base is where the file's first page
	 * is mapped. */
	if (!dwfl_report_elf(proc->dwfl, first->path, used, fd, first->start - first->offset,
			     false)) {
		pr_debug("pid %u: %s: %s", proc->pid, first->path, dwfl_errmsg(-1));
		close(fd);
	}
}

/* Reports every file with an executable mapping. A file's mappings are
 * consecutive in /proc/PID/maps, lowest (offset 0) first. */
static int refresh(struct vs_procs *procs, struct vs_proc *proc)
{
	struct mapping *m = malloc(2 * sizeof(*m)), *first, *cur;
	uint64_t exec_start = 0;
	char path[64], line[4400];
	int have_first = 0;
	FILE *f;

	if (!m)
		return -ENOMEM;
	first = &m[0];
	cur = &m[1];
	proc->refreshed_ns = vs_now_ns();
	snprintf(path, sizeof(path), "/proc/%u/maps", proc->pid);
	f = fopen(path, "re");
	if (!f) {
		free(m);
		return -errno;
	}
	dwfl_report_begin_add(proc->dwfl);
	while (fgets(line, sizeof(line), f)) {
		if (parse_line(line, cur) || (cur->path[0] != '/' && strcmp(cur->path, "[vdso]")))
			continue;
		if (!have_first || strcmp(cur->path, first->path) || cur->inode != first->inode) {
			if (have_first && exec_start)
				report_file(procs, proc, first, exec_start);
			*first = *cur;
			have_first = 1;
			exec_start = 0;
		}
		if (cur->exec && !exec_start)
			exec_start = cur->start;
	}
	if (have_first && exec_start)
		report_file(procs, proc, first, exec_start);
	dwfl_report_end(proc->dwfl, NULL, NULL);
	fclose(f);
	free(m);
	return 0;
}

static struct vs_proc *proc_new(struct vs_procs *procs, uint32_t pid)
{
	struct vs_proc *proc = calloc(1, sizeof(*proc));

	if (!proc)
		return NULL;
	proc->procs = procs;
	proc->pid = pid;
	if (vs_htab_put(procs->by_pid, &proc->pid, sizeof(proc->pid), proc, NULL)) {
		free(proc);
		return NULL;
	}
	return proc;
}

int vs_procs_set_parent(struct vs_procs *procs, uint32_t pid, uint32_t parent)
{
	struct vs_proc *proc = vs_htab_get(procs->by_pid, &pid, sizeof(pid));

	if (!proc && !(proc = proc_new(procs, pid)))
		return -ENOMEM;
	proc->parent = parent;
	return 0;
}

static int exited(uint32_t pid)
{
	return kill((pid_t)pid, 0) && errno == ESRCH;
}

/* Drops the Dwfls of processes that exited and were not asked for lately. */
static void sweep(struct vs_procs *procs, uint64_t now)
{
	const void *key;
	size_t pos = 0, len;
	void *val;

	procs->swept_ns = now;
	while (vs_htab_next(procs->by_pid, &pos, &key, &len, &val)) {
		struct vs_proc *proc = val;

		if (!proc->dwfl || now - proc->used_ns < DEAD_KEEP_NS || !exited(proc->pid))
			continue;
		if (proc->digest)
			vs_htab_del(procs->by_digest, &proc->digest, sizeof(proc->digest));
		dwfl_end(proc->dwfl);
		proc->dwfl = NULL;
		proc->digest = 0;
		procs->generation++;
	}
}

struct vs_proc *vs_procs_get(struct vs_procs *procs, uint32_t pid)
{
	struct vs_proc *proc = vs_htab_get(procs->by_pid, &pid, sizeof(pid));
	uint64_t now = vs_now_ns();

	if (now - procs->swept_ns >= SWEEP_INTERVAL_NS)
		sweep(procs, now);
	if (!proc && !(proc = proc_new(procs, pid)))
		return NULL;
	proc->used_ns = now;
	/* An alias of a dropped twin is dropped with it. */
	if (proc->same_as && !proc->same_as->dwfl)
		proc->same_as = NULL;
	if (proc->same_as) {
		proc->same_as->used_ns = now;
		return proc->same_as;
	}
	/* Read once: a pid seen before is known, or known to be unreadable. */
	if (!proc->dwfl && !proc->refreshed_ns) {
		uint64_t digest = maps_digest(pid);
		struct vs_proc *twin = digest ? vs_htab_get(procs->by_digest, &digest,
							    sizeof(digest)) : NULL;

		/* A daemon's forked children, until they exec, map what it
		 * maps where it maps it: one Dwfl serves them all, rather than
		 * a copy of every library (and its pages) per child. */
		if (twin) {
			proc->same_as = twin;
			return twin;
		}
		proc->dwfl = dwfl_begin(&callbacks);
		if (proc->dwfl && refresh(procs, proc)) {
			dwfl_end(proc->dwfl);
			proc->dwfl = NULL;
		}
		proc->refreshed_ns = proc->refreshed_ns ? proc->refreshed_ns : 1;
		proc->digest = digest;
		if (proc->dwfl && digest &&
		    vs_htab_put(procs->by_digest, &proc->digest, sizeof(proc->digest), proc, NULL))
			proc->digest = 0; /* out of memory: it just is not shared */
	}
	if (proc->dwfl)
		return proc;
	return proc->parent && proc->parent != pid ? vs_procs_get(procs, proc->parent) : NULL;
}

Dwfl_Module *vs_proc_module(struct vs_proc *proc, uint64_t ip)
{
	Dwfl_Module *mod = dwfl_addrmodule(proc->dwfl, ip);

	if (mod || vs_now_ns() - proc->refreshed_ns < REFRESH_INTERVAL_NS)
		return mod;
	/* A process that has exited keeps the modules it had. */
	if (refresh(proc->procs, proc))
		return NULL;
	return dwfl_addrmodule(proc->dwfl, ip);
}

uint64_t vs_procs_generation(const struct vs_procs *procs)
{
	return procs->generation;
}

Dwfl *vs_proc_dwfl(struct vs_proc *proc)
{
	return proc->dwfl;
}

uint32_t vs_proc_pid(const struct vs_proc *proc)
{
	return proc->pid;
}
