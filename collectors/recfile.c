/* Recording chunks: encoding, checksums, compression, and a reader that
 * salvages every intact chunk of a damaged file. See recfile.h. */
#include "recfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK_SYNC "VSCK"

/* ---- the byte buffer ---- */

static int buf_reserve(struct vs_rec_buf *b, size_t extra)
{
	size_t cap;
	uint8_t *p;

	if (b->oom)
		return -1;
	if (b->len + extra <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void vs_rec_buf_bytes(struct vs_rec_buf *b, const void *p, size_t n)
{
	if (!n || buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void vs_rec_buf_u8(struct vs_rec_buf *b, uint8_t v)
{
	vs_rec_buf_bytes(b, &v, 1);
}

void vs_rec_buf_uv(struct vs_rec_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n] = v & 0x7f;
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	vs_rec_buf_bytes(b, tmp, n);
}

void vs_rec_buf_sv(struct vs_rec_buf *b, int64_t v)
{
	vs_rec_buf_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void vs_rec_buf_str(struct vs_rec_buf *b, const char *s)
{
	size_t n;

	if (!s) {
		vs_rec_buf_uv(b, 0);
		return;
	}
	n = strlen(s);
	vs_rec_buf_uv(b, n + 1);
	vs_rec_buf_bytes(b, s, n);
}

void vs_rec_buf_reset(struct vs_rec_buf *b)
{
	b->len = 0;
}

void vs_rec_buf_shrink(struct vs_rec_buf *b)
{
	uint8_t *p;

	if (!b->len || b->cap == b->len)
		return;
	p = realloc(b->data, b->len);
	if (p) { /* else it keeps the bigger block: no harm */
		b->data = p;
		b->cap = b->len;
	}
}

void vs_rec_buf_release(struct vs_rec_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- the cursor ---- */

const void *vs_rec_get_bytes(struct vs_rec_cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return NULL;
	}
	c->p += n;
	return p;
}

uint8_t vs_rec_get_u8(struct vs_rec_cur *c)
{
	const uint8_t *p = vs_rec_get_bytes(c, 1);

	return p ? *p : 0;
}

uint64_t vs_rec_get_uv(struct vs_rec_cur *c)
{
	uint64_t v = 0;

	for (unsigned int shift = 0; shift < 64; shift += 7) {
		uint8_t byte = vs_rec_get_u8(c);

		if (c->bad)
			return 0;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	c->bad = 1; /* more than 10 bytes: not a number this writer made */
	return 0;
}

int64_t vs_rec_get_sv(struct vs_rec_cur *c)
{
	uint64_t v = vs_rec_get_uv(c);

	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

const char *vs_rec_get_str(struct vs_rec_cur *c)
{
	uint64_t n = vs_rec_get_uv(c);
	const char *s;
	char *dst;

	if (!n || c->bad)
		return NULL;
	n--;
	s = vs_rec_get_bytes(c, n);
	if (!s)
		return NULL;
	/* Never happens for a cursor from vs_rec_cur_init(): a string takes
	 * at most the payload bytes it was decoded from. */
	if (c->scratch_len + n + 1 > c->scratch_cap) {
		c->bad = 1;
		return NULL;
	}
	dst = c->scratch + c->scratch_len;
	memcpy(dst, s, n);
	dst[n] = '\0';
	c->scratch_len += n + 1;
	return dst;
}

void vs_rec_get_strn(struct vs_rec_cur *c, char *out, size_t outlen)
{
	uint64_t n = vs_rec_get_uv(c);
	const char *s;

	out[0] = '\0';
	if (!n || c->bad)
		return;
	s = vs_rec_get_bytes(c, n - 1);
	if (!s)
		return;
	n = n - 1 < outlen - 1 ? n - 1 : outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int vs_rec_cur_init(struct vs_rec_cur *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->end = p + len;
	c->bad = 0;
	c->scratch_len = 0;
	if (len + 1 > c->scratch_cap) {
		char *s = realloc(c->scratch, len + 1);

		if (!s)
			return -ENOMEM;
		c->scratch = s;
		c->scratch_cap = len + 1;
	}
	return 0;
}

void vs_rec_cur_reset_scratch(struct vs_rec_cur *c)
{
	c->scratch_len = 0;
}

void vs_rec_cur_release(struct vs_rec_cur *c)
{
	free(c->scratch);
	c->scratch = NULL;
	c->scratch_cap = c->scratch_len = 0;
}

/* ---- writing ---- */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int vs_rec_write_header(int fd)
{
	uint8_t h[VS_REC_HEADER_LEN];

	memcpy(h, VS_REC_MAGIC, VS_REC_MAGIC_LEN);
	put32(h + 8, VS_REC_VERSION);
	put32(h + 12, 0);
	return write_all(fd, h, sizeof(h));
}

static uint32_t chunk_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	/* type, lengths and sequence: everything but the sync word and the CRC */
	crc = crc32(crc, hdr + 4, 16);
	return (uint32_t)crc32(crc, payload, (uInt)len);
}

int vs_rec_encode_chunk(struct vs_rec_buf *out, uint32_t type, uint32_t seq, const void *raw,
			size_t len)
{
	uLongf bound = compressBound((uLong)len);
	size_t start = out->len;
	uint8_t *hdr, *payload;

	if (len > VS_REC_MAX_RAW)
		return -E2BIG;
	if (buf_reserve(out, VS_REC_CHUNK_HEADER_LEN + bound))
		return -ENOMEM;
	hdr = out->data + start;
	payload = hdr + VS_REC_CHUNK_HEADER_LEN;
	/* Level 1: most of the size win at a small fraction of the cost. */
	if (compress2(payload, &bound, raw, (uLong)len, 1) != Z_OK)
		return -ENOMEM;
	memcpy(hdr, CHUNK_SYNC, 4);
	put32(hdr + 4, type);
	put32(hdr + 8, (uint32_t)bound);
	put32(hdr + 12, (uint32_t)len);
	put32(hdr + 16, seq);
	put32(hdr + 20, chunk_crc(hdr, payload, bound));
	out->len = start + VS_REC_CHUNK_HEADER_LEN + bound;
	return 0;
}

int vs_rec_write_chunk(int fd, uint32_t type, uint32_t seq, const void *raw, size_t len,
		       int sync)
{
	struct vs_rec_buf b = { 0 };
	int rc = vs_rec_encode_chunk(&b, type, seq, raw, len);

	if (!rc)
		rc = write_all(fd, b.data, b.len);
	if (!rc && sync && fdatasync(fd))
		rc = -errno;
	vs_rec_buf_release(&b);
	return rc;
}

/* ---- reading ---- */

enum vs_rec_error vs_rec_reader_init(struct vs_rec_reader *r, const void *data, size_t size)
{
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->size = size;
	if (!size)
		return r->error = VS_REC_EMPTY;
	if (size < VS_REC_MAGIC_LEN || memcmp(data, VS_REC_MAGIC, VS_REC_MAGIC_LEN)) {
		/* A torn header of a real recording still starts with the magic. */
		if (size < VS_REC_MAGIC_LEN && !memcmp(data, VS_REC_MAGIC, size))
			return r->error = VS_REC_TRUNCATED;
		return r->error = VS_REC_NOT_RECORDING;
	}
	if (size < VS_REC_HEADER_LEN)
		return r->error = VS_REC_TRUNCATED;
	r->version = get32(r->data + 8);
	if (r->version > VS_REC_VERSION || r->version == 0)
		return r->error = VS_REC_NEWER;
	r->pos = VS_REC_HEADER_LEN;
	return VS_REC_OK;
}

static void note(struct vs_rec_reader *r, enum vs_rec_error e, size_t off)
{
	if (r->error == VS_REC_OK) {
		r->error = e;
		r->error_offset = off;
	}
}

/* Checks the chunk at off: 1 and its parts when it is whole and intact,
 * 0 when it is damaged, -1 when it runs past the end of the file. */
static int check_chunk(struct vs_rec_reader *r, size_t off, uint32_t *type, size_t *stored,
		       size_t *raw)
{
	const uint8_t *h = r->data + off;

	if (r->size - off < VS_REC_CHUNK_HEADER_LEN)
		return -1;
	if (memcmp(h, CHUNK_SYNC, 4))
		return 0;
	*type = get32(h + 4);
	*stored = get32(h + 8);
	*raw = get32(h + 12);
	if (*raw > VS_REC_MAX_RAW || *stored > compressBound(VS_REC_MAX_RAW))
		return 0;
	if (r->size - off - VS_REC_CHUNK_HEADER_LEN < *stored)
		return -1;
	if (chunk_crc(h, h + VS_REC_CHUNK_HEADER_LEN, *stored) != get32(h + 20))
		return 0;
	return 1;
}

/* The next offset after off where a chunk's sync word starts, or size. */
static size_t resync(const struct vs_rec_reader *r, size_t off)
{
	for (size_t i = off + 1; i + 4 <= r->size; i++)
		if (!memcmp(r->data + i, CHUNK_SYNC, 4))
			return i;
	return r->size;
}

static int inflate_chunk(struct vs_rec_reader *r, size_t off, size_t stored, size_t raw)
{
	uLongf out = (uLongf)raw;

	if (raw > r->raw_cap) {
		uint8_t *p = realloc(r->raw, raw ? raw : 1);

		if (!p)
			return -ENOMEM;
		r->raw = p;
		r->raw_cap = raw;
	}
	if (uncompress(r->raw, &out, r->data + off + VS_REC_CHUNK_HEADER_LEN, (uLong)stored) !=
		    Z_OK ||
	    out != raw)
		return -EINVAL;
	return 0;
}

int vs_rec_next_chunk(struct vs_rec_reader *r, uint32_t *type, const uint8_t **payload,
		      size_t *len)
{
	while (r->pos < r->size) {
		size_t off = r->pos, stored = 0, raw = 0;
		int ok = check_chunk(r, off, type, &stored, &raw);

		if (ok < 0) {
			/* A torn tail is the expected damage of a killed
			 * recorder; a chunk further on may still be whole if
			 * only a length was hit. */
			size_t next = resync(r, off);

			if (next == r->size) {
				note(r, VS_REC_TRUNCATED, off);
				r->skipped_bytes += r->size - off;
				r->pos = r->size;
				return 0;
			}
			note(r, VS_REC_CORRUPT, off);
			r->skipped_bytes += next - off;
			r->pos = next;
			continue;
		}
		if (!ok || inflate_chunk(r, off, stored, raw)) {
			size_t next = resync(r, off);

			note(r, VS_REC_CORRUPT, off);
			r->skipped_bytes += next - off;
			r->pos = next;
			continue;
		}
		r->pos = off + VS_REC_CHUNK_HEADER_LEN + stored;
		r->chunks++;
		if (*type == VS_REC_CHUNK_END)
			r->saw_end = 1;
		*payload = r->raw;
		*len = raw;
		return 1;
	}
	if (!r->saw_end && r->error == VS_REC_OK)
		note(r, VS_REC_NO_END, r->size);
	return 0;
}

void vs_rec_reader_release(struct vs_rec_reader *r)
{
	free(r->raw);
	r->raw = NULL;
	r->raw_cap = 0;
}

void vs_rec_error_line(const struct vs_rec_reader *r, char *buf, size_t len)
{
	switch (r->error) {
	case VS_REC_OK:
		snprintf(buf, len, "ok");
		break;
	case VS_REC_EMPTY:
		snprintf(buf, len, "the file is empty");
		break;
	case VS_REC_NOT_RECORDING:
		snprintf(buf, len, "not a virtscope recording");
		break;
	case VS_REC_NEWER:
		snprintf(buf, len, "recording format version %u is newer than this virtscope reads (%u)",
			 r->version, VS_REC_VERSION);
		break;
	case VS_REC_TRUNCATED:
		snprintf(buf, len, "truncated at byte %zu (%llu intact chunks salvaged)",
			 r->error_offset, (unsigned long long)r->chunks);
		break;
	case VS_REC_CORRUPT:
		snprintf(buf, len, "damaged chunk at byte %zu, %llu bytes skipped (%llu intact chunks salvaged)",
			 r->error_offset, (unsigned long long)r->skipped_bytes,
			 (unsigned long long)r->chunks);
		break;
	case VS_REC_NO_END:
		snprintf(buf, len, "the recording did not end cleanly (recorder killed?); %llu chunks salvaged",
			 (unsigned long long)r->chunks);
		break;
	}
}
