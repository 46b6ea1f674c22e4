/* Where a thread's job name lives (see bpf/thread_job.h): the address of the
 * daemon's pthread key, from its profile, and glibc's layout of struct
 * pthread, read from glibc's own pthread_getspecific rather than assumed,
 * so that another glibc gives "unknown", never a wrong name. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../lib/util.h"
#include "elf_symbol.h"
#include "probes.h"
#include "thread_job.h"

/* glibc 2.34 to 2.38 on x86-64, for a key below 32:
 *   add  $BLOCK,%rax          48 83 c0 BB     key + offsetof(specific_1stblock) / 16
 *   shl  $4,%rax              48 c1 e0 04
 *   add  %fs:0x10,%rax        64 48 03 04 25 10 00 00 00   + THREAD_SELF
 *   mov  DATA(%rax),%rdx      48 8b 50 DD     offsetof(struct pthread_key_data, data)
 * The value of key K is then at THREAD_SELF + 16 * BLOCK + DATA + 16 * K. */
unsigned int vs_thread_job_decode_getspecific(const unsigned char *code, size_t len)
{
	static const unsigned char shl_self[] = { 0x48, 0xc1, 0xe0, 0x04, 0x64, 0x48, 0x03,
						  0x04, 0x25, 0x10, 0x00, 0x00, 0x00 };

	for (size_t i = 0; i + 4 + sizeof(shl_self) + 4 <= len; i++) {
		const unsigned char *p = code + i, *mov = p + 4 + sizeof(shl_self);

		if (p[0] == 0x48 && p[1] == 0x83 && p[2] == 0xc0 &&
		    !memcmp(p + 4, shl_self, sizeof(shl_self)) && mov[0] == 0x48 &&
		    (mov[1] == 0x8b) && (mov[2] & 0xc7) == 0x40 /* disp8(%rax) */)
			return 16u * p[3] + mov[3];
	}
	return 0;
}

/* Start of pid's mapping of the beginning of the file whose name starts
 * with prefix; 0 or -ENOENT. */
static int first_mapping(pid_t pid, const char *prefix, uint64_t *start)
{
	char line[PATH_MAX + 128];
	int rc = -ENOENT, n;
	FILE *f;

	snprintf(line, sizeof(line), "/proc/%d/maps", (int)pid);
	f = fopen(line, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t s, e, off;
		char perms[8], *path, *base;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*x:%*x %*u %n", &s, &e,
			   perms, &off, &n) < 4)
			continue;
		path = line + n;
		path[strcspn(path, "\n")] = '\0';
		base = strrchr(path, '/');
		if (off || !base || strncmp(base + 1, prefix, strlen(prefix)))
			continue;
		*start = s;
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

struct elf_file {
	int fd;
	Elf *elf;
};

static int elf_open(struct elf_file *ef, const char *path)
{
	ef->elf = NULL;
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf) {
		close(ef->fd);
		return -ENOEXEC;
	}
	return 0;
}

static void elf_close(struct elf_file *ef)
{
	elf_end(ef->elf);
	close(ef->fd);
}

static unsigned int glibc_specific_off(pid_t pid)
{
	unsigned char code[64];
	struct elf_file ef;
	char path[PATH_MAX];
	unsigned int off = 0;
	uint64_t value;
	int64_t fo;

	if (vs_probes_resolve_binary(pid, "libc.so.6", path, sizeof(path)) || elf_open(&ef, path))
		return 0;
	if (!vs_elf_func_addr(ef.elf, "pthread_getspecific", &value) &&
	    (fo = vs_elf_file_offset(ef.elf, value, NULL)) >= 0 &&
	    pread(ef.fd, code, sizeof(code), fo) == (ssize_t)sizeof(code))
		off = vs_thread_job_decode_getspecific(code, sizeof(code));
	elf_close(&ef);
	return off;
}

int vs_thread_job_locate(pid_t pid, const struct vs_profile *p, struct vs_job_loc *loc,
			 char *why, size_t whylen)
{
	uint64_t start = 0, first_load = 0;
	char path[PATH_MAX];
	struct elf_file ef;
	unsigned int off;

	memset(loc, 0, sizeof(*loc));
	if (!p->job_key.binary[0]) {
		snprintf(why, whylen, "the profile does not say where threads name their jobs");
		return -ENOENT;
	}
	if (vs_probes_resolve_binary(pid, p->job_key.binary, path, sizeof(path)) ||
	    first_mapping(pid, p->job_key.binary, &start)) {
		snprintf(why, whylen, "%s is not mapped by the target", p->job_key.binary);
		return -ENOENT;
	}
	if (elf_open(&ef, path)) {
		snprintf(why, whylen, "cannot read %s", path);
		return -ENOEXEC;
	}
	vs_elf_file_offset(ef.elf, 0, &first_load);
	elf_close(&ef);
	off = glibc_specific_off(pid);
	if (!off) {
		snprintf(why, whylen, "the target's glibc keeps thread-specific data in an "
				      "unknown layout");
		return -ENOTSUP;
	}
	loc->key_addr = start - first_load + p->job_key.offset;
	loc->specific_off = off;
	return 0;
}
