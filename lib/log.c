/* Levelled logging. Every message is one line prefixed "virtscope: ", so that
 * errors read the same whichever layer produced them. */
#include "log.h"

#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum vs_log_level max_level = VS_LOG_WARN;
static int held;
static char *held_buf;
static size_t held_len;

void vs_log_set_level(enum vs_log_level level)
{
	max_level = level;
}

enum vs_log_level vs_log_get_level(void)
{
	return max_level;
}

void vs_log_hold(void)
{
	held = 1;
}

void vs_log_release(void)
{
	held = 0;
	if (held_buf)
		fputs(held_buf, stderr);
	free(held_buf);
	held_buf = NULL;
	held_len = 0;
}

/* Kept messages are bounded so that a UI running for days cannot grow memory
 * through warnings; the newest are dropped, the first ones explain the rest. */
#define VS_LOG_HELD_MAX (64 * 1024)

static void keep(const char *line)
{
	size_t n = strlen(line);
	char *p;

	if (held_len + n + 1 > VS_LOG_HELD_MAX)
		return;
	p = realloc(held_buf, held_len + n + 1);
	if (!p)
		return;
	memcpy(p + held_len, line, n + 1);
	held_buf = p;
	held_len += n;
}

void vs_vlog(enum vs_log_level level, const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (level > max_level)
		return;
	n = snprintf(line, sizeof(line), "virtscope: ");
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strlen(line);
	/* Callers may or may not end with a newline; always print exactly one. */
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if ((size_t)n + 1 < sizeof(line)) {
		line[n++] = '\n';
		line[n] = '\0';
	}
	if (held)
		keep(line);
	else
		fputs(line, stderr);
}

void vs_log(enum vs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vs_vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum vs_log_level l;

	switch (level) {
	case LIBBPF_WARN:
		l = VS_LOG_INFO; /* libbpf warns about probes it then falls back from */
		break;
	case LIBBPF_INFO:
		l = VS_LOG_DEBUG;
		break;
	default:
		l = VS_LOG_TRACE;
		break;
	}
	/* A verifier log is one message of many lines, far longer than a log
	 * line: printed line by line, whole, so that -vv shows why a program
	 * was refused (the reason comes last). */
	if (l <= max_level && !held) {
		char *msg = NULL;
		va_list copy;
		int n;

		va_copy(copy, ap);
		n = vasprintf(&msg, fmt, copy);
		va_end(copy);
		if (n >= 0) {
			for (char *line = msg, *nl; *line; line = nl) {
				nl = strchr(line, '\n');
				nl = nl ? nl + 1 : line + strlen(line);
				fprintf(stderr, "virtscope: %.*s\n", (int)(nl - line - (nl[-1] == '\n')),
					line);
			}
			free(msg);
			return 0;
		}
	}
	vs_vlog(l, fmt, ap);
	return 0;
}

void vs_log_route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
