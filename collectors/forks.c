/* The "forks" collector: every process the target creates, what it cost
 * the parent, the call path that made it, and the child's fate (exec, or
 * exit without one), from bpf/forks.bpf.c. The scheduler's process
 * tracepoints see every fork, whatever the code path; uprobes on the
 * target's libc entry points (fork, vfork, posix_spawn[p], clone), which
 * fire only when it forks, add the parent's time in the call and a clean
 * stack. Events may come out of order between a fork and its child's exec
 * (the child can exec before the parent returns): consumers join them on
 * the child's pid (exec.root, exit.root). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../bpf/forks.h"
#include "forks.skel.h"
#include "elf_symbol.h"
#include "../lib/log.h"
#include "../lib/tracefs.h"
#include "../lib/util.h"
#include "collector.h"
#include "probes.h"
#include "session.h"

#define DEFAULT_RINGBUF (4u << 20)

struct entry_point {
	const char *symbol;
	enum vs_fork_fn fn;
	int ret; /* also a return probe: the parent's whole time in the call */
};

/* vfork and clone get no return probe: a vfork child returns on the
 * parent's stack, and a clone child never returns from clone(). */
static const struct entry_point entry_points[] = {
	{ "fork", VS_FORK_FN_FORK, 1 },
	{ "vfork", VS_FORK_FN_VFORK, 0 },
	{ "posix_spawn", VS_FORK_FN_SPAWN, 1 },
	{ "posix_spawnp", VS_FORK_FN_SPAWNP, 1 },
	{ "clone", VS_FORK_FN_CLONE, 0 },
};

/* What a fork outside those wrappers is called, when system calls are timed. */
static const char *const syscall_names[] = {
	[VS_FORK_FN_SYS_FORK] = "fork syscall",
	[VS_FORK_FN_SYS_VFORK] = "vfork syscall",
	[VS_FORK_FN_SYS_CLONE] = "clone syscall",
};

#define MAX_LINKS (2 * VS_ARRAY_SIZE(entry_points))

struct forks {
	struct forks_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[MAX_LINKS];
	size_t nr_links;
	uint64_t lost_seen;
};

static const char *fn_name(uint32_t fn)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(entry_points); i++)
		if (entry_points[i].fn == fn)
			return entry_points[i].symbol;
	return fn < VS_ARRAY_SIZE(syscall_names) ? syscall_names[fn] : NULL;
}

static void emit_fork(struct vs_collector *c, const struct vs_fork_record *r, size_t size)
{
	struct vs_event ev = { .kind = VS_EV_FORK };

	ev.pid = r->pid;
	ev.tid = r->tid;
	ev.ts_ns = r->ts_ns;
	ev.dur_ns = (r->flags & VS_FORK_F_RETURNED) ? r->ret_ns - r->ts_ns : 0;
	memcpy(ev.comm, r->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	if ((r->flags & VS_FORK_F_STACK) &&
	    size >= VS_FORK_RECORD_HDR_SIZE + sizeof(struct vs_ustack) - VS_USTACK_MAX + r->snap.len)
		ev.stack = vs_collector_stack(c, r->pid, NULL, 0, &r->snap, NULL, 0);
	ev.fork.child_pid = r->child;
	ev.fork.via = fn_name(r->fn);
	ev.fork.created_ns = r->created_ns;
	vs_collector_emit(c, &ev);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct vs_collector *c = ctx;
	const struct vs_fork_record *r = data;
	char filename[VS_FORK_FILENAME_LEN];
	struct vs_event ev = { 0 };

	if (size < VS_FORK_RECORD_HDR_SIZE)
		return 0;
	if (r->type == VS_FORK_REC_FORK) {
		emit_fork(c, r, size);
		return 0;
	}
	ev.pid = r->pid;
	ev.tid = r->tid;
	ev.ts_ns = r->created_ns;
	ev.dur_ns = r->ts_ns > r->created_ns ? r->ts_ns - r->created_ns : 0;
	memcpy(ev.comm, r->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	if (r->type == VS_FORK_REC_EXEC) {
		memcpy(filename, r->filename, sizeof(filename));
		filename[sizeof(filename) - 1] = '\0';
		ev.kind = VS_EV_EXEC;
		ev.exec.filename = filename;
		ev.exec.ppid = r->ppid;
		ev.exec.root = r->child;
	} else if (r->type == VS_FORK_REC_EXIT) {
		ev.kind = VS_EV_EXIT;
		ev.exit.status = r->status;
		ev.exit.ppid = r->ppid;
		ev.exit.root = r->child;
		ev.exit.execed = !!(r->flags & VS_FORK_F_EXECED);
	} else {
		return 0;
	}
	vs_collector_emit(c, &ev);
	return 0;
}

/* The uprobes on the target's libc, pid-filtered: other processes never
 * hit them. A libc without one of the symbols just lacks that probe. */
static int attach_entry_points(struct vs_collector *c, struct forks *f)
{
	pid_t pid = c->session->target.pid;
	char path[PATH_MAX];

	if (vs_probes_resolve_binary(pid, "libc.so.", path, sizeof(path))) {
		pr_warn("process %d maps no libc: forks are seen without their cost in the parent",
			(int)pid);
		return 0;
	}
	for (size_t i = 0; i < VS_ARRAY_SIZE(entry_points); i++) {
		const struct entry_point *e = &entry_points[i];

		uint64_t offset;
		int rc;

		/* Resolved here, not by libbpf: libc has posix_spawn twice
		 * (@GLIBC_2.2.5 and the default @@GLIBC_2.15), and libbpf
		 * took the old one, which nothing calls. */
		rc = vs_elf_func_file_offset(path, e->symbol, &offset);
		if (rc) {
			pr_info("cannot find %s in %s: %s", e->symbol, path, strerror(-rc));
			continue;
		}
		for (int ret = 0; ret <= e->ret; ret++) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .retprobe = ret, .bpf_cookie = e->fn);
			struct bpf_link *l = bpf_program__attach_uprobe_opts(
				ret ? f->skel->progs.vs_fork_return : f->skel->progs.vs_fork_enter,
				pid, path, offset, &uo);

			if (!l) {
				pr_info("cannot attach to %s in %s: %s", e->symbol, path,
					strerror(errno));
				continue;
			}
			f->links[f->nr_links++] = l;
		}
	}
	return 0;
}

