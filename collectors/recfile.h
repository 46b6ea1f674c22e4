/* The recording file format: a header, then checksummed chunks.
 *
 *   header  "VSREC\0\r\n", u32 version, u32 flags           (16 bytes, LE)
 *   chunk   "VSCK", u32 type, u32 stored length, u32 raw length,
 *           u32 sequence, u32 crc32, payload                 (24 + stored)
 *
 * The CRC covers the chunk's header fields and its payload, which is zlib
 * data (raw length bytes once inflated). A chunk is written with one write()
 * and synced, so a recorder that is killed, or a machine that loses power,
 * leaves at most its last chunk torn. The reader checks every chunk, skips a
 * damaged one by searching for the next "VSCK" whose checksum holds, and
 * reports what it skipped: every intact chunk is salvaged.
 *
 * Payloads are sequences of records (see recorder.c and replay.c for the
 * records themselves), built with the varint buffer below: unsigned LEB128
 * numbers, zigzag for signed ones, strings as length+1 (0 is NULL). */
#ifndef VS_RECFILE_H
#define VS_RECFILE_H

#include <stddef.h>
#include <stdint.h>

#define VS_REC_MAGIC "VSREC\0\r\n"
#define VS_REC_MAGIC_LEN 8
/* 2: VS_EV_TARGET (restarts); a version-1 file reads as before. */
#define VS_REC_VERSION 2
#define VS_REC_HEADER_LEN 16
#define VS_REC_CHUNK_HEADER_LEN 24
/* No chunk inflates to more than this: a bigger length is damage. */
#define VS_REC_MAX_RAW (64u << 20)

enum vs_rec_chunk_type {
	VS_REC_CHUNK_META = 1,   /* what was recorded: target, profile roles, config */
	VS_REC_CHUNK_DICT,       /* stacks, symbol names, mappings and build-ids */
	VS_REC_CHUNK_EVENTS,     /* events, in the order the session delivered them */
	VS_REC_CHUNK_TOTALS,     /* figures counted in BPF, read at the end */
	VS_REC_CHUNK_END,        /* the recording ended cleanly */
	VS_REC_CHUNK_TYPE_MAX,
};

/* A growable byte buffer with the encoders. Functions set buf->oom instead of
 * failing one by one; check it once at the end. */
struct vs_rec_buf {
	uint8_t *data;
	size_t len, cap;
	int oom;
};

void vs_rec_buf_u8(struct vs_rec_buf *b, uint8_t v);
void vs_rec_buf_uv(struct vs_rec_buf *b, uint64_t v);   /* varint */
void vs_rec_buf_sv(struct vs_rec_buf *b, int64_t v);    /* zigzag varint */
void vs_rec_buf_str(struct vs_rec_buf *b, const char *s); /* NULL kept apart from "" */
void vs_rec_buf_bytes(struct vs_rec_buf *b, const void *p, size_t n);
void vs_rec_buf_reset(struct vs_rec_buf *b);
void vs_rec_buf_release(struct vs_rec_buf *b);
/* Gives back the capacity beyond b's length (a buffer kept for long). */
void vs_rec_buf_shrink(struct vs_rec_buf *b);

/* A reading cursor over a payload. Decoders set cur->bad instead of failing
 * one by one; strings are decoded into cur's scratch space, valid until the
 * next vs_rec_cur_init() or vs_rec_cur_reset_scratch(). */
struct vs_rec_cur {
	const uint8_t *p, *end;
	int bad;
	char *scratch;
	size_t scratch_len, scratch_cap;
};

/* Points c at a payload, with scratch room for every string in it; the
 * cursor starts zeroed, and is released with vs_rec_cur_release(). */
int vs_rec_cur_init(struct vs_rec_cur *c, const uint8_t *p, size_t len);
uint8_t vs_rec_get_u8(struct vs_rec_cur *c);
uint64_t vs_rec_get_uv(struct vs_rec_cur *c);
int64_t vs_rec_get_sv(struct vs_rec_cur *c);
/* NULL for a NULL string (or on damage, with c->bad set). */
const char *vs_rec_get_str(struct vs_rec_cur *c);
/* A string into a fixed buffer (truncated, NUL-terminated, "" for NULL). */
void vs_rec_get_strn(struct vs_rec_cur *c, char *out, size_t outlen);
const void *vs_rec_get_bytes(struct vs_rec_cur *c, size_t n);
void vs_rec_cur_reset_scratch(struct vs_rec_cur *c);
void vs_rec_cur_release(struct vs_rec_cur *c);

/* Writing. The fd is the caller's. */
int vs_rec_write_header(int fd);
/* Compresses raw into a chunk and writes it whole; syncs it when sync is
 * set. 0 or -errno. */
int vs_rec_write_chunk(int fd, uint32_t type, uint32_t seq, const void *raw, size_t len,
		       int sync);
/* The same, into a memory buffer (the flight recorder's ring). */
int vs_rec_encode_chunk(struct vs_rec_buf *out, uint32_t type, uint32_t seq, const void *raw,
			size_t len);

/* Reading a whole file (or memory image). */
enum vs_rec_error {
	VS_REC_OK = 0,
	VS_REC_EMPTY,        /* zero bytes */
	VS_REC_NOT_RECORDING, /* no magic */
	VS_REC_NEWER,        /* a version this reader does not know */
	VS_REC_TRUNCATED,    /* the last chunk is incomplete */
	VS_REC_CORRUPT,      /* a chunk failed its checksum or did not inflate */
	VS_REC_NO_END,       /* every chunk is intact, but the recording did not end */
};

struct vs_rec_reader {
	const uint8_t *data;
	size_t size, pos;
	uint32_t version;
	/* What reading found so far: chunks read, skipped, and the first
	 * problem (its offset and a one-line reason). */
	uint64_t chunks, skipped_bytes;
	enum vs_rec_error error;
	size_t error_offset;
	int saw_end;
	uint8_t *raw; /* the current chunk, inflated */
	size_t raw_cap;
};

/* Checks the header. VS_REC_OK, or EMPTY, NOT_RECORDING, NEWER, TRUNCATED. */
enum vs_rec_error vs_rec_reader_init(struct vs_rec_reader *r, const void *data, size_t size);

/* The next intact chunk: 1 with its type and inflated payload, 0 at the end.
 * Damage is skipped and noted in r->error (the first one wins). */
int vs_rec_next_chunk(struct vs_rec_reader *r, uint32_t *type, const uint8_t **payload,
		      size_t *len);
void vs_rec_reader_release(struct vs_rec_reader *r);

/* One line for an error, with its offset where it has one. */
void vs_rec_error_line(const struct vs_rec_reader *r, char *buf, size_t len);

#endif
