/* virtscope flame's library, on small inputs with expected output: parsing
 * and malformed lines, merging, sorted and chart order, fixed-point counts,
 * layout widths, escaping, the SVG, folded and speedscope writers, diffs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../flamegraph/flame_color.h"
#include "../../flamegraph/flame_folded.h"
#include "../../flamegraph/flame_layout.h"
#include "../../flamegraph/flame_out.h"
#include "../../flamegraph/flame_parallel.h"
#include "../../flamegraph/flame_read.h"
#include "../../flamegraph/flame_svg.h"
#include "../../flamegraph/flame_tree.h"
#include "unit.h"

/* Builds t from text (which must outlive t: names point into it). */
static int build(struct flame_tree *t, const char *text, int reverse, int chart,
		 struct flame_parse_stats *st)
{
	struct flame_parse_opts o = { .reverse = reverse, .flamechart = chart };
	struct flame_parse_stats local;
	int rc = flame_tree_init(t, 0, chart);

	if (!rc)
		rc = flame_parse(t, text, strlen(text), &o, st ? st : &local);
	if (!rc)
		rc = flame_tree_finalize(t);
	return rc;
}

enum { FOLDED, SPEEDSCOPE, SVG };

/* What a writer makes of t, as a string to free. */
static char *render(struct flame_tree *t, int what, int chart, const struct flame_svg_opts *svg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return NULL;
	if (what == FOLDED)
		rc = flame_folded_write(t, chart, f);
	else if (what == SPEEDSCOPE)
		rc = flame_speedscope_write(t, chart, "p", "samples", f);
	else
		rc = flame_svg_write(t, svg, f);
	fclose(f);
	if (rc) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *folded_of(const char *text, int reverse, int chart)
{
	struct flame_tree t;
	char *out = NULL;

	if (!build(&t, text, reverse, chart, NULL))
		out = render(&t, FOLDED, chart, NULL);
	flame_tree_release(&t);
	return out;
}

static void counts_parse(void)
{
	uint64_t v;
	unsigned int d;

	CHECK(flame_parse_count("123", 3, &v, &d) == 0 && v == 123 && d == 0);
	CHECK(flame_parse_count("1.50", 4, &v, &d) == 0 && v == 15 && d == 1);
	CHECK(flame_parse_count("2.", 2, &v, &d) == 0 && v == 2 && d == 0);
	CHECK(flame_parse_count("0.000000001", 11, &v, &d) == 0 && v == 1 && d == 9);
	CHECK(flame_parse_count("0.0000000001", 12, &v, &d) < 0);
	CHECK(flame_parse_count("18446744073709551616", 20, &v, &d) < 0);
	CHECK(flame_parse_count("1.2.3", 5, &v, &d) < 0);
	CHECK(flame_parse_count(".5", 2, &v, &d) < 0);
	CHECK(flame_parse_count("", 0, &v, &d) < 0);
}

static void merges_and_sorts(void)
{
	/* Unsorted, with repeats: merged exactly, in `LC_ALL=C sort` order,
	 * including "main" against "main2" (a prefix, then '2' < ';'). */
	char *out = folded_of("main;b 1\nmain2;x 4\nmain;a 2\nmain 5\nmain;b 3\nmain;a;z 1\n", 0, 0);

	CHECK(out);
	CHECK_STREQ(out, "main 5\nmain2;x 4\nmain;a 2\nmain;a;z 1\nmain;b 4\n");
	free(out);
}

static void tree_totals(void)
{
	struct flame_tree t;
	uint64_t *self;
	uint32_t main_id = 0;

	CHECK(build(&t, "main;a 2\nmain;b 3\nmain 1\nother 4\n", 0, 0, NULL) == 0);
	CHECK(t.n == 5); /* all, main, a, b, other */
	CHECK(t.nodes[FLAME_ROOT].count == 10);
	for (uint32_t c = t.first_child[FLAME_ROOT]; c; c = t.next_sibling[c])
		if (!memcmp(flame_tree_name(&t, c)->s, "main", 4) && flame_tree_name(&t, c)->len == 4)
			main_id = c;
	CHECK(main_id && t.nodes[main_id].count == 6);
	self = flame_tree_selfs(&t, 0);
	CHECK(self && self[main_id] == 1 && self[FLAME_ROOT] == 0);
	free(self);
	flame_tree_release(&t);
}

static void malformed_lines(void)
{
	struct flame_tree t;
	struct flame_parse_stats st;
	char *out;

	/* Line 1 is fine; 2: no count; 3: negative; 4: not a number; 5: blank
	 * (not malformed); 6: empty stack; 7: fine with CRLF; 8: too precise. */
	CHECK(build(&t, "a;b 1\nno count\na -3\na 1e5\n\n 7\nc 2\r\nd 0.0000000001\n", 0, 0,
		    &st) == 0);
	CHECK(st.lines == 2);
	CHECK(st.malformed == 5);
	CHECK(st.first_malformed == 2);
	out = render(&t, FOLDED, 0, NULL);
	CHECK(out);
	CHECK_STREQ(out, "a;b 1\nc 2\n");
	free(out);
	flame_tree_release(&t);
}

static void fractional_counts(void)
{
	/* The scale rises to the most decimals seen, mid-input, exactly. */
	char *out = folded_of("a 1\na 0.25\nb 2.5\nb 0.5\n", 0, 0);

	CHECK(out);
	CHECK_STREQ(out, "a 1.25\nb 3\n");
	free(out);
}

static void spaces_and_reverse(void)
{
	char *out = folded_of("a b;c d  7\nx;y 1\n", 1, 0);

	CHECK(out);
	CHECK_STREQ(out, "c d;a b 7\ny;x 1\n");
	free(out);
}

static void flamechart_order(void)
{
	/* Only neighbouring lines merge; time order is kept, and a node's
	 * own time between its children stays where it was. */
	char *out = folded_of("a;b 1\na;b 2\na 5\na;c 1\na;b 1\n", 0, 1);

	CHECK(out);
	CHECK_STREQ(out, "a;b 3\na 5\na;c 1\na;b 1\n");
	free(out);
}

/* Children inside their parent, and widths that add up exactly: the
 * children's and the self part's pixel widths sum to the parent's. */
static void layout_widths(void)
{
	struct flame_min min = { 0, 0 };
	struct flame_layout l;
	struct flame_tree t;

	CHECK(build(&t, "r;a 1\nr;b 1\nr;c 1\nr 1\nr;c;d 2\ns 3\n", 0, 0, NULL) == 0);
	CHECK(flame_layout(&t, 0, 118000, &min, &l) == 0);
	CHECK(l.n == 7 && l.elided == 0 && l.max_depth == 3);
	for (size_t i = 0; i < l.n; i++) {
		const struct flame_box *p = &l.boxes[i];
		uint64_t pend = p->start + t.nodes[p->node].count, sum = 0, last = p->start;

		for (size_t j = i + 1; j < l.n && l.boxes[j].depth > p->depth; j++) {
			const struct flame_box *c = &l.boxes[j];
			uint64_t cend = c->start + t.nodes[c->node].count;

			if (c->depth != p->depth + 1)
				continue;
			CHECK(c->start >= last && cend <= pend);
			CHECK(flame_layout_x(&l, c->start) >= flame_layout_x(&l, p->start));
			CHECK(flame_layout_x(&l, cend) <= flame_layout_x(&l, pend));
			sum += flame_layout_x(&l, cend) - flame_layout_x(&l, c->start);
			last = cend;
		}
		CHECK(sum + (flame_layout_x(&l, pend) - flame_layout_x(&l, last)) ==
		      flame_layout_x(&l, pend) - flame_layout_x(&l, p->start));
	}
	/* The root spans the plot exactly. */
	CHECK(flame_layout_x(&l, t.nodes[FLAME_ROOT].count) == 118000);
	flame_layout_release(&l);
	flame_tree_release(&t);
}

static void minwidth_elides(void)
{
	struct flame_min min = { 10, 0 }; /* 0.1 px */
	struct flame_layout l;
	struct flame_tree t;

	/* 1 of 100000 over 1180 px is 0.0118 px: x, and y below it, go. */
	CHECK(build(&t, "big 99999\nbig;x;y 1\n", 0, 0, NULL) == 0);
	CHECK(flame_layout(&t, 0, 118000, &min, &l) == 0);
	CHECK(l.n == 2 && l.elided == 2);
	flame_layout_release(&l);
	min = (struct flame_min){ 50, 1 }; /* 0.5 % */
	CHECK(flame_layout(&t, 0, 118000, &min, &l) == 0);
	CHECK(l.n == 2 && l.elided == 2);
	flame_layout_release(&l);
	flame_tree_release(&t);
}

static char *escaped(int json, const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct flame_out o;

	if (!f)
		return NULL;
	if (!flame_out_init(&o, f)) {
		if (json)
			flame_out_json(&o, s, n);
		else
			flame_out_xml(&o, s, n);
		flame_out_finish(&o);
	}
	fclose(f);
	return buf;
}

static void escaping(void)
{
	const char in[] = "<a&b>\"q'\xc3\xa9\xff\x01\\\xe6\x97\xa5";
	char *x = escaped(0, in, sizeof(in) - 1), *j = escaped(1, in, sizeof(in) - 1);

	CHECK(x && j);
	/* Invalid UTF-8 (\xff) and XML-forbidden controls become U+FFFD;
	 * valid multi-byte characters pass through. */
	CHECK_STREQ(x, "&lt;a&amp;b&gt;&quot;q&apos;\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\\\xe6\x97\xa5");
	CHECK_STREQ(j, "<a&b>\\\"q'\xc3\xa9\xef\xbf\xbd\\u0001\\\\\xe6\x97\xa5");
	free(x);
	free(j);
	/* Overlong and surrogate forms are not UTF-8. */
	CHECK(flame_utf8_len("\xc0\xaf", 2) == 0);
	CHECK(flame_utf8_len("\xed\xa0\x80", 3) == 0);
	CHECK(flame_utf8_len("\xf0\x9f\x94\xa5", 4) == 4);
	CHECK(flame_utf8_len("\xe6\x97", 2) == 0);
}

static void count_format(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct flame_out o;

	CHECK(f);
	CHECK(flame_out_init(&o, f) == 0);
	flame_out_count(&o, 1234567, 0, 1);
	flame_out_char(&o, ' ');
	flame_out_count(&o, 1234567, 3, 1);
	flame_out_char(&o, ' ');
	flame_out_count(&o, 1230, 3, 0);
	flame_out_char(&o, ' ');
	flame_out_count(&o, 5, 2, 0);
	flame_out_char(&o, ' ');
	flame_out_centi(&o, 1005);
	CHECK(flame_out_finish(&o) == 0);
	fclose(f);
	CHECK_STREQ(buf, "1,234,567 1,234.567 1.23 0.05 10.05");
	free(buf);
}

static struct flame_svg_opts svg_opts(void)
{
	return (struct flame_svg_opts){
		.countname = "samples", .width = 1200, .frame_height = 16,
		.min = { 10, 0 }, .min_text = "0.1", .palette = FLAME_HOT,
	};
}

static void svg_frames(void)
{
	struct flame_svg_opts o = svg_opts();
	struct flame_tree t;
	char *svg;

	CHECK(build(&t, "m;<x&y> 1\nm;f\xc3\xbc 3\n", 0, 0, NULL) == 0);
	svg = render(&t, SVG, 0, &o);
	CHECK(svg);
	CHECK(strstr(svg, "<title>&lt;x&amp;y&gt;\n1 samples (25.00%)</title>"));
	CHECK(strstr(svg, "<title>f\xc3\xbc\n3 samples (75.00%)</title>"));
	/* <x&y> first (byte order), over a quarter of the 1180 px plot. */
	CHECK(strstr(svg, "<rect x=\"10.00\" y=\"56\" width=\"295.00\" height=\"15\""));
	CHECK(strstr(svg, "<rect x=\"305.00\" y=\"56\" width=\"885.00\" height=\"15\""));
	CHECK(strstr(svg, "data-frames=\"4\" data-elided=\"0\""));
	/* Self-contained: nothing loaded from elsewhere. */
	CHECK(!strstr(svg, "href") && !strstr(svg, "<!DOCTYPE"));
	CHECK(strstr(svg, "<![CDATA["));
	free(svg);
	flame_tree_release(&t);
}

static void svg_nesting_inverted(void)
{
	struct flame_svg_opts o = svg_opts();
	struct flame_tree t;
	const char *p;
	char *svg;
	int open = 0, close = 0;

	o.inverted = 1;
	CHECK(build(&t, "a;b;c 1\na;d 1\ne 2\n", 0, 0, NULL) == 0);
	svg = render(&t, SVG, 0, &o);
	CHECK(svg);
	for (p = strstr(svg, "<g id=\"frames\">"); p && (p = strstr(p + 1, "<g")); open++)
		;
	for (p = strstr(svg, "<g id=\"frames\">"); p && (p = strstr(p + 1, "</g>")); close++)
		;
	CHECK(open == 6 && close == 7); /* six frames, then #frames itself */
	/* Icicle: the root on the first row under the header. */
	CHECK(strstr(svg, "<rect x=\"10.00\" y=\"56\" width=\"1180.00\""));
	CHECK(strstr(svg, "Icicle Graph"));
	free(svg);
	flame_tree_release(&t);
}

static void speedscope(void)
{
	struct flame_tree t;
	char *js;

	CHECK(build(&t, "m;\"q\" 1\nm;x 2.5\n", 0, 0, NULL) == 0);
	js = render(&t, SPEEDSCOPE, 0, NULL);
	CHECK(js);
	CHECK(strstr(js, "\"type\":\"sampled\""));
	CHECK(strstr(js, "\"endValue\":3.5,\"samples\":[[0,1],[0,2]],\"weights\":[1,2.5]"));
	CHECK(strstr(js, "\"shared\":{\"frames\":[{\"name\":\"m\"},{\"name\":\"\\\"q\\\"\"},"
			 "{\"name\":\"x\"}]}"));
	free(js);
	flame_tree_release(&t);
}

static int build_diff(struct flame_tree *t, const char *before, const char *after, int norm)
{
	struct flame_parse_opts o = { 0 };
	struct flame_parse_stats st;
	int rc = flame_tree_init(t, 1, 0);

	if (!rc)
		rc = flame_parse(t, after, strlen(after), &o, &st);
	o.input = 1;
	if (!rc)
		rc = flame_parse(t, before, strlen(before), &o, &st);
	if (!rc && norm)
		rc = flame_tree_normalize(t);
	return rc ? rc : flame_tree_finalize(t);
}

static void diff(void)
{
	struct flame_svg_opts o = svg_opts();
	struct flame_tree t;
	char *out;

	CHECK(build_diff(&t, "m;a 10\nm;gone 5\n", "m;a 15\nm;new 5\n", 0) == 0);
	out = render(&t, FOLDED, 0, NULL);
	CHECK(out);
	CHECK_STREQ(out, "m;a 10 15\nm;gone 5 0\nm;new 0 5\n");
	free(out);
	o.diff = 1;
	out = render(&t, SVG, 0, &o);
	CHECK(out);
	/* "gone" has no width after, so it is not drawn. */
	CHECK(!strstr(out, "<title>gone"));
	CHECK(strstr(out, "<title>a\nafter 15 samples (75.00%), before 10\nchange +5 (+50.00%), "
			  "self +5</title>"));
	CHECK(strstr(out, "change +5 (new), self +5</title>"));
	/* The largest self change is +5: a and new are full red. */
	CHECK(strstr(out, "fill=\"rgb(255,0,0)\""));
	free(out);
	flame_tree_release(&t);

	/* --normalize: BEFORE (total 10) scaled to AFTER's total (20). */
	CHECK(build_diff(&t, "m;a 6\nm;b 4\n", "m;a 10\nm;b 10\n", 1) == 0);
	out = render(&t, FOLDED, 0, NULL);
	CHECK(out);
	CHECK_STREQ(out, "m;a 12 10\nm;b 8 10\n");
	free(out);
	flame_tree_release(&t);
}

static void colors(void)
{
	struct flame_rgb k = flame_color(FLAME_HOT, 0, "tcp_sendmsg_[k]", 15);
	struct flame_rgb h1 = flame_color(FLAME_HOT, 1, "virDomainGetInfo", 16);
	struct flame_rgb h2 = flame_color(FLAME_HOT, 1, "virDomainGetInfo", 16);
	struct flame_rgb io = flame_color(FLAME_IO, 0, "read", 4);
	enum flame_palette p;

	CHECK(k.b == 0 && k.r >= 190); /* kernel: orange */
	CHECK(h1.r == h2.r && h1.g == h2.g && h1.b == h2.b);
	CHECK(io.b >= 190 && io.r == io.g);
	CHECK(flame_palette_parse("chain", &p) == 0 && p == FLAME_CHAIN);
	CHECK(flame_palette_parse("nope", &p) < 0);
	k = flame_color_delta(10, 10);
	CHECK(k.r == 255 && k.g == 0 && k.b == 0);
	k = flame_color_delta(-5, 10);
	CHECK(k.b == 255 && k.r == 105);
	k = flame_color_delta(0, 10);
	CHECK(k.r == 255 && k.g == 255 && k.b == 255);
}

/* Sorted input never builds the index; unsorted input builds it when the
 * order breaks. Both give the same tree. */
static void order_independent(void)
{
	const char *sorted = "a;b;c 1\na;b;d 2\na;e 3\nf 4\n";
	const char *shuffled = "f 4\na;b;d 2\na;e 3\na;b;c 1\n";
	struct flame_tree t;
	char *x, *y;

	struct flame_parse_opts o = { 0 };
	struct flame_parse_stats st;

	CHECK(flame_tree_init(&t, 0, 0) == 0);
	CHECK(flame_parse(&t, sorted, strlen(sorted), &o, &st) == 0);
	CHECK(!flame_tree_indexed(&t));
	CHECK(flame_tree_finalize(&t) == 0);
	x = render(&t, FOLDED, 0, NULL);
	flame_tree_release(&t);
	CHECK(x);
	y = folded_of(shuffled, 0, 0);
	CHECK(y);
	CHECK_STREQ(x, y);
	CHECK_STREQ(x, sorted);
	free(x);
	free(y);
}

/* Deterministic, unsorted input with shared prefixes, short lines (which
 * all go to part 0), a fractional count (so parts differ in scale) and
 * malformed lines. */
static char *mixed_input(size_t lines)
{
	static const char *const names[] = { "main", "start_thread", "vir;x", "qemu Run",
					     "g<&>", "poll" };
	uint64_t r = 42;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < lines; i++) {
		unsigned int depth;

		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		depth = 1 + (unsigned int)(r >> 60) % 7;
		for (unsigned int d = 0; d < depth; d++) {
			unsigned int pick = (unsigned int)(r >> (8 + 4 * d)) % 6;

			/* a ';' inside a name would split it: keep them apart */
			fprintf(f, "%s%s%u", d ? ";" : "", pick == 2 ? "vir" : names[pick], d % 3);
		}
		if (i == 17)
			fprintf(f, " 0.25\n");
		else if (i % 997 == 5)
			fprintf(f, " x\n");
		else
			fprintf(f, " %u\n", 1 + (unsigned int)(r >> 40) % 9);
	}
	fclose(f);
	return buf;
}

