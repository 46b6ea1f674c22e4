/* The probe engine: one set of generic BPF programs (USDT, uprobe,
 * uretprobe) driven by probe specs that user space compiles from a daemon's
 * profile (collectors/profiles/). Each attached probe carries its spec's
 * index as its cookie; the spec says what the hit means (its kind) and how
 * to fetch each field: a short program over arguments, registers, constants,
 * additions and dereferences, like the kernel's uprobe_events fetch args.
 * Shared by bpf/probes.bpf.c and collectors/probes.c. */
#ifndef VS_BPF_PROBES_H
#define VS_BPF_PROBES_H

#include "ustack.h"

#define VS_PROBE_MAX 256       /* specs per session */
#define VS_PROBE_NUMS 8        /* numeric fields per record */
#define VS_PROBE_STRS 4        /* string fields per record */
#define VS_PROBE_STR_LEN 64
#define VS_PROBE_OPS 6         /* operations per fetch */
/* How much of a holder's stack is copied as it takes a lock (with --all),
 * for the hold's record: enough for the frames that took it and their
 * callers a dozen deep, at a fraction of a full snapshot's cost on every
 * acquisition. A power of two (the copy's offsets are masked with it). */
#define VS_LOCK_TAKE_STACK 1024

/* What a probe hit means; collectors/probe_events.c turns hits into events. */
enum vs_probe_kind {
	VS_PK_NONE,
	VS_PK_LOCK_REQUEST,   /* addr; kind, object */
	VS_PK_LOCK_ACQUIRED,  /* addr; kind, object */
	VS_PK_LOCK_RELEASE,   /* addr */
	VS_PK_SPAN_BEGIN,     /* id; name, object, kind, detail (per span type) */
	VS_PK_SPAN_END,       /* id, result */
	VS_PK_FORK_BEGIN,     /* name (reason) */
	VS_PK_FORK_END,       /* value (child pid) */
	VS_PK_EXEC,           /* name (path) */
	VS_PK_LOOP_BEGIN,     /* id (iteration) */
	VS_PK_LOOP_END,       /* id */
	VS_PK_LOOP_DISPATCH,  /* name (source), value (fd) */
	VS_PK_KEEPALIVE_SENT, /* addr (client), value (proc) */
	VS_PK_KEEPALIVE_RECV, /* addr (client), value (proc) */
	VS_PK_KEEPALIVE_TIMEOUT, /* addr (client), value (count to death), aux (idle s) */
	VS_PK_THREAD_JOB,     /* name: what this thread now works on ("" when done) */
	VS_PK_LOCK_COND_WAIT, /* addr: a condition wait that releases the lock and asks
				 for it again (its return probe is lock.acquired) */
	/* An RPC server: a request read (on the loop thread), picked up by a
	 * worker, and its reply queued (on the worker); each names its call by
	 * addr (client), prog, value (procedure), id (serial), type (call,
	 * reply, event...), and the reply result (status, 0 ok). */
	VS_PK_RPC_RECEIVE,
	VS_PK_RPC_DISPATCH,
	VS_PK_RPC_REPLY,
	VS_PK_THREAD_OBJECT,  /* name: the object (domain) this thread now works on */
	VS_PK_MAX,
};

/* Numeric field slots; a kind uses the ones its comment names. */
enum vs_probe_num {
	VS_PN_ADDR, VS_PN_ID, VS_PN_RESULT, VS_PN_VALUE, VS_PN_TIMEOUT, VS_PN_AUX,
	VS_PN_TYPE, VS_PN_PROG,
};

/* String field slots. */
enum vs_probe_str {
	VS_PS_NAME, VS_PS_OBJECT, VS_PS_KIND, VS_PS_DETAIL,
};

enum vs_fetch_opcode {
	VS_FOP_END = 0,
	VS_FOP_ARG,      /* push argument imm (1-based): ABI registers and stack for
			    uprobes, the note's argument spec for USDT */
	VS_FOP_RETVAL,   /* push the return value */
	VS_FOP_REG,      /* push user register imm (enum vs_ureg) */
	VS_FOP_CONST,    /* push imm */
	VS_FOP_ADD,      /* value += imm */
	VS_FOP_DEREF64,  /* value = *(u64 *)(value + imm) in user memory */
	VS_FOP_DEREF32,  /* value = *(u32 *)(value + imm) */
	VS_FOP_DEREF8,   /* value = *(u8 *)(value + imm) */
	VS_FOP_SEXT32,   /* value = (s64)(s32)value: a C int (its register's upper
			    half is not the sign) */
};

struct vs_fetch_op {
	__u8 op;
	__u8 pad[7];
	__s64 imm;
};

struct vs_fetch {
	struct vs_fetch_op ops[VS_PROBE_OPS];
};

