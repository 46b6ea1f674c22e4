/* libbpf 1.1 refuses a function name that several symbol versions carry
 * (glibc's pthread_cond_wait, pthread_rwlock_rdlock...), even when they are
 * the same code; the dynamic linker binds new programs to the default
 * version, so that is the one to probe. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbol.h"

#define VERSYM_HIDDEN 0x8000 /* a non-default version: name@VER, not name@@VER */

int64_t vs_elf_file_offset(Elf *elf, uint64_t vaddr, uint64_t *first_load)
{
	int64_t found = -1;
	int first = 1;
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (first && first_load)
			*first_load = ph.p_vaddr & ~(uint64_t)(ph.p_align > 1 ? ph.p_align - 1 : 0);
		first = 0;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz)
			found = (int64_t)(ph.p_offset + vaddr - ph.p_vaddr);
	}
	return found;
}

static Elf_Data *versym_data(Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			return elf_getdata(scn, NULL);
	}
	return NULL;
}

static int find_in(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
		   const char *name, uint64_t *addr)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	int found = 0;

	if (!d || !sh->sh_entsize)
		return 0;
	for (size_t i = 0; i < sh->sh_size / sh->sh_entsize; i++) {
		GElf_Versym ver = 0;
		GElf_Sym sym;
		const char *s;

		if (!gelf_getsym(d, (int)i, &sym) || !sym.st_value ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		s = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!s || strcmp(s, name))
			continue;
		if (versym)
			gelf_getversym(versym, (int)i, &ver);
		/* the default version wins; any other only when it is alone */
		if (!found || !(ver & VERSYM_HIDDEN))
			*addr = sym.st_value;
		found = 1;
		if (!(ver & VERSYM_HIDDEN))
			return 1;
	}
	return found;
}

int vs_elf_func_addr(Elf *elf, const char *name, uint64_t *addr)
{
	static const Elf64_Word order[] = { SHT_DYNSYM, SHT_SYMTAB };
	Elf_Data *versym = versym_data(elf);

	for (size_t o = 0; o < sizeof(order) / sizeof(order[0]); o++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) && sh.sh_type == order[o] &&
			    find_in(elf, scn, &sh, order[o] == SHT_DYNSYM ? versym : NULL, name,
				    addr))
				return 0;
		}
	}
	return -ENOENT;
}

int vs_elf_func_file_offset(const char *path, const char *name, uint64_t *offset)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -ENOENT;
	uint64_t addr;
	int64_t off;
	Elf *elf;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		close(fd);
		return -ENOEXEC;
	}
	if (!vs_elf_func_addr(elf, name, &addr) && (off = vs_elf_file_offset(elf, addr, NULL)) >= 0) {
		*offset = (uint64_t)off;
		rc = 0;
	}
	elf_end(elf);
	close(fd);
	return rc;
}
