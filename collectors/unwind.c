/* CFI unwinding of user-stack snapshots, with cached per-address rules. */
#include "unwind.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/hist.h"
#include "../lib/htab.h"
#include "../lib/util.h"

/* The registers a caller can count on across a call (x86-64 SysV), and the
 * return address. Only these are carried from frame to frame: the others are
 * clobbered by calls, so no CFI rule can recover them. */
static const int tracked[] = {
	VS_UREG_RIP, VS_UREG_RBX, VS_UREG_RBP, VS_UREG_R12,
	VS_UREG_R13, VS_UREG_R14, VS_UREG_R15,
};
#define NR_TRACKED (sizeof(tracked) / sizeof(tracked[0]))
#define RA_REGNO 16 /* DWARF's return-address column on x86-64 */
#define MAX_EVAL_STACK 16

enum rule_kind {
	RULE_UNDEFINED, /* cannot be recovered; for the RA: the stack ends here */
	RULE_SAME,      /* unchanged by this frame */
	RULE_AT_CFA,    /* saved at CFA + off */
	RULE_EXPR,      /* the location (or, with DW_OP_stack_value, the value) of ops */
};

struct rule {
	uint8_t kind;
	uint8_t nops;
	int64_t off;
	Dwarf_Op *ops;
};

struct row_key {
	uint32_t pid;
	uint32_t pad;
	uint64_t pc;
};

struct row {
	struct row_key key;
	uint8_t valid;    /* CFI covers this address */
	uint8_t cfa_reg;  /* when cfa_nops == 0: CFA = reg + cfa_off */
	uint8_t cfa_nops; /* otherwise CFA = the value of cfa_ops */
	int64_t cfa_off;
	Dwarf_Op *cfa_ops;
	struct rule rules[NR_TRACKED];
};

/* Rows are kept for the processes of one generation of the module maps:
 * when a process's maps are dropped (it exited 30 s ago), its rows are
 * dead, and this cache cannot tell them from the others, so it starts
 * afresh. Rebuilding the live rows costs a CFI lookup each, a few ms in
 * all, and keeps the cache bounded however many children come and go. A
 * process that keeps running new code has its rows capped as well. */
#define MAX_ROWS (1u << 16)

/* A stack's first frame is where it was interrupted: for a sample, any
 * instruction of the daemon, so its addresses never stop coming (about ten
 * new ones a second at 49 Hz) and caching each for good grew the cache
 * without end. Its other frames are return addresses, of which there are
 * only as many as call sites. First frames are cached apart, in slots that
 * a newcomer takes over: the hot ones (the system calls threads block in)
 * stay, and the memory is fixed. */
#define LEAF_SLOTS 4096

struct vs_unwinder {
	struct vs_procs *procs;
	struct vs_htab *rows; /* struct row_key -> struct row */
	struct row *leaves[LEAF_SLOTS];
	uint64_t generation;  /* of procs, when rows was started */
	struct vs_unwind_stats stats;
	/* Wall-clock time per warm stack. The median, not the mean, is
	 * reported: a stack that was preempted while it was unwound says
	 * nothing about the unwinder. */
	struct vs_hist warm;
};

struct vs_unwinder *vs_unwinder_new(struct vs_procs *procs)
{
	struct vs_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->procs = procs;
	u->generation = vs_procs_generation(procs);
	u->rows = vs_htab_new();
	if (!u->rows) {
		free(u);
		return NULL;
	}
	return u;
}

static void row_free(void *p)
{
	struct row *row = p;

	free(row->cfa_ops);
	for (size_t i = 0; i < NR_TRACKED; i++)
		free(row->rules[i].ops);
	free(row);
}

static void free_leaves(struct vs_unwinder *u)
{
	for (size_t i = 0; i < LEAF_SLOTS; i++) {
		if (u->leaves[i])
			row_free(u->leaves[i]);
		u->leaves[i] = NULL;
	}
}

