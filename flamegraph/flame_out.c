/* The flame outputs' buffered writer. A big buffer of its own, flushed with
 * one fwrite, so that an SVG of a hundred thousand frames costs a few
 * hundred writes, not stdio's per-call locking. */
#include "flame_out.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BUF_SIZE (1 << 20)

int flame_out_init(struct flame_out *o, FILE *f)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->buf = malloc(OUT_BUF_SIZE);
	if (!o->buf)
		return -ENOMEM;
	o->cap = OUT_BUF_SIZE;
	return 0;
}

static void flush(struct flame_out *o)
{
	if (!o->err && o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = -EIO;
	o->len = 0;
}

int flame_out_finish(struct flame_out *o)
{
	int err;

	if (o->buf)
		flush(o);
	if (!o->err && fflush(o->f))
		o->err = -EIO;
	err = o->err;
	free(o->buf);
	o->buf = NULL;
	return err;
}

/* Room for n more bytes, flushing if need be; NULL once failed. */
static char *room(struct flame_out *o, size_t n)
{
	if (o->err || !o->buf)
		return NULL;
	if (o->cap - o->len < n)
		flush(o);
	return o->cap - o->len < n ? NULL : o->buf + o->len;
}

void flame_out_write(struct flame_out *o, const char *s, size_t n)
{
	while (n && !o->err && o->buf) {
		size_t k = o->cap - o->len;

		if (!k) {
			flush(o);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void flame_out_str(struct flame_out *o, const char *s)
{
	flame_out_write(o, s, strlen(s));
}

void flame_out_char(struct flame_out *o, char c)
{
	char *p = room(o, 1);

	if (p) {
		*p = c;
		o->len++;
	}
}

void flame_out_fmt(struct flame_out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		o->err = o->err ? o->err : -EINVAL;
		return;
	}
	flame_out_write(o, line, (size_t)n);
}

uint64_t flame_pow10(unsigned int digits)
{
	uint64_t v = 1;

	while (digits--)
		v *= 10;
	return v;
}

/* Digits of v into the end of buf, with a ',' every three if group; returns
 * where they start. */
static char *digits_of(char *end, uint64_t v, int group)
{
	int n = 0;

	do {
		if (group && n && n % 3 == 0)
			*--end = ',';
		*--end = (char)('0' + v % 10);
		v /= 10;
		n++;
	} while (v);
	return end;
}

void flame_out_u64(struct flame_out *o, uint64_t v)
{
	char buf[32], *end = buf + sizeof(buf), *s = digits_of(end, v, 0);

	flame_out_write(o, s, (size_t)(end - s));
}

void flame_out_count(struct flame_out *o, uint64_t v, unsigned int digits, int group)
{
	char buf[48], *end = buf + sizeof(buf), *p = end;
	uint64_t scale = flame_pow10(digits), frac = v % scale;

	if (frac) {
		unsigned int d = digits;

		for (; frac % 10 == 0; d--)
			frac /= 10;
		for (; d; d--, frac /= 10)
			*--p = (char)('0' + frac % 10);
		*--p = '.';
	}
	p = digits_of(p, v / scale, group);
	flame_out_write(o, p, (size_t)(end - p));
}

void flame_out_centi(struct flame_out *o, uint64_t v)
{
	char buf[32], *end = buf + sizeof(buf), *s;

	end[-1] = (char)('0' + v % 10);
	end[-2] = (char)('0' + v / 10 % 10);
	end[-3] = '.';
	s = digits_of(end - 3, v / 100, 0);
	flame_out_write(o, s, (size_t)(end - s));
}

size_t flame_utf8_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len;
	uint32_t cp, min;

	if (u[0] < 0x80)
		return 1;
	if ((u[0] & 0xe0) == 0xc0)
		len = 2, cp = u[0] & 0x1f, min = 0x80;
	else if ((u[0] & 0xf0) == 0xe0)
		len = 3, cp = u[0] & 0x0f, min = 0x800;
	else if ((u[0] & 0xf8) == 0xf0)
		len = 4, cp = u[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (u[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not
	 * UTF-8, and a strict XML parser rejects the whole document. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static const char replacement[] = "\xef\xbf\xbd";

/* Writes s escaped, with esc() giving each ASCII byte's escape or NULL. */
static void escaped(struct flame_out *o, const char *s, size_t n,
		    const char *(*esc)(unsigned char c, char tmp[8]))
{
	const char *run = s, *end = s + n;
	char tmp[8];

	while (s < end) {
		unsigned char c = (unsigned char)*s;
		const char *e = NULL;
		size_t k = 1;

		if (c < 0x80)
			e = esc(c, tmp);
		else if (!(k = flame_utf8_len(s, (size_t)(end - s))))
			e = replacement, k = 1;
		if (e) {
			flame_out_write(o, run, (size_t)(s - run));
			flame_out_str(o, e);
			run = s + k;
		}
		s += k;
	}
	flame_out_write(o, run, (size_t)(s - run));
}

static const char *xml_escape(unsigned char c, char tmp[8])
{
	(void)tmp;
	switch (c) {
	case '&': return "&amp;";
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '"': return "&quot;";
	case '\'': return "&apos;";
	case '\t': return NULL;
	default: return c < 0x20 || c == 0x7f ? replacement : NULL;
	}
}

static const char *json_escape(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	default:
		if (c >= 0x20)
			return NULL;
		snprintf(tmp, 8, "\\u%04x", c);
		return tmp;
	}
}

void flame_out_xml(struct flame_out *o, const char *s, size_t n)
{
	escaped(o, s, n, xml_escape);
}

void flame_out_json(struct flame_out *o, const char *s, size_t n)
{
	escaped(o, s, n, json_escape);
}
