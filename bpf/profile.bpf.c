// SPDX-License-Identifier: GPL-2.0
/* On-CPU sampling of one process: a perf_event program on every CPU's
 * cpu-clock, keeping only the target's samples, with its kernel stack and
 * either a user-stack snapshot (registers and stack memory, unwound from CFI
 * in user space) or a frame-pointer user stack. Stacks travel inside the
 * record (no stack map, so no hash collisions and no stale stack ids). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "profile.h"
#include "ustack.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 targ_tgid = 0;
const volatile __u32 targ_tid = 0; /* 0: every thread */
const volatile __u32 unwind_mode = VS_UNWIND_DWARF;
const volatile __u32 follow_children = 0; /* also sample the target's direct children */
/* Wake the reader only once this much is waiting (see probes.bpf.c). */
const volatile __u64 wakeup_bytes = 1 << 20;

/* Records the ring buffer had no room for: read by user space, never reset. */
__u64 lost = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} samples SEC(".maps");

/* A record is built here, then sent with only the stack bytes it holds: a
 * ring buffer reservation would have to be of the full size. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vs_profile_sample);
} scratch SEC(".maps");

/* An 8-byte word of the sampled registers. The perf_event context only
 * allows whole-word loads at constant offsets (the verifier rewrites them),
 * so fields are read this way rather than through a pointer. */
#define CTX_REG(ctx, field) \
	(*(__u64 *)((void *)(ctx) + __builtin_offsetof(struct pt_regs, field)))

/* The user registers at the sample: the interrupted context itself when the
 * sample hit user mode (CS has RPL 3), else what the task will return to
 * user space with. 0, or -1 when there is no user context. */
static __always_inline int sample_user_regs(struct bpf_perf_event_data *ctx, struct pt_regs *r)
{
	if ((CTX_REG(ctx, cs) & 3) != 3)
		return vs_current_user_regs(r);
	r->ax = CTX_REG(ctx, ax);
	r->dx = CTX_REG(ctx, dx);
	r->cx = CTX_REG(ctx, cx);
	r->bx = CTX_REG(ctx, bx);
	r->si = CTX_REG(ctx, si);
	r->di = CTX_REG(ctx, di);
	r->bp = CTX_REG(ctx, bp);
	r->sp = CTX_REG(ctx, sp);
	r->r8 = CTX_REG(ctx, r8);
	r->r9 = CTX_REG(ctx, r9);
	r->r10 = CTX_REG(ctx, r10);
	r->r11 = CTX_REG(ctx, r11);
	r->r12 = CTX_REG(ctx, r12);
	r->r13 = CTX_REG(ctx, r13);
	r->r14 = CTX_REG(ctx, r14);
	r->r15 = CTX_REG(ctx, r15);
	r->ip = CTX_REG(ctx, ip);
	return 0;
}

SEC("perf_event")
int vs_profile_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), size;
	__u32 tgid = id >> 32, tid = (__u32)id, zero = 0;
	struct vs_profile_sample *s;

	if (tgid != targ_tgid) {
		struct task_struct *task = bpf_get_current_task_btf();

		if (!follow_children || task->real_parent->tgid != targ_tgid)
			return 0;
	} else if (targ_tid && tid != targ_tid) {
		return 0;
	}
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return 0;
	s->ts_ns = bpf_ktime_get_ns();
	s->pid = tgid;
	s->tid = tid;
	s->cpu = bpf_get_smp_processor_id();
	s->pad = 0;
	bpf_get_current_comm(s->comm, sizeof(s->comm));
	s->kstack_bytes = bpf_get_stack(ctx, s->kstack, sizeof(s->kstack), 0);
	if (unwind_mode == VS_UNWIND_FP) {
		s->ustack_bytes = bpf_get_stack(ctx, s->ustack, sizeof(s->ustack), BPF_F_USER_STACK);
		s->snap.len = 0;
		s->snap.flags = 0;
	} else {
		struct pt_regs regs;

		s->ustack_bytes = 0;
		vs_snapshot_user(&s->snap, sample_user_regs(ctx, &regs) ? 0 : &regs);
	}
	size = VS_PROFILE_SAMPLE_HDR_SIZE + s->snap.len;
	if (size > sizeof(*s))
		size = sizeof(*s);
	if (bpf_ringbuf_output(&samples, s, size,
			       bpf_ringbuf_query(&samples, BPF_RB_AVAIL_DATA) >= wakeup_bytes
				       ? BPF_RB_FORCE_WAKEUP
				       : BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&lost, 1);
	return 0;
}
