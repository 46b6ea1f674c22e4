/* SDT notes live in .note.stapsdt: owner "stapsdt", type 3, and a
 * descriptor of three addresses (pc, base, semaphore) followed by the
 * provider, the probe name and the argument string, each NUL-terminated. */
#include "usdt_notes.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NT_STAPSDT 3
#ifndef NT_GNU_BUILD_ID
#define NT_GNU_BUILD_ID 3
#endif

/* Calls fn on every SHT_NOTE section's data until it returns non-zero. */
static int for_each_note_section(const char *path, int (*fn)(Elf_Data *, void *), void *arg)
{
	Elf_Scn *scn = NULL;
	int fd, rc = 0;
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
	while (!rc && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOTE && (data = elf_getdata(scn, NULL)))
			rc = fn(data, arg);
	}
	elf_end(elf);
	close(fd);
	return rc;
}

static int note_has_provider(Elf_Data *data, void *arg)
{
	const char *provider = arg;
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
	return for_each_note_section(path, note_has_provider, (void *)provider);
}

struct build_id_arg {
	char *buf;
	size_t len;
};

static int find_build_id(Elf_Data *data, void *arg)
{
	struct build_id_arg *a = arg;
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4) || nh.n_descsz * 2 >= a->len)
			continue;
		for (size_t i = 0; i < nh.n_descsz; i++)
			snprintf(a->buf + 2 * i, 3, "%02x", desc[i]);
		return 1;
	}
	return 0;
}

int vs_elf_build_id(const char *path, char *buf, size_t len)
{
	struct build_id_arg a = { buf, len };
	int rc = for_each_note_section(path, find_build_id, &a);

	return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
}
