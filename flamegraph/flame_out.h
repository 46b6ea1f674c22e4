/* One buffered writer for the flame outputs (SVG, folded, JSON), with the
 * escaping and number formats they share. Errors are sticky: write freely,
 * and check flame_out_finish() once. */
#ifndef VS_FLAME_OUT_H
#define VS_FLAME_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct flame_out {
	FILE *f;
	char *buf;
	size_t len, cap;
	int err; /* the first error, -ENOMEM or -EIO */
};

/* 0 or -ENOMEM. f stays the caller's. */
int flame_out_init(struct flame_out *o, FILE *f);
/* Flushes and frees the buffer: 0, or the first error. */
int flame_out_finish(struct flame_out *o);

void flame_out_write(struct flame_out *o, const char *s, size_t n);
void flame_out_str(struct flame_out *o, const char *s);
void flame_out_char(struct flame_out *o, char c);
void flame_out_fmt(struct flame_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void flame_out_u64(struct flame_out *o, uint64_t v);
/* A fixed-point count, v / 10^digits, without trailing zeros ("2.5", "3").
 * group: with thousands separators ("1,234.5"). */
void flame_out_count(struct flame_out *o, uint64_t v, unsigned int digits, int group);
/* v / 100 with two decimals ("12.30"): pixels and percentages. */
void flame_out_centi(struct flame_out *o, uint64_t v);

/* Text escaped for XML content and attribute values. Bytes that are not
 * valid UTF-8, and control characters XML forbids, become U+FFFD. */
void flame_out_xml(struct flame_out *o, const char *s, size_t n);
/* The same for the inside of a JSON string. */
void flame_out_json(struct flame_out *o, const char *s, size_t n);

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when s[0]
 * does not start one. */
size_t flame_utf8_len(const char *s, size_t n);

/* 10^digits, digits <= 9. */
uint64_t flame_pow10(unsigned int digits);

#endif
