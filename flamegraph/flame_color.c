/* Frame colours, after flamegraph.pl's color() and color_scale(), so that
 * graphs look the way their readers are used to. */
#include "flame_color.h"

#include <errno.h>
#include <string.h>

#include "../lib/util.h"

static const char *const palette_names[] = {
	[FLAME_HOT] = "hot", [FLAME_MEM] = "mem", [FLAME_IO] = "io",
	[FLAME_WAKEUP] = "wakeup", [FLAME_CHAIN] = "chain",
};

int flame_palette_parse(const char *s, enum flame_palette *p)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(palette_names); i++)
		if (!strcmp(s, palette_names[i])) {
			*p = (enum flame_palette)i;
			return 0;
		}
	return -EINVAL;
}

static int ends_with(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(name + len - n, suffix, n);
}

/* flamegraph.pl's namehash(): a value in [0, 1] that weights the first
 * characters most, so that related names (same prefix) get related colours.
 * A "module`" prefix is dropped, as there (the reversed hash drops the
 * reversed string's). */
static double namehash(const char *name, size_t len, int reversed)
{
	double vector = 0, weight = 1, max = 1;
	const char *tick;
	int mod = 10;

	if (!reversed && (tick = memchr(name, '`', len))) {
		len -= (size_t)(tick + 1 - name);
		name = tick + 1;
	} else if (reversed && (tick = memrchr(name, '`', len))) {
		len = (size_t)(tick - name);
	}
	for (size_t i = 0; i < len && mod <= 12; i++, mod++) {
		unsigned char c = (unsigned char)(reversed ? name[len - 1 - i] : name[i]);

		vector += (double)(c % mod) / (mod - 1) * weight;
		max += weight;
		weight *= 0.70;
	}
	return 1 - vector / max;
}

static struct flame_rgb rgb(double r, double g, double b)
{
	return (struct flame_rgb){ (uint8_t)r, (uint8_t)g, (uint8_t)b };
}

struct flame_rgb flame_color(enum flame_palette p, int by_hash, const char *name, size_t len)
{
	double v1, v2, v3;

	if (by_hash) {
		v1 = namehash(name, len, 0);
		v2 = v3 = namehash(name, len, 1);
	} else {
		/* flamegraph.pl draws these at random; a hash keeps them stable
		 * from run to run and the same for one name everywhere. */
		uint64_t h = vs_hash_bytes(name, len, 0x5bd1e995);

		v1 = (double)(h & 0xffff) / 65536.0;
		v2 = (double)(h >> 16 & 0xffff) / 65536.0;
		v3 = (double)(h >> 32 & 0xffff) / 65536.0;
	}
	if ((len == 1 && name[0] == '-') || (len == 2 && !memcmp(name, "--", 2)))
		return rgb(160, 160, 160); /* the separator of chain graphs */
	if (p == FLAME_CHAIN && ends_with(name, len, "_[w]"))
		return rgb(50 + 60 * v1, 165 + 55 * v1, 165 + 55 * v1);
	if (ends_with(name, len, "_[k]"))
		return rgb(190 + 65 * v1, 90 + 65 * v1, 0);
	switch (p) {
	case FLAME_MEM:
		return rgb(0, 190 + 50 * v2, 210 * v1);
	case FLAME_IO:
		return rgb(80 + 60 * v1, 80 + 60 * v1, 190 + 55 * v2);
	case FLAME_WAKEUP:
		return rgb(50 + 60 * v1, 165 + 55 * v1, 165 + 55 * v1);
	case FLAME_CHAIN:
		return rgb(80 + 60 * v1, 80 + 60 * v1, 205 + 50 * v1);
	case FLAME_HOT:
	default:
		return rgb(205 + 50 * v3, 230 * v1, 55 * v2);
	}
}

struct flame_rgb flame_color_delta(int64_t delta, uint64_t max)
{
	/* As color_scale(): 210 at no change (plus the 45 that keeps the
	 * grown channel at 255), fading to 0 at the largest change. */
	uint64_t mag = delta < 0 ? (uint64_t)0 - (uint64_t)delta : (uint64_t)delta;
	uint8_t v;

	if (!delta || !max)
		return rgb(255, 255, 255);
	if (mag > max)
		mag = max;
	v = (uint8_t)((unsigned __int128)210 * (max - mag) / max);
	return delta > 0 ? rgb(255, v, v) : rgb(v, v, 255);
}

void flame_palette_background(enum flame_palette p, const char **top, const char **bottom)
{
	if (p == FLAME_IO || p == FLAME_WAKEUP || p == FLAME_CHAIN) {
		*top = "#f8f8f8";
		*bottom = "#e8e8e8";
	} else {
		*top = "#eeeeee";
		*bottom = "#eeeeb0";
	}
}
