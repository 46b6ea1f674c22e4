/* Clocks, number parsing and growable strings. */
#include "util.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t vs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * VS_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int vs_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int vs_parse_seconds(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns)
{
	uint64_t whole = 0, frac = 0, scale = VS_NSEC_PER_SEC;
	const char *p = s;

	if (!s || !*s || *s == '.')
		return -EINVAL;
	/* Parsed by hand rather than with strtod so that "1e9", "inf", "nan"
	 * and locale-specific decimal points are rejected, not misread. */
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX / VS_NSEC_PER_SEC) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
		}
	}
	if (*p)
		return -EINVAL;
	whole = whole * VS_NSEC_PER_SEC + frac;
	if (whole < min_ns || whole > max_ns)
		return -ERANGE;
	*out_ns = whole;
	return 0;
}

int vs_strbuf_grow(struct vs_strbuf *sb, size_t extra)
{
	size_t want = sb->len + extra + 1, cap = sb->cap ? sb->cap : 64;
	char *p;

	if (want <= sb->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p)
		return -ENOMEM;
	sb->buf = p;
	sb->cap = cap;
	return 0;
}

int vs_strbuf_add(struct vs_strbuf *sb, const char *s, size_t n)
{
	if (vs_strbuf_grow(sb, n))
		return -ENOMEM;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int vs_strbuf_adds(struct vs_strbuf *sb, const char *s)
{
	return vs_strbuf_add(sb, s, strlen(s));
}

int vs_strbuf_addf(struct vs_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (vs_strbuf_grow(sb, (size_t)n))
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

void vs_strbuf_reset(struct vs_strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void vs_strbuf_release(struct vs_strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t vs_hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL), w;

	/* Eight bytes at a time, since keys are long: whole stacks and
	 * folded lines. */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = mix64(h ^ w) * 0x9e3779b97f4a7c15ULL;
	}
	w = 0;
	memcpy(&w, p, len);
	return mix64(h ^ w);
}

void vs_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= VS_NSEC_PER_SEC)
		snprintf(buf, len, "%.3f s", (double)ns / 1e9);
	else if (ns >= VS_NSEC_PER_MSEC)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
}

void vs_release_free_memory(void)
{
	malloc_trim(0);
}
