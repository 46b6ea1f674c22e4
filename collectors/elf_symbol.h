/* Function symbols of an ELF file, resolved to file offsets for uprobes. */
#ifndef VS_ELF_SYMBOL_H
#define VS_ELF_SYMBOL_H

#include <gelf.h>
#include <stdint.h>

/* The file offset of virtual address vaddr of elf, or -1 when no loaded
 * bytes of the file hold it. With first_load, the page-aligned p_vaddr of the
 * first PT_LOAD (the address the file is mapped from). */
int64_t vs_elf_file_offset(Elf *elf, uint64_t vaddr, uint64_t *first_load);

/* The address of function name in elf: from .dynsym, the default version
 * when several versions carry the name (pthread_cond_wait@@GLIBC_2.3.2, not
 * @GLIBC_2.2.5), else from .symtab. 0 or -ENOENT. */
int vs_elf_func_addr(Elf *elf, const char *name, uint64_t *addr);

/* Both at once for the file at path: the file offset of function name,
 * which is what a uprobe attaches at. 0 or -errno. */
int vs_elf_func_file_offset(const char *path, const char *name, uint64_t *offset);

#endif
