// SPDX-License-Identifier: GPL-2.0
/* Forks of the target and what became of each child (see forks.h). A fork
 * through a probed libc entry point is sent when the call returns in the
 * parent, so that one record carries the whole parent-side cost; a vfork
 * when its child execs or exits, which is when the parent goes on; a raw
 * fork, vfork or clone system call at its exit when system calls are timed,
 * else when the child is created. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "forks.h"
#include "ustack.bpf.h"
#include "uret.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000
#define CLONE_THREAD 0x00010000
#define SIGNAL_GROUP_EXIT 0x00000004

const volatile __u32 targ_tgid = 0;
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile bool time_syscalls = false;

__u64 lost = 0;

/* A descendant of the target. */
struct tracked {
	__u64 created_ns;
	__u32 root;   /* the target's child it descends from */
	__u32 ppid;
	__u32 execed;
	__u32 vfork_tid; /* the target's thread held in vfork() until this child execs or exits */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct tracked);
} tracked SEC(".maps");

/* Per thread of the target inside a probed fork call: the record being
 * built, sent at the call's return. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct vs_fork_record);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_fork_record);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

static __always_inline void send(struct vs_fork_record *r)
{
	__u64 size = VS_FORK_RECORD_HDR_SIZE;

	if (r->flags & VS_FORK_F_STACK) {
		size += sizeof(struct vs_ustack) - VS_USTACK_MAX + r->snap.len;
		if (size > sizeof(*r))
			size = sizeof(*r);
	}
	if (bpf_ringbuf_output(&records, r, size,
			       bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				       ? BPF_RB_FORCE_WAKEUP
				       : BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&lost, 1);
}

/* A clean record in the per-CPU scratch space: a template for the calls
 * map, or a record sent at once. */
static __always_inline struct vs_fork_record *fresh_record(__u32 type)
{
	__u32 zero = 0;
	struct vs_fork_record *r = bpf_map_lookup_elem(&scratch, &zero);

	if (!r)
		return NULL;
	__builtin_memset(r, 0, VS_FORK_RECORD_HDR_SIZE);
	r->snap.len = 0;
	r->snap.flags = 0;
	r->type = type;
	return r;
}

/* The parent's stack, as the user registers say it is now. */
static __always_inline void take_stack(struct vs_fork_record *r, struct pt_regs *uregs)
{
	vs_snapshot_user(&r->snap, uregs);
	vs_mend_uret(&r->snap);
	r->flags |= VS_FORK_F_STACK;
}

/* ---- the libc entry points (attached for the target only) ---- */

/* Opens thread tid's call of fn: the record its end sends, with the
 * caller's stack as uregs say it is. */
static __always_inline void open_call(__u32 tid, __u32 fn, struct pt_regs *uregs)
{
	struct vs_fork_record *r = fresh_record(VS_FORK_REC_FORK), *c;

	if (!r)
		return;
	/* Inserted first, then filled in place: the record is too big to
	 * build twice. */
	if (bpf_map_update_elem(&calls, &tid, r, BPF_ANY)) {
		__sync_fetch_and_add(&lost, 1); /* too many forks in flight at once */
		return;
	}
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c)
		return;
	c->ts_ns = bpf_ktime_get_ns();
	c->pid = targ_tgid;
	c->tid = tid;
	c->fn = fn;
	bpf_get_current_comm(c->comm, sizeof(c->comm));
	if (uregs)
		take_stack(c, uregs);
}

SEC("uprobe")
int vs_fork_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (id >> 32 != targ_tgid)
		return 0;
	/* At entry the return probe has not yet rewritten the return
	 * address: this is the one clean view of the caller's frames. */
	open_call((__u32)id, (__u32)bpf_get_attach_cookie(ctx), ctx);
	return 0;
}

SEC("uretprobe")
int vs_fork_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct vs_fork_record *c;

	/* The child of fork() returns here too, in another process. */
	if (id >> 32 != targ_tgid)
		return 0;
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c)
		return 0;
	c->ret_ns = bpf_ktime_get_ns();
	c->status = (__s32)PT_REGS_RC(ctx);
	c->flags |= VS_FORK_F_RETURNED;
	send(c);
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

/* ---- the scheduler's process events ---- */