/* The system-call tracepoints load only when asked for (they slow every
 * system call on the machine while attached), and need tracefs, which is
 * mounted if nothing has yet. */
static int set_syscall_programs(struct vs_collector *c, struct forks_bpf *skel, int on)
{
	struct bpf_program *progs[] = {
		skel->progs.vs_sys_enter_fork,  skel->progs.vs_sys_exit_fork,
		skel->progs.vs_sys_enter_vfork, skel->progs.vs_sys_exit_vfork,
		skel->progs.vs_sys_enter_clone, skel->progs.vs_sys_exit_clone,
		skel->progs.vs_sys_enter_clone3, skel->progs.vs_sys_exit_clone3,
	};
	int rc;

	for (size_t i = 0; i < VS_ARRAY_SIZE(progs); i++)
		bpf_program__set_autoload(progs[i], on);
	if (on && (rc = vs_tracefs_mount())) {
		snprintf(c->error, sizeof(c->error),
			 "cannot mount tracefs to time fork system calls: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static int forks_start(struct vs_collector *c)
{
	const struct vs_config *cfg = &c->session->config;
	uint32_t rb = cfg->ringbuf_size ? cfg->ringbuf_size : DEFAULT_RINGBUF;
	struct forks *f = calloc(1, sizeof(*f));
	int rc;

	if (!f)
		return -ENOMEM;
	c->priv = f;
	f->skel = forks_bpf__open();
	if (!f->skel) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the fork tracer: %s",
			 strerror(errno));
		return rc;
	}
	f->skel->rodata->targ_tgid = (uint32_t)c->session->target.pid;
	f->skel->rodata->wakeup_bytes = rb / 8;
	/* the uprobes are attached by hand, to the target's libc only */
	bpf_program__set_autoattach(f->skel->progs.vs_fork_enter, false);
	bpf_program__set_autoattach(f->skel->progs.vs_fork_return, false);
	f->skel->rodata->time_syscalls = !!cfg->fork_syscalls;
	rc = set_syscall_programs(c, f->skel, cfg->fork_syscalls);
	if (rc)
		return rc;
	rc = bpf_map__set_max_entries(f->skel->maps.records, rb);
	if (!rc)
		rc = forks_bpf__load(f->skel);
	if (!rc)
		rc = forks_bpf__attach(f->skel);
	if (rc) {
		snprintf(c->error, sizeof(c->error), "cannot start the fork tracer: %s",
			 strerror(-rc));
		return rc;
	}
	rc = attach_entry_points(c, f);
	if (rc)
		return rc;
	f->rb = ring_buffer__new(bpf_map__fd(f->skel->maps.records), handle_record, c, NULL);
	if (!f->rb) {
		rc = -errno;
		snprintf(c->error, sizeof(c->error), "cannot open the fork ring buffer: %s",
			 strerror(errno));
		return rc;
	}
	return 0;
}

static int forks_fd(struct vs_collector *c)
{
	struct forks *f = c->priv;

	return f && f->rb ? ring_buffer__epoll_fd(f->rb) : -1;
}

static int forks_poll(struct vs_collector *c)
{
	struct forks *f = c->priv;

	return vs_collector_consume(c, f->rb, VS_EV_FORK,
				    (const uint64_t *)&f->skel->bss->lost, &f->lost_seen);
}

static void forks_stop(struct vs_collector *c)
{
	struct forks *f = c->priv;

	if (!f)
		return;
	ring_buffer__free(f->rb);
	for (size_t i = 0; i < f->nr_links; i++)
		bpf_link__destroy(f->links[i]);
	forks_bpf__destroy(f->skel);
	free(f);
	c->priv = NULL;
}

const struct vs_collector_ops vs_forks_collector = {
	.name = "forks",
	.summary = "every process a daemon creates: cost in the parent, call path, "
		   "and the child's exec or exit",
	.start = forks_start,
	.fd = forks_fd,
	.poll = forks_poll,
	.stop = forks_stop,
};
