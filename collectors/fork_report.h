/* The fork report: forks joined with what caused them. Each fork of the
 * target is attributed to the operation in progress on its thread (an RPC
 * or operation span, else the job the thread announced, as libvirt's
 * virThreadJobSet does: "remoteDispatchDomainDefineXML" becomes
 * "DOMAIN_DEFINE_XML"), to the innermost function span around it
 * (virCommandRun...), and to a capability lookup around it; its child's
 * fate (the program it, or a descendant, exec'd, or its exit) is joined on
 * the child's pid. Events are kept and joined in vs_fork_report_finish(),
 * so their order across collectors does not matter. The same code serves
 * `virtscope forks` and replays. */
#ifndef VS_FORK_REPORT_H
#define VS_FORK_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "session.h"

#define VS_FORK_NO_OP "(no operation)"

/* Per operation. */
struct vs_fork_op_row {
	char *name;
	uint64_t ops;          /* times it ran (0 for VS_FORK_NO_OP) */
	uint64_t forks;
	uint64_t forks_timed;  /* forks whose parent-side time is known */
	uint64_t fork_ns;      /* the parent's time in fork calls */
	uint64_t execs;        /* forks whose child (or a descendant) exec'd */
	uint64_t to_exec_ns;   /* from the child's creation to that exec, summed */
	uint64_t caps;         /* capability lookups */
	uint64_t caps_ns;      /* time inside them */
	uint64_t caps_forks;   /* forks inside them */
};

/* Per call path (stacks named alike are one path). */
struct vs_fork_path_row {
	char *path;         /* leaf first, as the namer gave it; "(no stack)" */
	vs_stack_id stack;  /* one stack of this path */
	char *op;           /* the operation that made most of these forks */
	char *func;         /* the innermost function span around them, or NULL */
	char *program;      /* what their children exec'd most, or NULL */
	uint64_t forks, forks_timed, fork_ns, fork_max_ns;
};

/* Per exec'd program. */
struct vs_fork_exec_row {
	char *program;
	char *op;            /* the operation whose forks exec'd it most */
	char *func;
	uint64_t count;
	uint64_t to_exec_ns; /* from the daemon's fork (its child's creation) */
	uint64_t to_exec_max_ns;
};

/* A child that never exec'd (nor did any of its descendants). */
struct vs_fork_orphan {
	uint32_t pid, tid;    /* the child, the thread that forked it */
	char comm[VS_COMM_LEN];
	char *op, *func;
	vs_stack_id stack;
	int exited;           /* else still running at the end */
	int32_t status;       /* wait status */
	uint64_t lifetime_ns;
	uint64_t fork_ns;     /* the parent's time in the call */
};

struct vs_fork_totals {
	uint64_t forks, forks_timed, fork_ns, failed, execs, caps, caps_ns, caps_forks;
};

struct vs_fork_report;

struct vs_fork_report *vs_fork_report_new(void);
void vs_fork_report_free(struct vs_fork_report *r); /* NULL ok */
struct vs_consumer *vs_fork_report_consumer(struct vs_fork_report *r);

/* Names a stack for grouping by call path: a malloc'd string, or NULL. */
typedef char *(*vs_fork_path_fn)(vs_stack_id stack, void *arg);

/* Joins what was seen. 0 or -ENOMEM. */
int vs_fork_report_finish(struct vs_fork_report *r, vs_fork_path_fn path, void *arg);

/* The results, valid until the report is freed. Operations by forks, then
 * runs; paths by forks; programs by count; orphans in fork order. */
size_t vs_fork_report_ops(const struct vs_fork_report *r, const struct vs_fork_op_row **rows);
size_t vs_fork_report_paths(const struct vs_fork_report *r, const struct vs_fork_path_row **rows);
size_t vs_fork_report_execs(const struct vs_fork_report *r, const struct vs_fork_exec_row **rows);
size_t vs_fork_report_orphans(const struct vs_fork_report *r, const struct vs_fork_orphan **rows);
void vs_fork_report_totals(const struct vs_fork_report *r, struct vs_fork_totals *t);

/* An RPC job's procedure name: "remoteDispatchDomainDefineXML" gives
 * "DOMAIN_DEFINE_XML" (any "...Dispatch" prefix goes); a name without such
 * a prefix is copied as it is. */
void vs_fork_op_name(const char *job, char *out, size_t outlen);

#endif
