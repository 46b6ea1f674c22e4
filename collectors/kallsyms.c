/* A sorted array of text symbols with binary search. kallsyms has no sizes,
 * so an address belongs to the last symbol at or below it. */
#include "kallsyms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ksym {
	uint64_t addr;
	char *name;
};

struct vs_kallsyms {
	struct ksym *syms;
	size_t count;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static int add(struct vs_kallsyms *ks, size_t *cap, uint64_t addr, const char *name)
{
	if (ks->count == *cap) {
		size_t n = *cap ? *cap * 2 : 65536;
		struct ksym *p = realloc(ks->syms, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		ks->syms = p;
		*cap = n;
	}
	ks->syms[ks->count].name = strdup(name);
	if (!ks->syms[ks->count].name)
		return -ENOMEM;
	ks->syms[ks->count++].addr = addr;
	return 0;
}

struct vs_kallsyms *vs_kallsyms_load(const char *path)
{
	struct vs_kallsyms *ks = calloc(1, sizeof(*ks));
	char line[512], name[256], type;
	unsigned long long addr;
	size_t cap = 0;
	int err = 0;
	FILE *f;

	if (!ks)
		return NULL;
	f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f) {
		err = errno;
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || !is_text(type))
			continue;
		if (!addr)
			continue; /* hidden by kptr_restrict */
		if (add(ks, &cap, addr, name)) {
			err = ENOMEM;
			break;
		}
	}
	fclose(f);
	if (!err && !ks->count)
		err = EPERM;
	if (err)
		goto fail;
	qsort(ks->syms, ks->count, sizeof(*ks->syms), ksym_cmp);
	return ks;
fail:
	vs_kallsyms_free(ks);
	errno = err;
	return NULL;
}

void vs_kallsyms_free(struct vs_kallsyms *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->count; i++)
		free(ks->syms[i].name);
	free(ks->syms);
	free(ks);
}

const char *vs_kallsyms_lookup(const struct vs_kallsyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->count;

	/* Find the first symbol above addr; the one before it contains addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? ks->syms[lo - 1].name : NULL;
}