static __always_inline int is_syscall_fn(__u32 fn)
{
	return fn == VS_FORK_FN_SYS_FORK || fn == VS_FORK_FN_SYS_VFORK || fn == VS_FORK_FN_SYS_CLONE;
}

/* The call's end is seen: its return, or its system call's exit. */
static __always_inline int end_is_seen(__u32 fn)
{
	return fn == VS_FORK_FN_FORK || fn == VS_FORK_FN_SPAWN || fn == VS_FORK_FN_SPAWNP ||
	       is_syscall_fn(fn) || (fn == VS_FORK_FN_CLONE && time_syscalls);
}

/* The target itself made a process. */
static __always_inline void target_forked(struct task_struct *parent, __u32 child, __u64 now)
{
	__u32 tid = parent->pid;
	struct vs_fork_record *c = bpf_map_lookup_elem(&calls, &tid), *r;
	struct pt_regs uregs;

	if (c && end_is_seen(c->fn) && !c->child) {
		c->child = child;
		c->created_ns = now;
		return; /* sent at the call's return */
	}
	if (c) {
		/* an entry point without a return probe: its entry is known */
		c->child = child;
		c->created_ns = now;
		if (c->fn == VS_FORK_FN_VFORK) {
			struct tracked *t = bpf_map_lookup_elem(&tracked, &child);

			if (t) {
				t->vfork_tid = tid; /* sent when the child lets it go */
				return;
			}
		}
		send(c);
		bpf_map_delete_elem(&calls, &tid);
		return;
	}
	r = fresh_record(VS_FORK_REC_FORK);
	if (!r)
		return;
	r->ts_ns = now;
	r->pid = targ_tgid;
	r->tid = tid;
	r->fn = VS_FORK_FN_NONE;
	r->child = child;
	r->created_ns = now;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), parent->comm);
	if (!vs_current_user_regs(&uregs))
		take_stack(r, &uregs);
	send(r);
}

/* A vfork() child that execs or exits lets its parent go: the parent's time
 * in the call ends there (its return cannot be probed: the child returns on
 * the parent's stack first). Sent before the child's own record. */
static __always_inline void vfork_released(struct tracked *t, __u32 child, __u64 now)
{
	__u32 tid = t->vfork_tid;
	struct vs_fork_record *c;

	if (!tid)
		return;
	t->vfork_tid = 0;
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c || c->child != child)
		return;
	c->ret_ns = now;
	c->status = (__s32)child;
	c->flags |= VS_FORK_F_RETURNED;
	send(c);
	bpf_map_delete_elem(&calls, &tid);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vs_fork_created, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, cpid = child->pid;
	struct tracked t = {}, *pt;
	__u64 now;

	if (child->tgid != cpid) {
		/* A thread, not a process. An entry point without a return
		 * probe (clone) may have made it: that call is over. */
		if (ptgid == targ_tgid) {
			__u32 tid = parent->pid;
			struct vs_fork_record *c = bpf_map_lookup_elem(&calls, &tid);

			if (c && !end_is_seen(c->fn))
				bpf_map_delete_elem(&calls, &tid);
		}
		return 0;
	}
	now = bpf_ktime_get_ns();
	if (ptgid == targ_tgid) {
		t.root = cpid;
	} else {
		pt = bpf_map_lookup_elem(&tracked, &ptgid);
		if (!pt)
			return 0;
		t.root = pt->root;
	}
	t.created_ns = now;
	t.ppid = ptgid;
	/* A child not tracked is a child whose exec or exit goes unseen. */
	if (bpf_map_update_elem(&tracked, &cpid, &t, BPF_ANY))
		__sync_fetch_and_add(&lost, 1);
	if (ptgid == targ_tgid)
		target_forked(parent, cpid, now);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vs_fork_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct tracked *t = bpf_map_lookup_elem(&tracked, &tgid);
	struct vs_fork_record *r;

	__u64 now = bpf_ktime_get_ns();

	if (!t)
		return 0;
	t->execed = 1;
	vfork_released(t, tgid, now);
	r = fresh_record(VS_FORK_REC_EXEC);
	if (!r)
		return 0;
	r->ts_ns = now;
	r->pid = tgid;
	r->tid = p->pid;
	r->child = t->root;
	r->ppid = t->ppid;
	r->created_ns = t->created_ns;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), p->comm);
	bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), BPF_CORE_READ(bprm, filename));
	send(r);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vs_fork_exit, struct task_struct *p, bool group_dead)
{
	__u32 tgid = p->tgid;
	struct tracked *t;
	struct vs_fork_record *r;
	struct signal_struct *sig;
	__u64 now;

	/* Only the process's last thread ends the process. */
	if (!group_dead || (p->flags & PF_KTHREAD))
		return 0;
	t = bpf_map_lookup_elem(&tracked, &tgid);
	if (!t)
		return 0;
	now = bpf_ktime_get_ns();
	vfork_released(t, tgid, now);
	r = fresh_record(VS_FORK_REC_EXIT);
	if (r) {
		sig = p->signal;
		r->ts_ns = now;
		r->pid = tgid;
		r->tid = p->pid;
		r->child = t->root;
		r->ppid = t->ppid;
		r->created_ns = t->created_ns;
		r->status = BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT
				    ? BPF_CORE_READ(sig, group_exit_code)
				    : p->exit_code;
		r->flags = t->execed ? VS_FORK_F_EXECED : 0;
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), p->comm);
		send(r);
	}
	bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}