/* 0, or -ENOMEM with the old rows kept. */
static int restart_rows(struct vs_unwinder *u)
{
	struct vs_htab *fresh = vs_htab_new();

	if (!fresh)
		return -ENOMEM;
	free_leaves(u);
	vs_htab_free(u->rows, row_free);
	u->rows = fresh;
	u->generation = vs_procs_generation(u->procs);
	u->stats.rows_dropped++;
	return 0;
}

void vs_unwinder_free(struct vs_unwinder *u)
{
	if (!u)
		return;
	free_leaves(u);
	vs_htab_free(u->rows, row_free);
	free(u);
}

void vs_unwinder_stats(const struct vs_unwinder *u, struct vs_unwind_stats *st)
{
	*st = u->stats;
	st->warm_stacks = u->warm.count;
	st->warm_median_ns = vs_hist_percentile(&u->warm, 0.5);
}

static Dwarf_Op *copy_ops(const Dwarf_Op *ops, size_t n)
{
	Dwarf_Op *copy = malloc(n * sizeof(*copy));

	if (copy)
		memcpy(copy, ops, n * sizeof(*copy));
	return copy;
}

static int derive_cfa(Dwarf_Frame *frame, struct row *row)
{
	Dwarf_Op *ops;
	size_t nops;

	if (dwarf_frame_cfa(frame, &ops, &nops) || !nops || nops > MAX_EVAL_STACK)
		return -EINVAL;
	if (nops == 1 && ops[0].atom == DW_OP_bregx && ops[0].number < VS_UREG_COUNT) {
		row->cfa_reg = (uint8_t)ops[0].number;
		row->cfa_off = (int64_t)ops[0].number2;
		return 0;
	}
	if (nops == 1 && ops[0].atom >= DW_OP_breg0 && ops[0].atom < DW_OP_breg0 + VS_UREG_COUNT) {
		row->cfa_reg = (uint8_t)(ops[0].atom - DW_OP_breg0);
		row->cfa_off = (int64_t)ops[0].number;
		return 0;
	}
	row->cfa_ops = copy_ops(ops, nops);
	row->cfa_nops = (uint8_t)nops;
	return row->cfa_ops ? 0 : -ENOMEM;
}

static int derive_rule(Dwarf_Frame *frame, int regno, struct rule *r)
{
	Dwarf_Op mem[3], *ops;
	size_t nops;

	if (dwarf_frame_register(frame, regno, mem, &ops, &nops))
		return -EINVAL;
	if (!nops) {
		r->kind = ops ? RULE_UNDEFINED : RULE_SAME;
		return 0;
	}
	if (nops > MAX_EVAL_STACK)
		return -EINVAL;
	/* libdw writes "saved at CFA+N" as DW_OP_call_frame_cfa, then
	 * DW_OP_plus_uconst N when N is not 0 (N may be negative). */
	if (ops[0].atom == DW_OP_call_frame_cfa &&
	    (nops == 1 || (nops == 2 && ops[1].atom == DW_OP_plus_uconst))) {
		r->kind = RULE_AT_CFA;
		r->off = nops == 2 ? (int64_t)ops[1].number : 0;
		return 0;
	}
	r->kind = RULE_EXPR;
	r->ops = copy_ops(ops, nops);
	r->nops = (uint8_t)nops;
	return r->ops ? 0 : -ENOMEM;
}

/* Whether mod's own file has a .debug_frame. Asking libdw for it otherwise
 * would load the separate debuginfo (every .debug_* section of it, and
 * decompressed: 10 MiB for libvirt) only to find none: GCC on x86-64 puts
 * all CFI in .eh_frame, and .debug_frame is copied to a debuginfo file only
 * from the binary that had it. */
