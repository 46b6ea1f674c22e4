/* A user-stack snapshot: the user registers and a copy of the stack from the
 * stack pointer up, taken in BPF and unwound in user space from the
 * binaries' CFI (collectors/unwind.c). Any BPF record that carries a user
 * stack ends with one of these, and is sent with only `len` bytes of data. */
#ifndef VS_BPF_USTACK_H
#define VS_BPF_USTACK_H

#include "vs_types.h"

/* x86-64 registers in DWARF numbering, the order regs[] holds them in. */
enum vs_ureg {
	VS_UREG_RAX, VS_UREG_RDX, VS_UREG_RCX, VS_UREG_RBX,
	VS_UREG_RSI, VS_UREG_RDI, VS_UREG_RBP, VS_UREG_RSP,
	VS_UREG_R8, VS_UREG_R9, VS_UREG_R10, VS_UREG_R11,
	VS_UREG_R12, VS_UREG_R13, VS_UREG_R14, VS_UREG_R15,
	VS_UREG_RIP,
	VS_UREG_COUNT,
};

/* The stack is copied in chunks; the copy stops at the first chunk that
 * cannot be read (the end of the stack mapping, or a page not present,
 * since BPF never faults pages in). */
#define VS_USTACK_CHUNK 512
#define VS_USTACK_CHUNKS 32
#define VS_USTACK_MAX (VS_USTACK_CHUNK * VS_USTACK_CHUNKS)

enum vs_ustack_flags {
	VS_USTACK_NO_USER = 1 << 0, /* no user context (kernel thread, exiting task) */
};

struct vs_ustack {
	__u64 regs[VS_UREG_COUNT];
	__u32 len;   /* bytes of data[] that were copied */
	__u32 flags;
	__u8 data[VS_USTACK_MAX];
};

VS_STATIC_ASSERT(sizeof(struct vs_ustack) == 8 * VS_UREG_COUNT + 8 + VS_USTACK_MAX,
		 "vs_ustack has no hidden padding");

#endif