static char *parse_render(const char *text, unsigned int nparts, int what,
			  struct flame_parse_stats *st)
{
	struct flame_parse_opts o = { 0 };
	struct flame_svg_opts svg = svg_opts();
	struct flame_tree t;
	char *out = NULL;
	int rc = flame_tree_init(&t, 0, 0);

	if (!rc)
		rc = nparts ? flame_parse_parallel(&t, text, strlen(text), &o, nparts, st)
			    : flame_parse_part(&t, text, strlen(text), &o, NULL, st);
	if (!rc && !(rc = flame_tree_finalize(&t)))
		out = render(&t, what, 0, &svg);
	flame_tree_release(&t);
	return out;
}

static void parallel_parse_matches_serial(void)
{
	char *text = mixed_input(20000), *want[3] = { 0 }, *got = NULL;
	struct flame_parse_stats serial, par;

	CHECK(text);
	for (int what = FOLDED; what <= SVG; what++) {
		want[what] = parse_render(text, 0, what, &serial);
		CHECK(want[what]);
	}
	CHECK(serial.malformed == 21 && serial.first_malformed == 6);
	for (unsigned int n = 1; n <= FLAME_MAX_PARTS; n++)
		for (int what = FOLDED; what <= SVG; what++) {
			free(got);
			got = parse_render(text, n, what, &par);
			CHECK(got);
			CHECK_STREQ(got, want[what]);
			CHECK(par.lines == serial.lines && par.malformed == serial.malformed &&
			      par.first_malformed == serial.first_malformed);
		}
	free(got);
	for (int what = FOLDED; what <= SVG; what++)
		free(want[what]);
	free(text);
}

UNIT_SUITE(flame, UNIT_TEST(counts_parse), UNIT_TEST(merges_and_sorts),
	   UNIT_TEST(tree_totals), UNIT_TEST(malformed_lines), UNIT_TEST(fractional_counts),
	   UNIT_TEST(spaces_and_reverse), UNIT_TEST(flamechart_order),
	   UNIT_TEST(layout_widths), UNIT_TEST(minwidth_elides), UNIT_TEST(escaping),
	   UNIT_TEST(count_format), UNIT_TEST(svg_frames), UNIT_TEST(svg_nesting_inverted),
	   UNIT_TEST(speedscope), UNIT_TEST(diff), UNIT_TEST(colors),
	   UNIT_TEST(order_independent), UNIT_TEST(parallel_parse_matches_serial));
