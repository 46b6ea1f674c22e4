/* BPF side of user-stack snapshots (see ustack.h). Included by BPF programs
 * only, after vmlinux.h and bpf_helpers.h. */
#ifndef VS_BPF_USTACK_BPF_H
#define VS_BPF_USTACK_BPF_H

#include "ustack.h"

/* Copies the user registers the current task will return to user space
 * with into *regs; 0, or -1 for a task without a user context. */
static __always_inline int vs_current_user_regs(struct pt_regs *regs)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (task->flags & 0x00200000 /* PF_KTHREAD */ || !task->mm)
		return -1;
	return bpf_probe_read_kernel(regs, sizeof(*regs), (void *)bpf_task_pt_regs(task)) ? -1 : 0;
}

/* regs in DWARF order (enum vs_ureg), from a copy of struct pt_regs. */
static __always_inline void vs_fill_uregs(__u64 *out, const struct pt_regs *regs)
{
	out[VS_UREG_RAX] = regs->ax;
	out[VS_UREG_RDX] = regs->dx;
	out[VS_UREG_RCX] = regs->cx;
	out[VS_UREG_RBX] = regs->bx;
	out[VS_UREG_RSI] = regs->si;
	out[VS_UREG_RDI] = regs->di;
	out[VS_UREG_RBP] = regs->bp;
	out[VS_UREG_RSP] = regs->sp;
	out[VS_UREG_R8] = regs->r8;
	out[VS_UREG_R9] = regs->r9;
	out[VS_UREG_R10] = regs->r10;
	out[VS_UREG_R11] = regs->r11;
	out[VS_UREG_R12] = regs->r12;
	out[VS_UREG_R13] = regs->r13;
	out[VS_UREG_R14] = regs->r14;
	out[VS_UREG_R15] = regs->r15;
	out[VS_UREG_RIP] = regs->ip;
}

/* Fills snap from user registers regs (a copy on the BPF stack, NULL when
 * there is no user context); returns the number of bytes of snap->data
 * copied. */
static __always_inline __u32 vs_snapshot_user(struct vs_ustack *snap, const struct pt_regs *regs)
{
	__u64 sp;
	__u32 len = 0;

	snap->flags = 0;
	snap->len = 0;
	if (!regs) {
		snap->flags = VS_USTACK_NO_USER;
		return 0;
	}
	vs_fill_uregs(snap->regs, regs);
	sp = snap->regs[VS_UREG_RSP];
	for (int i = 0; i < VS_USTACK_CHUNKS; i++) {
		if (bpf_probe_read_user(snap->data + i * VS_USTACK_CHUNK, VS_USTACK_CHUNK,
					(const void *)(sp + i * VS_USTACK_CHUNK)))
			break;
		len += VS_USTACK_CHUNK;
	}
	/* The chunk that failed may still hold the top of the stack: take
	 * what can be read of it in smaller pieces. */
	if (len < VS_USTACK_MAX) {
		for (int j = 0; j < VS_USTACK_CHUNK / 64; j++) {
			__u32 off = len;

			if (off > VS_USTACK_MAX - 64)
				break;
			if (bpf_probe_read_user(snap->data + off, 64, (const void *)(sp + off)))
				break;
			len += 64;
		}
	}
	snap->len = len;
	return len;
}

#endif
