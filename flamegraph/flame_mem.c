/* Why not malloc: a tree of millions of nodes, and its hash table, are read
 * at random. With 4 KiB pages nearly every such read also misses the TLB,
 * and the first touch of each page faults; on a million-stack input that was
 * a quarter of the run time. Huge pages (2 MiB) remove most of both, and
 * asking for them needs page-aligned mappings of our own. mremap() grows
 * them without copying. */
#include "flame_mem.h"

#include <sys/mman.h>
#include <unistd.h>

static size_t round_up(size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (bytes + page - 1) / page * page;
}

static void want_huge_pages(void *p, size_t bytes)
{
	/* Only a hint: without THP the arrays work the same, only slower. */
	if (bytes >= (2u << 20))
		madvise(p, bytes, MADV_HUGEPAGE);
}

void *flame_mem_alloc(size_t bytes)
{
	size_t len = round_up(bytes ? bytes : 1);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	want_huge_pages(p, len);
	return p;
}

void *flame_mem_grow(void *p, size_t old_bytes, size_t new_bytes)
{
	size_t old_len = round_up(old_bytes ? old_bytes : 1), len = round_up(new_bytes);
	void *q;

	if (len <= old_len)
		return p;
	q = mremap(p, old_len, len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return NULL;
	want_huge_pages(q, len);
	return q;
}

void flame_mem_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, round_up(bytes ? bytes : 1));
}