static int has_debug_frame(Dwfl_Module *mod)
{
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_getshdrstrndx(elf, &shstrndx))
		return 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr mem, *sh = gelf_getshdr(scn, &mem);
		const char *name = sh ? elf_strptr(elf, shstrndx, sh->sh_name) : NULL;

		if (name && !strcmp(name, ".debug_frame"))
			return 1;
	}
	return 0;
}

/* Fills row from the CFI that covers pc, leaving it invalid when none does. */
static void derive_row(struct vs_unwinder *u, struct row *row)
{
	struct vs_proc *proc = vs_procs_get(u->procs, row->key.pid);
	Dwfl_Module *mod = proc ? vs_proc_module(proc, row->key.pc) : NULL;
	Dwarf_Frame *frame = NULL;
	Dwarf_Addr bias;
	Dwarf_CFI *cfi;

	if (!mod)
		return;
	cfi = dwfl_module_eh_cfi(mod, &bias);
	if (!cfi || dwarf_cfi_addrframe(cfi, row->key.pc - bias, &frame)) {
		if (!has_debug_frame(mod))
			return;
		cfi = dwfl_module_dwarf_cfi(mod, &bias);
		if (!cfi || dwarf_cfi_addrframe(cfi, row->key.pc - bias, &frame))
			return;
	}
	if (derive_cfa(frame, row))
		goto out;
	for (size_t i = 0; i < NR_TRACKED; i++)
		if (derive_rule(frame, tracked[i] == VS_UREG_RIP ? RA_REGNO : tracked[i],
				&row->rules[i]))
			goto out;
	row->valid = 1;
out:
	free(frame);
}

/* A row derived for key, counted; NULL on -ENOMEM. */
static struct row *new_row(struct vs_unwinder *u, struct row_key key)
{
	struct row *row = calloc(1, sizeof(*row));

	if (!row)
		return NULL;
	row->key = key;
	derive_row(u, row);
	u->stats.rows_cached++;
	return row;
}

static const struct row *row_at(struct vs_unwinder *u, uint32_t pid, uint64_t pc)
{
	struct row_key key = { .pid = pid, .pc = pc };
	struct row *row = vs_htab_get(u->rows, &key, sizeof(key));

	if (row)
		return row;
	if (!(row = new_row(u, key)))
		return NULL;
	if (vs_htab_put(u->rows, &row->key, sizeof(row->key), row, NULL)) {
		row_free(row);
		return NULL;
	}
	return row;
}

/* The row of a first frame, from its slot (see LEAF_SLOTS); the previous
 * occupant is freed, which is safe as only one row is in use at a time. */
static const struct row *leaf_row_at(struct vs_unwinder *u, uint32_t pid, uint64_t pc)
{
	struct row_key key = { .pid = pid, .pc = pc };
	uint64_t h = (pc ^ (uint64_t)pid << 40) * 0x9e3779b97f4a7c15ULL;
	struct row **slot = &u->leaves[h >> 52]; /* the top 12 bits */
	struct row *row = *slot;

	if (row && row->key.pid == pid && row->key.pc == pc)
		return row;
	if (!(row = new_row(u, key)))
		return NULL;
	if (*slot)
		row_free(*slot);
	*slot = row;
	return row;
}

/* The state of one frame while walking. */
struct walk {
	const struct vs_ustack *snap;
	uint64_t regs[VS_UREG_COUNT];
	uint32_t known; /* bit i: regs[i] is valid in this frame */
	uint64_t cfa;
};

static int read_stack(const struct walk *w, uint64_t addr, uint64_t *val)
{
	uint64_t base = w->snap->regs[VS_UREG_RSP];

	if (addr < base || addr - base > (uint64_t)w->snap->len - 8 || w->snap->len < 8)
		return -EFAULT;
	memcpy(val, w->snap->data + (addr - base), sizeof(*val));
	return 0;
}

static int reg_value(const struct walk *w, uint64_t regno, uint64_t *val)
{
	if (regno >= VS_UREG_COUNT || !(w->known & (1u << regno)))
		return -EINVAL;
	*val = w->regs[regno];
	return 0;
}

