/* Return addresses that uretprobes replaced, put back into a user-stack
 * snapshot. A function with a uretprobe (a span's end probe, say) returns
 * through the [uprobes] trampoline: its return address on the stack is the
 * trampoline's, and CFI unwinding stops there. The kernel keeps the real
 * addresses in the task's return instances, each with the stack slot it
 * rewrote, so a snapshot taken inside such a function can be mended before
 * it is sent. BPF programs only, after ustack.bpf.h. */
#ifndef VS_BPF_URET_BPF_H
#define VS_BPF_URET_BPF_H

#include <bpf/bpf_core_read.h>
#include "ustack.h"

#define VS_URET_MAX 8 /* nested uretprobed calls mended per snapshot */

static __always_inline void vs_mend_uret(struct vs_ustack *snap)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct return_instance *ri;
	__u64 sp = snap->regs[VS_UREG_RSP];

	ri = BPF_CORE_READ(task, utask, return_instances);
	for (int i = 0; i < VS_URET_MAX && ri; i++) {
		__u64 slot = BPF_CORE_READ(ri, stack), orig = BPF_CORE_READ(ri, orig_ret_vaddr);
		__u64 off = slot - sp;

		/* the slot is where rsp pointed when the function was entered:
		 * 8-aligned, like every x86-64 stack pointer */
		if (slot >= sp && !(off & 7) && off + 8 <= snap->len && off <= VS_USTACK_MAX - 8)
			*(__u64 *)(snap->data + (off & (VS_USTACK_MAX - 8))) = orig;
		ri = BPF_CORE_READ(ri, next);
	}
}

#endif
