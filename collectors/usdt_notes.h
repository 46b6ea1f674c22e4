/* Reading ELF notes: USDT (SystemTap SDT) probes and the build-id. */
#ifndef VS_USDT_NOTES_H
#define VS_USDT_NOTES_H

#include <stddef.h>

/* 1 if the file at path carries at least one probe of provider, 0 if not,
 * -errno if it cannot be read. */
int vs_usdt_has_provider(const char *path, const char *provider);

/* The GNU build-id of the file at path, in lowercase hex, into buf. 0,
 * -ENOENT when it has none, or -errno. */
int vs_elf_build_id(const char *path, char *buf, size_t len);

#endif
