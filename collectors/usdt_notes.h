/* Reading the USDT (SystemTap SDT) notes of an ELF file. */
#ifndef VS_USDT_NOTES_H
#define VS_USDT_NOTES_H

/* 1 if the file at path carries at least one probe of provider, 0 if not,
 * -errno if it cannot be read. */
int vs_usdt_has_provider(const char *path, const char *provider);

#endif