enum vs_probe_flags {
	VS_PF_STACK = 1 << 0,  /* send a user-stack snapshot with each hit */
	VS_PF_STASH = 1 << 1,  /* an entry probe: keep its fields for its return probe */
	VS_PF_RETURN = 1 << 2, /* a return probe: start from the stash of entry_probe */
};

struct vs_probe_spec {
	__u32 kind;        /* enum vs_probe_kind */
	__u32 span;        /* for spans: enum vs_span_kind (collectors/event.h) */
	__u32 flags;       /* enum vs_probe_flags */
	__u32 entry_probe; /* for VS_PF_RETURN: the entry probe's index */
	__u32 nums_mask;   /* bit i: nums[i] is fetched */
	__u32 strs_mask;   /* bit i: strs[i] is fetched */
	/* The fetched strings are only trusted when (nums[AUX] & check_mask)
	 * == check_value (e.g. a class magic number); else they are blanked. */
	__u32 check_mask;
	__u32 check_value;
	/* When set, strs[OBJECT] is kept only if strs[KIND] is this name. */
	char object_if_kind[16];
	struct vs_fetch nums[VS_PROBE_NUMS];
	struct vs_fetch strs[VS_PROBE_STRS];
};

/* Lock probes are paired and counted in BPF, per lock, so that the hot
 * path of an uncontended lock sends nothing: only waits and holds of at
 * least the session's threshold become records. Such a record carries, for
 * lock.acquired (a wait) and lock.release (a hold):
 *   nums[ADDR] the lock, nums[VALUE] the duration, nums[TIMEOUT] its start,
 *   nums[ID] the holder when the wait began (waits), nums[AUX] the lock that
 *   holder was itself waiting for then (0: none), strs[KIND], strs[OBJECT]
 *   the lock's names as fetched when it was first seen. */
#define VS_LOCK_HIST 40 /* log2 buckets of ns: up to 2^40 ns, about 18 min */

struct vs_lock_stats {
	__u64 acquisitions;
	__u64 contended;   /* acquisitions that found the lock held */
	__u64 wait_ns;
	__u64 wait_max_ns;
	__u64 hold_ns;
	__u64 hold_max_ns;
	__u64 holds;       /* releases seen (holds measured) */
	__u32 wait_hist[VS_LOCK_HIST];
	__u32 hold_hist[VS_LOCK_HIST];
	char kind[32];
	char object[32];
	/* Where the lock was first asked for: the caller of the probed function
	 * (its return address), or the USDT probe's own site. */
	__u64 first_site;
};

/* The fetched fields of a hit; also what an entry probe keeps for its
 * return probe. */
struct vs_probe_fields {
	__u32 failed; /* bit i: nums[i] could not be fetched; bit 8+i: strs[i] */
	__u32 pad;
	__u64 nums[VS_PROBE_NUMS];
	char strs[VS_PROBE_STRS][VS_PROBE_STR_LEN];
};

/* One probe hit. Sent without the unused tail of snap.data, and without
 * snap at all unless the spec asks for a stack; then also without the
 * string fields past the last one fetched. */
struct vs_probe_record {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u32 probe; /* the spec's index */
	__u32 ppid;  /* the parent's pid, for hits in the target's children */
	char comm[16];
	struct vs_probe_fields f;
	struct vs_ustack snap; /* must stay last */
};

#define VS_PROBE_RECORD_HDR_SIZE (sizeof(struct vs_probe_record) - sizeof(struct vs_ustack))
/* Where the string fields begin: a record without a stack may end early,
 * after the last string field its probe fetches (the rest reads as empty). */
#define VS_PROBE_RECORD_STRS_OFFSET (40 + 8 + 8 * VS_PROBE_NUMS)
#define VS_PROBE_RECORD_SNAP_HDR_SIZE (VS_PROBE_RECORD_HDR_SIZE + sizeof(struct vs_ustack) - VS_USTACK_MAX)

VS_STATIC_ASSERT(sizeof(struct vs_fetch_op) == 16, "vs_fetch_op is 16 bytes");
VS_STATIC_ASSERT(sizeof(struct vs_probe_fields) ==
			 8 + 8 * VS_PROBE_NUMS + VS_PROBE_STRS * VS_PROBE_STR_LEN,
		 "vs_probe_fields has no hidden padding");
VS_STATIC_ASSERT(sizeof(struct vs_probe_record) ==
			 40 + sizeof(struct vs_probe_fields) + sizeof(struct vs_ustack),
		 "vs_probe_record has no hidden padding");
VS_STATIC_ASSERT(VS_PROBE_RECORD_STRS_OFFSET + VS_PROBE_STRS * VS_PROBE_STR_LEN ==
			 VS_PROBE_RECORD_HDR_SIZE,
		 "the string fields end the record's header");

#endif