/* Evaluates a DWARF expression as CFI uses them. *is_value is set when it
 * ends in DW_OP_stack_value (the result is a value, not a location). */
static int eval(const struct walk *w, const Dwarf_Op *ops, size_t nops, uint64_t *out,
		int *is_value)
{
	uint64_t st[MAX_EVAL_STACK], a, b;
	int sp = 0;

	*is_value = 0;
#define PUSH(v)                                \
	do {                                   \
		if (sp == MAX_EVAL_STACK)      \
			return -E2BIG;         \
		st[sp++] = (v);                \
	} while (0)
#define POP(v)                                 \
	do {                                   \
		if (!sp)                       \
			return -EINVAL;        \
		(v) = st[--sp];                \
	} while (0)
	for (size_t i = 0; i < nops; i++) {
		const Dwarf_Op *op = &ops[i];
		uint8_t atom = op->atom;

		if (atom >= DW_OP_lit0 && atom <= DW_OP_lit31) {
			PUSH((uint64_t)(atom - DW_OP_lit0));
			continue;
		}
		if (atom >= DW_OP_breg0 && atom <= DW_OP_breg31) {
			if (reg_value(w, atom - DW_OP_breg0, &a))
				return -EINVAL;
			PUSH(a + op->number);
			continue;
		}
		switch (atom) {
		case DW_OP_bregx:
			if (reg_value(w, op->number, &a))
				return -EINVAL;
			PUSH(a + op->number2);
			break;
		case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s:
		case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
		case DW_OP_constu: case DW_OP_consts:
			PUSH(op->number);
			break;
		case DW_OP_call_frame_cfa:
			PUSH(w->cfa);
			break;
		case DW_OP_dup:
			POP(a);
			PUSH(a);
			PUSH(a);
			break;
		case DW_OP_deref:
			POP(a);
			if (read_stack(w, a, &b))
				return -EFAULT;
			PUSH(b);
			break;
		case DW_OP_plus_uconst:
			POP(a);
			PUSH(a + op->number);
			break;
		case DW_OP_plus: POP(b); POP(a); PUSH(a + b); break;
		case DW_OP_minus: POP(b); POP(a); PUSH(a - b); break;
		case DW_OP_mul: POP(b); POP(a); PUSH(a * b); break;
		case DW_OP_and: POP(b); POP(a); PUSH(a & b); break;
		case DW_OP_or: POP(b); POP(a); PUSH(a | b); break;
		case DW_OP_shl: POP(b); POP(a); PUSH(b < 64 ? a << b : 0); break;
		case DW_OP_shr: POP(b); POP(a); PUSH(b < 64 ? a >> b : 0); break;
		case DW_OP_ge: POP(b); POP(a); PUSH((int64_t)a >= (int64_t)b); break;
		case DW_OP_gt: POP(b); POP(a); PUSH((int64_t)a > (int64_t)b); break;
		case DW_OP_le: POP(b); POP(a); PUSH((int64_t)a <= (int64_t)b); break;
		case DW_OP_lt: POP(b); POP(a); PUSH((int64_t)a < (int64_t)b); break;
		case DW_OP_eq: POP(b); POP(a); PUSH(a == b); break;
		case DW_OP_ne: POP(b); POP(a); PUSH(a != b); break;
		case DW_OP_stack_value:
			*is_value = 1;
			break;
		default:
			return -ENOTSUP;
		}
	}
#undef PUSH
#undef POP
	if (!sp)
		return -EINVAL;
	*out = st[sp - 1];
	return 0;
}

static int compute_cfa(struct walk *w, const struct row *row)
{
	int is_value;

	if (!row->cfa_nops)
		return reg_value(w, row->cfa_reg, &w->cfa) ? -EINVAL
							   : (w->cfa += (uint64_t)row->cfa_off, 0);
	return eval(w, row->cfa_ops, row->cfa_nops, &w->cfa, &is_value);
}

