// SPDX-License-Identifier: GPL-2.0
/* Futex waits of the target (see contention.h): sys_enter notes when a
 * thread starts waiting on a futex word and who owns the mutex there;
 * sys_exit counts the wait and, past the threshold, sends it with the
 * waiter's stack. BTF tracepoints, so no tracefs and no kprobes. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "contention.h"
#include "ustack.bpf.h"
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define NR_FUTEX 202 /* x86-64 */
#define FUTEX_WAIT 0
#define FUTEX_LOCK_PI 6
#define FUTEX_WAIT_BITSET 9
#define FUTEX_CMD_MASK 0x7f

const volatile __u32 targ_tgid = 0;
const volatile __u64 min_ns = 10000000;
const volatile __u64 wakeup_bytes = 1 << 20;

__u64 lost = 0;

struct pending {
	__u64 uaddr;
	__u64 ts;
	__u32 owner;
	__u32 pad;
	__u64 owner_waits;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending);
} waiting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct vs_contention_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_contention_record);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_contention_stats);
} stats_new SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(vs_futex_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct pending p = {};
	__u32 tid = (__u32)pid_tgid, op;

	if (id != NR_FUTEX || pid_tgid >> 32 != targ_tgid)
		return 0;
	op = (__u32)BPF_CORE_READ(regs, si) & FUTEX_CMD_MASK;
	/* A contended glibc mutex sleeps with futex_wait(&lock, 2): the lock
	 * word is 2, "locked, with waiters". Condition variables, semaphores
	 * and other futex users wait on other values, and are not locks. */
	if (op == FUTEX_LOCK_PI)
		;
	else if ((op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET) || BPF_CORE_READ(regs, dx) != 2)
		return 0;
	p.uaddr = BPF_CORE_READ(regs, di);
	p.ts = bpf_ktime_get_ns();
	/* pthread_mutex_t: the lock word at +0, the owner's tid at +8. On a
	 * condition variable's word this reads something else; user space
	 * keeps only owners that are threads of the target. */
	bpf_probe_read_user(&p.owner, sizeof(p.owner), (void *)(p.uaddr + 8));
	if (p.owner) {
		struct pending *op = bpf_map_lookup_elem(&waiting, &p.owner);

		if (op)
			p.owner_waits = op->uaddr;
	}
	bpf_map_update_elem(&waiting, &tid, &p, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vs_futex_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), dur, size;
	__u32 tid = (__u32)pid_tgid, zero = 0, b;
	struct vs_contention_stats *st;
	struct vs_contention_record *r;
	struct pt_regs uregs;
	struct pending *p;

	if (pid_tgid >> 32 != targ_tgid)
		return 0;
	p = bpf_map_lookup_elem(&waiting, &tid);
	if (!p)
		return 0;
	dur = bpf_ktime_get_ns() - p->ts;
	st = bpf_map_lookup_elem(&stats, &p->uaddr);
	if (!st) {
		struct vs_contention_stats *fresh = bpf_map_lookup_elem(&stats_new, &zero);

		if (fresh) {
			__builtin_memset(fresh, 0, sizeof(*fresh));
			bpf_map_update_elem(&stats, &p->uaddr, fresh, BPF_NOEXIST);
		}
		st = bpf_map_lookup_elem(&stats, &p->uaddr);
	}
	if (st) {
		__sync_fetch_and_add(&st->waits, 1);
		__sync_fetch_and_add(&st->wait_ns, dur);
		if (dur > st->wait_max_ns)
			st->wait_max_ns = dur;
		b = vs_log2_bucket(dur);
		if (b < VS_LOCK_HIST)
			__sync_fetch_and_add(&st->wait_hist[b], 1);
	}
	if (dur >= min_ns && (r = bpf_map_lookup_elem(&scratch, &zero))) {
		r->ts_ns = p->ts;
		r->dur_ns = dur;
		r->uaddr = p->uaddr;
		r->pid = pid_tgid >> 32;
		r->tid = tid;
		r->owner = p->owner;
		r->pad = 0;
		r->owner_waits = p->owner_waits;
		bpf_get_current_comm(r->comm, sizeof(r->comm));
		/* In the system call's context, the user registers are the
		 * task's own: the waiter's stack as it waits. */
		if (bpf_probe_read_kernel(&uregs, sizeof(uregs), regs))
			vs_snapshot_user(&r->snap, 0);
		else
			vs_snapshot_user(&r->snap, &uregs);
		size = VS_CONTENTION_RECORD_HDR_SIZE + r->snap.len;
		if (size > sizeof(*r))
			size = sizeof(*r);
		if (bpf_ringbuf_output(&records, r, size,
				       bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes
					       ? BPF_RB_FORCE_WAKEUP
					       : BPF_RB_NO_WAKEUP))
			__sync_fetch_and_add(&lost, 1);
	}
	bpf_map_delete_elem(&waiting, &tid);
	return 0;
}
