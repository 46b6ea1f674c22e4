/* Daemon profiles: what virtscope knows about a daemon, as data.
 *
 * A profile names the probe points that mark a daemon's locks, operations,
 * forks, D-Bus calls, main loop and keepalives (USDT probes where the binary
 * has them, uprobes on exported functions where it does not), how to fetch
 * each event's fields there, and the roles of its threads. Profiles are
 * text (the .profile files of collectors/profiles, built into the binary, or a file
 * given with --profile); adding a daemon means writing one, not code.
 *
 *   # comment
 *   profile NAME
 *   describe "one line"
 *   match comm|exe NAME            pick this profile for such processes
 *   match usdt PROVIDER            ... or for those carrying this provider
 *   role THREADNAME[*] ROLE        thread roles ("*" matches a prefix)
 *   require build-id BINARY HEX    memory is read through offsets (fetches
 *                                  with dereferences) only on this build
 *   job pthread-key BINARY+OFFSET  threads name their current job (a C
 *                                  string) in the pthread key stored at this
 *                                  address of BINARY (read through memory:
 *                                  only on the required builds)
 *   procedure PROG NUM NAME        names RPC procedure NUM of program PROG
 *   probe KIND at WHERE [stack] [children] [check=MASK:VALUE]
 *         [object-if-kind=NAME] [unnested] [error-if-null]
 *         [timeout-unit=us|ms] [timeout-default=MS] FIELD=FETCH...
 *
 * KIND is lock.request, lock.acquired, lock.release, lock.cond-wait (a wait
 * that gives the lock up and asks for it again), span.begin:TYPE,
 * span.end:TYPE (TYPE: rpc, dbus, caps, qmp, op, func), fork.begin, fork.end,
 * exec, loop.begin, loop.end, loop.dispatch, keepalive.sent,
 * keepalive.received, keepalive.timeout, thread.job, thread.object (the
 * object a thread works on: its name, and as addr its lock, a pthread
 * mutex, whose holder top samples), rpc.receive, rpc.dispatch or rpc.reply.
 * WHERE is usdt:BINARY:PROVIDER:NAME, uprobe:BINARY:SYMBOL[+N] or
 * uretprobe:BINARY:SYMBOL. An offset +N must land on an instruction of the
 * build the profile's build-ids name; on another build it is dropped. BINARY is "$exe", "@PROVIDER" (whichever mapped
 * file carries that USDT provider), or a file name prefix matched against
 * the target's mappings ("libvirt.so.0"). A uretprobe gets the fields its
 * function's uprobe (declared before it) fetched at entry.
 * FIELD is addr, id, result, value, timeout, aux, type, prog (numbers) or name, object,
 * kind, detail (strings: the fetch gives the string's address).
 * FETCH is $argN, $retval, %REG, a number, FETCH+N, FETCH-N, or +N(FETCH)
 * (the 8 bytes at FETCH+N; ":u32" or ":u8" after the parenthesis reads
 * fewer), as in the kernel's uprobe_events; ":s32" at the end takes the
 * value as a C int, sign and all (an int returned leaves the register's
 * upper half zero: -1 reads 4294967295 without it). check= trusts the strings only
 * when (aux & MASK) == VALUE; object-if-kind= keeps object only for that
 * kind (see bpf/probes.h). For spans: unnested drops a span begun while one
 * of its type is open on the thread (a library call another probed one
 * makes); error-if-null makes a result of 0 (a NULL reply) the error, any
 * other success; timeout-unit says what the timeout field counts (ms by
 * default), and timeout-default what a timeout of 0 means. */
#ifndef VS_PROFILE_H
#define VS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/probes.h"

#define VS_PROFILE_NAME_LEN 64
#define VS_PROFILE_MAX_ROLES 32

enum vs_where_type {
	VS_WHERE_USDT,
	VS_WHERE_UPROBE,
	VS_WHERE_URETPROBE,
};

enum vs_match_type {
	VS_MATCH_NONE,
	VS_MATCH_COMM,
	VS_MATCH_EXE,
	VS_MATCH_USDT,
};

struct vs_profile_probe {
	struct vs_probe_spec spec;
	enum vs_where_type where;
	char binary[256];   /* "$exe", "@provider" or a file name prefix */
	char provider[64];  /* USDT only */
	char name[128];     /* USDT probe name, or function symbol */
	uint64_t offset;    /* uprobes: bytes past the symbol ("SYMBOL+N") */
	int children;       /* attach in every process; BPF keeps the target's children */
	/* How user space reads a span's hits (not BPF's business): */
	int unnested;       /* span.begin: quiet, and its end too, while a span of its
			       kind is open on its thread (a library call that another
			       probed one makes on its way: sd_bus_call in
			       sd_bus_call_method) */
	int error_if_null;  /* span.end: a result of 0 (a NULL reply) is the error,
			       any other one success */
	uint32_t timeout_us; /* span.begin: the timeout field is in microseconds */
	uint64_t timeout_default_ms; /* span.begin: what a timeout of 0 means */
	int line;           /* in the profile text, for messages */
};

struct vs_profile_role {
	char thread[16];
	int prefix;
	char role[32];
};

#define VS_PROFILE_MAX_BUILD_IDS 4

struct vs_profile_build_id {
	char binary[64];
	char hex[64];
};

struct vs_profile_procedure {
	uint32_t prog, num;
	char name[48];
};

struct vs_profile {
	char name[VS_PROFILE_NAME_LEN];
	char describe[160];
	enum vs_match_type match;
	char match_value[64];
	struct vs_profile_role roles[VS_PROFILE_MAX_ROLES];
	size_t nr_roles;
	struct vs_profile_probe *probes;
	size_t nr_probes;
	struct vs_profile_build_id build_ids[VS_PROFILE_MAX_BUILD_IDS];
	size_t nr_build_ids;
	struct {
		char binary[64]; /* "" when the profile has none */
		uint64_t offset; /* of the pthread_key_t, as a virtual address in BINARY */
	} job_key;
	struct vs_profile_procedure *procedures; /* sorted by (prog, num) */
	size_t nr_procedures;
};

/* Parses profile text. 0, or -EINVAL with "LINE: reason" in err. The
 * profile is released with vs_profile_release() either way. */
int vs_profile_parse(struct vs_profile *p, const char *text, char *err, size_t errlen);
void vs_profile_release(struct vs_profile *p);

/* Compiles one FETCH expression into f; 0 or -EINVAL. */
int vs_fetch_compile(const char *expr, struct vs_fetch *f);

/* The built-in profiles, and their text by name (NULL if unknown). */
size_t vs_builtin_profile_count(void);
const char *vs_builtin_profile_name(size_t i);
const char *vs_builtin_profile_text(const char *name);

/* The name of RPC procedure num of program prog, or NULL. */
const char *vs_profile_procedure_name(const struct vs_profile *p, uint32_t prog, uint32_t num);

/* The role of a thread by its name, or NULL. */
const char *vs_profile_role_of(const struct vs_profile *p, const char *thread);

#endif