/* The caller's value of one tracked register; -EFAULT when it lies outside
 * the snapshot, -EINVAL when it cannot be known. */
static int apply_rule(const struct walk *w, const struct rule *r, int regno, uint64_t *val)
{
	uint64_t loc;
	int is_value, rc;

	switch (r->kind) {
	case RULE_SAME:
		return reg_value(w, (uint64_t)regno, val);
	case RULE_AT_CFA:
		return read_stack(w, w->cfa + (uint64_t)r->off, val);
	case RULE_EXPR:
		rc = eval(w, r->ops, r->nops, &loc, &is_value);
		if (rc)
			return rc;
		if (is_value) {
			*val = loc;
			return 0;
		}
		return read_stack(w, loc, val);
	default:
		return -EINVAL;
	}
}

/* One step to the caller; *end is set when the walk must stop. */
static int step(struct walk *w, const struct row *row, enum vs_unwind_end *end)
{
	uint64_t vals[NR_TRACKED];
	uint32_t known = 0;
	uint64_t old_sp = w->regs[VS_UREG_RSP];

	if (row->rules[0].kind == RULE_UNDEFINED) {
		*end = VS_UNWIND_ROOT;
		return -1;
	}
	if (compute_cfa(w, row)) {
		*end = VS_UNWIND_BAD_FRAME;
		return -1;
	}
	for (size_t i = 0; i < NR_TRACKED; i++) {
		int rc = apply_rule(w, &row->rules[i], tracked[i], &vals[i]);

		if (!rc)
			known |= 1u << tracked[i];
		else if (i == 0) {
			*end = rc == -EFAULT ? VS_UNWIND_NO_MEMORY : VS_UNWIND_BAD_FRAME;
			return -1;
		}
	}
	/* The caller's frame lies above the callee's: anything else is a
	 * corrupt or misread stack, and following it could loop. */
	if (w->cfa <= old_sp || !vals[0]) {
		*end = VS_UNWIND_BAD_FRAME;
		return -1;
	}
	for (size_t i = 0; i < NR_TRACKED; i++)
		w->regs[tracked[i]] = vals[i];
	w->regs[VS_UREG_RSP] = w->cfa;
	w->known = known | (1u << VS_UREG_RSP);
	return 0;
}

unsigned int vs_unwind(struct vs_unwinder *u, uint32_t pid, const struct vs_ustack *snap,
		       uint64_t *ips, unsigned int max, enum vs_unwind_end *end)
{
	struct walk w = { .snap = snap, .known = (1u << VS_UREG_COUNT) - 1 };
	uint64_t t0 = vs_now_ns(), rows = u->stats.rows_cached, dt;
	unsigned int n = 0;

	memcpy(w.regs, snap->regs, sizeof(w.regs));
	*end = VS_UNWIND_NO_CFI;
	if (u->generation != vs_procs_generation(u->procs) || vs_htab_count(u->rows) >= MAX_ROWS)
		restart_rows(u);
	if ((snap->flags & VS_USTACK_NO_USER) || !w.regs[VS_UREG_RIP])
		return 0;
	u->stats.stacks++;
	for (;;) {
		uint64_t pc = w.regs[VS_UREG_RIP];
		const struct row *row;

		if (n == max) {
			*end = VS_UNWIND_TRUNCATED;
			break;
		}
		ips[n++] = pc;
		/* A return address points after its call: look up the call. */
		row = n == 1 ? leaf_row_at(u, pid, pc) : row_at(u, pid, pc - 1);
		if (!row || !row->valid) {
			*end = VS_UNWIND_NO_CFI;
			break;
		}
		if (step(&w, row, end))
			break;
	}
	u->stats.frames += n;
	dt = vs_now_ns() - t0;
	u->stats.ns += dt;
	if (u->stats.rows_cached == rows)
		vs_hist_add(&u->warm, dt);
	return n;
}
