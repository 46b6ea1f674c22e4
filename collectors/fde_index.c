/* .eh_frame_hdr's binary search table, read through libelf. Only the
 * encodings every x86-64 toolchain emits are accepted (table entries as
 * 4-byte offsets from the header); anything else is reported as absent
 * rather than misread. Whether an address is covered at all is asked of
 * libdw's CFI, which reads the FDE's own range. */
#include "fde_index.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/htab.h"

#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_datarel 0x30

struct table {
	Dwfl_Module *mod; /* the key */
	const int32_t *entries; /* pairs: initial location, FDE offset */
	size_t count;
	uint64_t hdr_vaddr; /* the table's entries are relative to this */
};

struct vs_fde_index {
	struct vs_htab *tables; /* Dwfl_Module * -> struct table */
};

struct vs_fde_index *vs_fde_index_new(void)
{
	struct vs_fde_index *idx = calloc(1, sizeof(*idx));

	if (!idx)
		return NULL;
	idx->tables = vs_htab_new();
	if (!idx->tables) {
		free(idx);
		return NULL;
	}
	return idx;
}

void vs_fde_index_free(struct vs_fde_index *idx)
{
	if (!idx)
		return;
	vs_htab_free(idx->tables, free);
	free(idx);
}

static int find_hdr(Elf *elf, GElf_Phdr *out)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_GNU_EH_FRAME) {
			*out = ph;
			return 0;
		}
	}
	return -ENOENT;
}

/* Reads the table of mod into t; leaves t->count 0 when there is none. */
static void load_table(Dwfl_Module *mod, struct table *t)
{
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);
	const unsigned char *p;
	Elf_Data *data;
	GElf_Phdr ph;
	uint32_t count;

	(void)bias;
	if (!elf || find_hdr(elf, &ph) || ph.p_filesz < 12)
		return;
	data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
	if (!data || !data->d_buf)
		return;
	p = data->d_buf;
	/* version 1, a 4-byte eh_frame_ptr, a 4-byte count, 4-byte entries */
	if (p[0] != 1 || ((p[1] & 0x0f) != DW_EH_PE_sdata4 && (p[1] & 0x0f) != DW_EH_PE_udata4) ||
	    (p[2] & 0x0f) != DW_EH_PE_udata4 ||
	    p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
		return;
	memcpy(&count, p + 8, sizeof(count));
	if (12 + (uint64_t)count * 8 > ph.p_filesz)
		return;
	t->entries = (const int32_t *)(p + 12);
	t->count = count;
	t->hdr_vaddr = ph.p_vaddr;
}

static struct table *table_of(struct vs_fde_index *idx, Dwfl_Module *mod)
{
	struct table *t = vs_htab_get(idx->tables, &mod, sizeof(mod));

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->mod = mod;
	load_table(mod, t);
	if (vs_htab_put(idx->tables, &t->mod, sizeof(t->mod), t, NULL)) {
		free(t);
		return NULL;
	}
	return t;
}

static int covered(Dwfl_Module *mod, uint64_t addr)
{
	Dwarf_Addr bias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(mod, &bias);
	Dwarf_Frame *frame = NULL;

	if (!cfi || dwarf_cfi_addrframe(cfi, addr - bias, &frame))
		return 0;
	free(frame);
	return 1;
}

int vs_fde_start(struct vs_fde_index *idx, Dwfl_Module *mod, uint64_t addr, uint64_t *start)
{
	struct table *t = table_of(idx, mod);
	Dwarf_Addr bias;
	int64_t rel;
	size_t lo = 0, hi;

	if (!t || !t->count || !dwfl_module_getelf(mod, &bias))
		return -ENOENT;
	rel = (int64_t)(addr - bias - t->hdr_vaddr);
	hi = t->count;
	/* The last entry whose initial location is at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int32_t loc;

		memcpy(&loc, &t->entries[2 * mid], sizeof(loc));
		if (loc <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !covered(mod, addr))
		return -ENOENT;
	int32_t loc;

	memcpy(&loc, &t->entries[2 * (lo - 1)], sizeof(loc));
	*start = t->hdr_vaddr + (uint64_t)(int64_t)loc + bias;
	return 0;
}
