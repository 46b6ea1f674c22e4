/* What the exporters share: JSON strings and naming a stack's frames. */
#include "export.h"

void vs_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void vs_export_frames(const struct vs_export_input *in, vs_stack_id id,
		      void (*fn)(void *arg, const char *name, int kernel), void *arg)
{
	const struct vs_stack *st = vs_stacks_get(in->stacks, id);
	const uint64_t *u;

	if (!st)
		return;
	u = st->ips + st->nr_kernel;
	for (unsigned int i = st->nr_user; i-- > 0;)
		fn(arg, vs_symbolize_user(in->sym, st->pid, vs_stack_lookup_ip(u, i)), 0);
	for (unsigned int i = st->nr_kernel; i-- > 0;)
		fn(arg, vs_symbolize_kernel(in->sym, vs_stack_lookup_ip(st->ips, i)), 1);
}
