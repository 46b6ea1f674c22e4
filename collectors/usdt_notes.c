/* SDT notes live in .note.stapsdt: owner "stapsdt", type 3, and a
 * descriptor of three addresses (pc, base, semaphore) followed by the
 * provider, the probe name and the argument string, each NUL-terminated. */
#include "usdt_notes.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#define NT_STAPSDT 3

static int note_has_provider(Elf_Data *data, const char *provider)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)data->d_buf + name_off;
		const char *desc = (const char *)data->d_buf + desc_off;

		if (nh.n_type != NT_STAPSDT || nh.n_namesz != 8 || memcmp(name, "stapsdt", 8) ||
		    nh.n_descsz <= 3 * 8)
			continue;
		if (strnlen(desc + 24, nh.n_descsz - 24) < nh.n_descsz - 24 &&
		    !strcmp(desc + 24, provider))
			return 1;
	}
	return 0;
}

int vs_usdt_has_provider(const char *path, const char *provider)
{
	Elf_Scn *scn = NULL;
	int fd, found = 0;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		close(fd);
		return -EINVAL;
	}
	while (!found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (data)
			found = note_has_provider(data, provider);
	}
	elf_end(elf);
	close(fd);
	return found;
}
