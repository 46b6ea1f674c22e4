/* Small helpers every layer uses: clocks, number parsing, string building. */
#ifndef VS_UTIL_H
#define VS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define VS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VS_NSEC_PER_SEC 1000000000ULL
#define VS_NSEC_PER_MSEC 1000000ULL

/* CLOCK_MONOTONIC in ns: the clock bpf_ktime_get_ns() reads, so user-space and
 * BPF timestamps compare directly. */
uint64_t vs_now_ns(void);

/* A duration for people: "1.803 s", "12.500 ms", "42.0 us". */
void vs_fmt_ns(char *buf, size_t len, uint64_t ns);

/* Parse a whole decimal number in [min, max]. 0, -EINVAL (not a number,
 * trailing junk, empty) or -ERANGE (outside the bounds). */
int vs_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse a duration in seconds, fractions allowed ("0.5"), into ns, in
 * [min_ns, max_ns]. Same errors as vs_parse_u64. */
int vs_parse_seconds(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns);

/* A growable string. Functions return 0 or -ENOMEM; on failure the buffer
 * keeps its old contents. vs_strbuf_release() accepts a zeroed buffer. */
struct vs_strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

int vs_strbuf_grow(struct vs_strbuf *sb, size_t extra);
int vs_strbuf_add(struct vs_strbuf *sb, const char *s, size_t n);
int vs_strbuf_adds(struct vs_strbuf *sb, const char *s);
int vs_strbuf_addf(struct vs_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vs_strbuf_reset(struct vs_strbuf *sb);
void vs_strbuf_release(struct vs_strbuf *sb);

/* 64-bit hash of a byte string, for the hash tables. Not cryptographic. */
uint64_t vs_hash_bytes(const void *data, size_t len, uint64_t seed);

/* Hands the pages of freed memory back to the kernel. Call after freeing
 * much at once (a sweep of old stacks): glibc keeps freed chunks inside its
 * heap, and a process that runs for days would otherwise hold the RSS of
 * its busiest minute for good. */
void vs_release_free_memory(void);

#endif
