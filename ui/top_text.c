/* The header lines, batch frames and JSON objects of `virtscope top`, all
 * from the model's tables (top_views.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "top_views.h"

static double rate(const struct vs_top_model *m, uint64_t n)
{
	return m->hdr.interval_s > 0 ? (double)n / m->hdr.interval_s : 0;
}

static void uptime(char *buf, size_t len, uint64_t s)
{
	if (s >= 86400)
		snprintf(buf, len, "%llud %02llu:%02llu", (unsigned long long)(s / 86400),
			 (unsigned long long)(s % 86400 / 3600), (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s % 3600 / 60), (unsigned long long)(s % 60));
}

int vs_top_header_lines(const struct vs_top_model *m, char lines[][128], int max)
{
	const struct vs_top_header *h = &m->hdr;
	char up[32];
	int n = 0;

	uptime(up, sizeof(up), h->uptime_s);
	if (n < max)
		snprintf(lines[n++], 128,
			 "%s pid %u  up %s  %u threads  CPU %.1f%%  (virtscope %.1f%%, %.0f MiB)",
			 h->daemon, h->pid, up, h->threads, h->cpu_pct, h->self_cpu_pct,
			 (double)h->self_rss_kib / 1024);
	if (n < max)
		snprintf(lines[n++], 128, "RPC %.1f/s  forks %.1f/s  D-Bus %.1f/s  keepalive timeouts %llu (%llu)",
			 rate(m, h->rpcs.last.count), rate(m, h->forks.last.count),
			 rate(m, h->dbus.last.count), (unsigned long long)h->keepalive_timeouts.last.count,
			 (unsigned long long)(h->keepalive_timeouts.cum.count));
	if (n < max) {
		char last[32];

		if (h->stalls.last.count)
			snprintf(last, sizeof(last), "%.0f ms", (double)h->stalls.last.max_ns / 1e6);
		else
			snprintf(last, sizeof(last), "<10 ms");
		snprintf(lines[n++], 128, "loop stall %s, max %.0f ms  lost events %llu (%llu)", last,
			 (double)h->stall_max_ever_ns / 1e6, (unsigned long long)h->lost.last.count,
			 (unsigned long long)(h->lost.cum.count));
	}
	if (n < max && h->status[0])
		snprintf(lines[n++], 128, "%.127s", h->status);
	return n;
}

void vs_top_write_text(FILE *out, const struct vs_top_model *m, size_t rows)
{
	struct vs_top_table t = { 0 };
	char lines[4][128], buf[1024];
	int n = vs_top_header_lines(m, lines, 4);

	for (int i = 0; i < n; i++)
		fprintf(out, "%s\n", lines[i]);
	for (int v = 0; v < VS_TOP_NR_VIEWS; v++) {
		if (vs_top_table_build(&t, m, v, NULL, vs_top_view_default_sort(v), 0))
			break;
		fprintf(out, "\n%s\n", vs_top_view_title(v));
		vs_top_format_titles(&t, buf, sizeof(buf), 0);
		fprintf(out, "%s\n", buf);
		for (size_t r = 0; r < t.nr && (!rows || r < rows); r++) {
			vs_top_format_row(&t, t.rows[r].cells, buf, sizeof(buf), 0);
			fprintf(out, "%s\n", buf);
		}
	}
	fprintf(out, "\n");
	fflush(out);
	vs_top_table_release(&t);
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_num(FILE *out, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", out);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.3f", v);
}

static void json_header(FILE *out, const struct vs_top_model *m)
{
	const struct vs_top_header *h = &m->hdr;

	fprintf(out, "\"header\":{\"daemon\":");
	json_str(out, h->daemon);
	fprintf(out, ",\"pid\":%u,\"uptime_s\":%llu,\"threads\":%u,\"cpu_pct\":", h->pid,
		(unsigned long long)h->uptime_s, h->threads);
	json_num(out, h->cpu_pct);
	fprintf(out, ",\"virtscope_cpu_pct\":");
	json_num(out, h->self_cpu_pct);
	fprintf(out, ",\"virtscope_rss_kib\":%llu", (unsigned long long)h->self_rss_kib);
	fprintf(out, ",\"interval_s\":");
	json_num(out, h->interval_s);
	fprintf(out, ",\"rpcs_per_s\":");
	json_num(out, rate(m, h->rpcs.last.count));
	fprintf(out, ",\"forks_per_s\":");
	json_num(out, rate(m, h->forks.last.count));
	fprintf(out, ",\"dbus_per_s\":");
	json_num(out, rate(m, h->dbus.last.count));
	fprintf(out, ",\"stall_max_ms\":");
	json_num(out, h->stalls.last.count ? (double)h->stalls.last.max_ns / 1e6 : 0);
	fprintf(out, ",\"stall_max_ever_ms\":");
	json_num(out, (double)h->stall_max_ever_ns / 1e6);
	fprintf(out, ",\"keepalive_timeouts\":%llu,\"keepalive_timeouts_total\":%llu",
		(unsigned long long)h->keepalive_timeouts.last.count,
		(unsigned long long)h->keepalive_timeouts.cum.count);
	fprintf(out, ",\"lost\":%llu,\"lost_total\":%llu,\"status\":",
		(unsigned long long)h->lost.last.count, (unsigned long long)h->lost.cum.count);
	json_str(out, h->status);
	fputc('}', out);
}

void vs_top_write_json(FILE *out, const struct vs_top_model *m, size_t rows)
{
	struct vs_top_table t = { 0 };

	fputc('{', out);
	json_header(out, m);
	for (int v = 0; v < VS_TOP_NR_VIEWS; v++) {
		if (vs_top_table_build(&t, m, v, NULL, vs_top_view_default_sort(v), 0))
			break;
		fprintf(out, ",\"%s\":[", vs_top_view_name(v));
		for (size_t r = 0; r < t.nr && (!rows || r < rows); r++) {
			fputs(r ? ",{" : "{", out);
			for (int c = 0; c < t.ncols; c++) {
				const struct vs_top_cell *cell = &t.rows[r].cells[c];

				fprintf(out, "%s\"%s\":", c ? "," : "", t.cols[c].json);
				if (cell->has_num && !t.cols[c].left)
					json_num(out, cell->num);
				else
					json_str(out, cell->text);
			}
			fputc('}', out);
		}
		fputc(']', out);
	}
	fputs("}\n", out);
	fflush(out);
	vs_top_table_release(&t);
}