/* ---- the fork system calls (only when time_syscalls) ---- */

static __always_inline int syscall_enter(__u32 fn, __u64 clone_flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct vs_fork_record *c;
	struct pt_regs uregs;

	if (id >> 32 != targ_tgid)
		return 0;
	c = bpf_map_lookup_elem(&calls, &tid);
	if (clone_flags & CLONE_THREAD) {
		/* a thread: clone() was not forking after all */
		if (c && c->fn == VS_FORK_FN_CLONE)
			bpf_map_delete_elem(&calls, &tid);
		return 0;
	}
	if (c)
		return 0; /* inside a wrapper, timed from its entry */
	open_call(tid, fn, vs_current_user_regs(&uregs) ? NULL : &uregs);
	return 0;
}

static __always_inline int syscall_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct vs_fork_record *c;

	/* a child returns from the call too, in another process */
	if (id >> 32 != targ_tgid)
		return 0;
	c = bpf_map_lookup_elem(&calls, &tid);
	if (!c || !(is_syscall_fn(c->fn) || c->fn == VS_FORK_FN_CLONE))
		return 0;
	if (!c->child && ret >= 0) {
		bpf_map_delete_elem(&calls, &tid); /* it made a thread */
		return 0;
	}
	c->ret_ns = bpf_ktime_get_ns();
	c->status = (__s32)ret;
	c->flags |= VS_FORK_F_RETURNED;
	send(c);
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fork")
int vs_sys_enter_fork(struct trace_event_raw_sys_enter *ctx)
{
	return syscall_enter(VS_FORK_FN_SYS_FORK, 0);
}

SEC("tracepoint/syscalls/sys_enter_vfork")
int vs_sys_enter_vfork(struct trace_event_raw_sys_enter *ctx)
{
	return syscall_enter(VS_FORK_FN_SYS_VFORK, 0);
}

SEC("tracepoint/syscalls/sys_enter_clone")
int vs_sys_enter_clone(struct trace_event_raw_sys_enter *ctx)
{
	return syscall_enter(VS_FORK_FN_SYS_CLONE, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int vs_sys_enter_clone3(struct trace_event_raw_sys_enter *ctx)
{
	__u64 flags = 0;

	/* struct clone_args starts with its flags */
	if (bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[0]))
		return 0;
	return syscall_enter(VS_FORK_FN_SYS_CLONE, flags);
}

SEC("tracepoint/syscalls/sys_exit_fork")
int vs_sys_exit_fork(struct trace_event_raw_sys_exit *ctx)
{
	return syscall_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_vfork")
int vs_sys_exit_vfork(struct trace_event_raw_sys_exit *ctx)
{
	return syscall_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_clone")
int vs_sys_exit_clone(struct trace_event_raw_sys_exit *ctx)
{
	return syscall_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int vs_sys_exit_clone3(struct trace_event_raw_sys_exit *ctx)
{
	return syscall_exit(ctx->ret);
}
