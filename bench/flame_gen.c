/* The flame benchmark's input: N unique folded stacks of depth 5 to 40, as a
 * sampled program gives them, deterministic for a seed.
 *
 *   flame_gen [-n STACKS] [-s SEED] [--shuffle] > FILE
 *
 * Each stack is the one before with a few leaf frames popped and new ones
 * pushed (a walk down a call tree, as in sorted profiler output), so stacks
 * share prefixes the way real ones do. Unique by construction: the frame
 * that replaces one at a given depth takes a sibling index higher than any
 * used under that parent, and a parent once left never comes back.
 * --shuffle writes the same lines in random order (no shared prefixes
 * between neighbours: the worst case for the reader).
 *
 * Build: cc -O2 -o flame_gen bench/flame_gen.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 40
#define MIN_DEPTH 5
#define VOCAB 4096
#define THREADS 8

static const char *const prefixes[] = {
	"vir", "qemu", "g_", "pthread_", "libxl", "rpc", "dbus_", "xml", "json_", "poll",
	"event", "net", "dom", "hash", "obj", "str", "buf", "lock", "ctx", "io",
};
static const char *const words[] = {
	"Get", "Set", "Run", "Open", "Add", "Find", "Send", "Recv", "Wait", "Free", "New",
	"Parse", "Call", "Init", "Sync", "Obj", "List", "Job", "Mon", "Cmd", "Str", "Ref",
};
static const char *const threads[THREADS] = {
	"libvirtd", "rpc-libvirtd", "prio-rpc-libvirtd", "qemu-event", "udev-event",
	"gmain", "gdbus", "rpc-virtqemud",
};

static uint64_t rng_state;

/* splitmix64: small, fast, and the same everywhere for a seed. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static char vocab[VOCAB][32];

static void make_vocab(void)
{
	size_t np = sizeof(prefixes) / sizeof(*prefixes), nw = sizeof(words) / sizeof(*words);

	for (unsigned int i = 0; i < VOCAB; i++) {
		unsigned int a = i % np, b = i / np % nw, c = i / np / nw;

		if (c)
			snprintf(vocab[i], sizeof(vocab[i]), "%s%s%u", prefixes[a], words[b], c);
		else
			snprintf(vocab[i], sizeof(vocab[i]), "%s%s", prefixes[a], words[b]);
	}
}

/* Frame j's name: its index's vocabulary word (numbered past the first
 * VOCAB), and "_[k]" for kernel frames. Distinct indices, distinct names. */
static size_t put_frame(char *p, unsigned int j, uint64_t idx, int kernel)
{
	int n;

	if (j == 0)
		n = sprintf(p, "%s", threads[idx % THREADS]);
	else if (j == 1)
		n = sprintf(p, "start_thread");
	else if (idx < VOCAB)
		n = sprintf(p, "%s", vocab[idx]);
	else
		n = sprintf(p, "%s_%llu", vocab[idx % VOCAB], (unsigned long long)(idx / VOCAB));
	if (kernel)
		n += sprintf(p + n, "_[k]");
	return (size_t)n;
}

struct lines {
	char *buf;
	size_t len, cap;
	size_t *off; /* --shuffle: where each line starts */
	size_t n;
};

static void append(struct lines *l, const char *s, size_t n)
{
	if (l->len + n > l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1 << 24;
		l->buf = realloc(l->buf, l->cap);
		if (!l->buf) {
			perror("flame_gen");
			exit(1);
		}
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

int main(int argc, char **argv)
{
	uint64_t idx[MAX_DEPTH], next[MAX_DEPTH];
	int kernel[MAX_DEPTH], shuffle = 0;
	unsigned long long n = 1000000, seed = 42;
	unsigned int d = 0;
	struct lines out = { 0 };
	char line[MAX_DEPTH * 48 + 32];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-s") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--shuffle"))
			shuffle = 1;
		else {
			fprintf(stderr, "usage: flame_gen [-n STACKS] [-s SEED] [--shuffle]\n");
			return 2;
		}
	}
	rng_state = seed;
	make_vocab();
	if (shuffle && !(out.off = malloc(n * sizeof(*out.off)))) {
		perror("flame_gen");
		return 1;
	}
	for (unsigned long long i = 0; i < n; i++) {
		unsigned int depth = MIN_DEPTH + (unsigned int)(rnd() % (MAX_DEPTH - MIN_DEPTH + 1));
		unsigned int keep = 0, pop = 1;
		size_t len = 0;

		/* A new thread every n/THREADS stacks; within one, frames 0 and 1
		 * stay and the pops (1 + geometric) mostly touch the leaves. */
		if (i % (n / THREADS ? n / THREADS : 1)) {
			while (pop < d && rnd() % 2)
				pop++;
			keep = d - pop < depth - 1 ? d - pop : depth - 1;
			if (keep < 2)
				keep = 2;
		}
		for (unsigned int j = keep; j < depth; j++) {
			if (j == keep && j < d) {
				idx[j] = next[j];
				next[j] += 1 + rnd() % 3;
			} else {
				idx[j] = j == 0 ? i / (n / THREADS ? n / THREADS : 1) : rnd() % VOCAB;
				next[j] = idx[j] + 1;
			}
			kernel[j] = j + 2 >= depth && rnd() % 4 == 0;
		}
		d = depth;
		for (unsigned int j = 0; j < depth; j++) {
			len += put_frame(line + len, j, idx[j], kernel[j]);
			line[len++] = j + 1 < depth ? ';' : ' ';
		}
		len += (size_t)sprintf(line + len, "%llu\n",
				       (unsigned long long)(rnd() % 8 ? 1 + rnd() % 9 : 1 + rnd() % 5000));
		if (shuffle)
			out.off[out.n++] = out.len;
		append(&out, line, len);
		if (!shuffle && out.len > (1 << 22)) {
			fwrite(out.buf, 1, out.len, stdout);
			out.len = 0;
		}
	}
	if (shuffle) {
		/* Fisher-Yates over line starts, then each line in the new order. */
		for (size_t i = out.n; i > 1; i--) {
			size_t j = rnd() % i, t = out.off[i - 1];

			out.off[i - 1] = out.off[j];
			out.off[j] = t;
		}
		for (size_t i = 0; i < out.n; i++) {
			const char *s = out.buf + out.off[i], *e = memchr(s, '\n', out.len - out.off[i]);

			fwrite(s, 1, (size_t)(e - s) + 1, stdout);
		}
	} else {
		fwrite(out.buf, 1, out.len, stdout);
	}
	free(out.buf);
	free(out.off);
	return fflush(stdout) ? 1 : 0;
}
