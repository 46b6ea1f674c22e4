/* The flame graph SVG writer: the layout's boxes, in pre-order, as nested
 * <g> elements (a frame's subtree is inside its group, which is what lets
 * the script zoom and search without any other index), with the page
 * furniture of flamegraph.pl around them. Positions are integers in
 * hundredths of a pixel, from the layout's exact cumulative counts. */
#include "flame_svg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flame_out.h"
#include "flame_svg_script.h"

#define XPAD 10   /* left and right margins, px */
#define YPAD_TOP 56 /* title, then subtitle and the search result */
#define YPAD_BOTTOM 30 /* the details line */

struct svg {
	struct flame_out out;
	struct flame_tree *t;
	const struct flame_svg_opts *o;
	struct flame_layout l;
	uint64_t *self0, *self1; /* --diff only */
	uint64_t max_delta;
	unsigned int height;
};

static int64_t self_delta(const struct svg *s, uint32_t node)
{
	return (int64_t)(s->self0[node] - s->self1[node]);
}

/* The largest change of a drawn frame's self count: the diff colours are
 * relative to it, as in flamegraph.pl. */
static void find_max_delta(struct svg *s)
{
	for (size_t i = 0; i < s->l.n; i++) {
		int64_t d = self_delta(s, s->l.boxes[i].node);
		uint64_t m = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;

		if (m > s->max_delta)
			s->max_delta = m;
	}
}

static void put_text(struct svg *s, const char *id, unsigned int x, unsigned int y,
		     const char *text, const char *klass)
{
	struct flame_out *o = &s->out;

	flame_out_fmt(o, "<text id=\"%s\" x=\"%u\" y=\"%u\"%s%s%s>", id, x, y,
		      klass ? " class=\"" : "", klass ? klass : "", klass ? "\"" : "");
	flame_out_xml(o, text, strlen(text));
	flame_out_str(o, "</text>\n");
}

static const char *default_title(const struct flame_svg_opts *o)
{
	if (o->chart)
		return "Flame Chart";
	if (o->diff)
		return "Differential Flame Graph";
	return o->inverted ? "Icicle Graph" : "Flame Graph";
}

static void write_header(struct svg *s)
{
	const struct flame_svg_opts *o = s->o;
	struct flame_out *out = &s->out;
	const char *top, *bottom;

	flame_palette_background(o->palette, &top, &bottom);
	flame_out_fmt(out,
		      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		      "<svg version=\"1.1\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		      "xmlns=\"http://www.w3.org/2000/svg\" data-total=\"",
		      o->width, s->height, o->width, s->height);
	flame_out_u64(out, s->l.total);
	flame_out_fmt(out, "\" data-digits=\"%u\" data-frames=\"%zu\" data-elided=\"",
		      s->t->digits, s->l.n);
	flame_out_u64(out, s->l.elided);
	flame_out_str(out, "\">\n<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" "
			   "x1=\"0\" x2=\"0\">");
	flame_out_fmt(out, "<stop stop-color=\"%s\" offset=\"5%%\"/><stop stop-color=\"%s\" "
			   "offset=\"95%%\"/></linearGradient></defs>\n", top, bottom);
	flame_out_str(out, "<style type=\"text/css\"><![CDATA[\n");
	flame_out_str(out, flame_svg_style);
	flame_out_str(out, "]]></style>\n<script type=\"text/ecmascript\"><![CDATA[\n");
	flame_out_str(out, flame_svg_script);
	flame_out_str(out, "]]></script>\n");
	flame_out_fmt(out, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" "
			   "fill=\"url(#background)\"/>\n", o->width, s->height);
	put_text(s, "title", o->width / 2, 24, o->title ? o->title : default_title(o), NULL);
	if (o->subtitle)
		put_text(s, "subtitle", o->width / 2, 44, o->subtitle, NULL);
	put_text(s, "unzoom", XPAD, 24, "Reset Zoom", "hide");
	put_text(s, "search", o->width - XPAD, 24, "Search", NULL);
	put_text(s, "matched", o->width - XPAD, 44, " ", NULL);
	put_text(s, "details", XPAD, s->height - 10, s->l.total ? " " : "No stack counts found",
		 NULL);
}

static void write_footer(struct svg *s)
{
	struct flame_out *out = &s->out;

	if (s->l.elided) {
		flame_out_fmt(out, "<text id=\"elided\" x=\"%u\" y=\"%u\">", s->o->width - XPAD,
			      s->height - 10);
		flame_out_count(out, s->l.elided, 0, 1);
		flame_out_str(out, s->l.elided == 1 ? " frame" : " frames");
		flame_out_str(out, " narrower than ");
		flame_out_xml(out, s->o->min_text, strlen(s->o->min_text));
		flame_out_str(out, s->o->min.percent ? " not drawn</text>\n" : " px not drawn</text>\n");
	}
	flame_out_str(out, "</svg>\n");
}

/* count as a share of whole, in hundredths of a percent, rounded. */
static uint64_t centi_pct(uint64_t count, uint64_t whole)
{
	return whole ? (uint64_t)(((unsigned __int128)count * 20000 + whole) / (2 * whole)) : 0;
}

static void put_signed(struct flame_out *o, uint64_t mag, int negative, unsigned int digits)
{
	flame_out_char(o, negative ? '-' : '+');
	flame_out_count(o, mag, digits, 1);
}

/* The tooltip's second line(s): counts and shares. */
static void write_stats(struct svg *s, uint32_t node, uint64_t count)
{
	struct flame_out *o = &s->out;
	unsigned int digits = s->t->digits;
	const char *unit = s->o->countname;

	if (!s->o->diff) {
		flame_out_count(o, count, digits, 1);
		flame_out_fmt(o, " %s (", unit);
		flame_out_centi(o, centi_pct(count, s->l.total));
		flame_out_str(o, "%)");
		return;
	}
	uint64_t before = flame_tree_total(s->t, node, 1);
	int64_t d = self_delta(s, node);
	int grew = count >= before;
	uint64_t change = grew ? count - before : before - count;

	flame_out_str(o, "after ");
	flame_out_count(o, count, digits, 1);
	flame_out_fmt(o, " %s (", unit);
	flame_out_centi(o, centi_pct(count, s->l.total));
	flame_out_str(o, "%), before ");
	flame_out_count(o, before, digits, 1);
	flame_out_str(o, "\nchange ");
	put_signed(o, change, !grew, digits);
	if (before) {
		flame_out_str(o, grew ? " (+" : " (-");
		flame_out_centi(o, centi_pct(change, before));
		flame_out_str(o, "%)");
	} else {
		flame_out_str(o, " (new)");
	}
	flame_out_str(o, ", self ");
	put_signed(o, d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d, d < 0, digits);
}

/* The label that fits w_centi: the whole name, its first characters and
 * "..", or nothing under three characters. Counts UTF-8 characters, and
 * never cuts one. */
static void write_label(struct svg *s, const char *name, size_t len, uint64_t x_centi,
			uint64_t y_centi, uint64_t w_centi)
{
	uint64_t fit = w_centi / FLAME_CHAR_CENTI, chars = 0;
	size_t cut = 0, i = 0;

	if (fit < 3)
		return;
	for (; i < len && chars <= fit; chars++) {
		size_t k = flame_utf8_len(name + i, len - i);

		i += k ? k : 1;
		if (chars + 1 == fit - 2)
			cut = i;
	}
	flame_out_str(&s->out, "<text x=\"");
	flame_out_centi(&s->out, x_centi + 300);
	flame_out_str(&s->out, "\" y=\"");
	flame_out_centi(&s->out, y_centi);
	flame_out_str(&s->out, "\">");
	if (chars > fit) {
		flame_out_xml(&s->out, name, cut);
		flame_out_str(&s->out, "..");
	} else {
		flame_out_xml(&s->out, name, len);
	}
	flame_out_str(&s->out, "</text>");
}

static void write_fill(struct svg *s, uint32_t node)
{
	const struct flame_name *nm = flame_tree_name(s->t, node);
	struct flame_rgb c = s->o->diff ? flame_color_delta(self_delta(s, node), s->max_delta)
				       : flame_color(s->o->palette, s->o->by_hash, nm->s, nm->len);

	flame_out_str(&s->out, "rgb(");
	flame_out_u64(&s->out, c.r);
	flame_out_char(&s->out, ',');
	flame_out_u64(&s->out, c.g);
	flame_out_char(&s->out, ',');
	flame_out_u64(&s->out, c.b);
	flame_out_char(&s->out, ')');
}

/* Opens box's group: tooltip, rectangle, label. The caller closes it after
 * the subtree. */
static void write_box(struct svg *s, const struct flame_box *b)
{
	const struct flame_name *nm = flame_tree_name(s->t, b->node);
	uint64_t count = s->t->nodes[b->node].count;
	struct flame_out *o = &s->out;
	unsigned int fh = s->o->frame_height;
	uint64_t x0 = flame_layout_x(&s->l, b->start), x1 = flame_layout_x(&s->l, b->start + count);
	uint64_t y = s->o->inverted ? YPAD_TOP + (uint64_t)b->depth * fh
				    : s->height - YPAD_BOTTOM - (b->depth + 1ULL) * fh;

	flame_out_str(o, "<g data-c=\"");
	flame_out_u64(o, count);
	flame_out_str(o, "\"><title>");
	flame_out_xml(o, nm->s, nm->len);
	flame_out_char(o, '\n');
	write_stats(s, b->node, count);
	flame_out_str(o, "</title><rect x=\"");
	flame_out_centi(o, XPAD * 100 + x0);
	flame_out_str(o, "\" y=\"");
	flame_out_u64(o, y);
	flame_out_str(o, "\" width=\"");
	flame_out_centi(o, x1 - x0);
	flame_out_str(o, "\" height=\"");
	flame_out_u64(o, fh - 1);
	flame_out_str(o, "\" fill=\"");
	write_fill(s, b->node);
	flame_out_str(o, "\"/>");
	/* The script places new labels the same way: (height + 13) / 2 - 2. */
	write_label(s, nm->s, nm->len, XPAD * 100 + x0, y * 100 + (fh + 12) * 50 - 200, x1 - x0);
	flame_out_char(o, '\n');
}

static void close_groups(struct svg *s, uint32_t n)
{
	while (n--)
		flame_out_str(&s->out, "</g>");
	flame_out_char(&s->out, '\n');
}

static void write_frames(struct svg *s)
{
	flame_out_str(&s->out, "<g id=\"frames\">\n");
	for (size_t i = 0; i < s->l.n; i++) {
		const struct flame_box *b = &s->l.boxes[i];

		/* Pre-order: a box at depth d follows its parent at d - 1, or
		 * closes the groups of the boxes it is not inside. */
		if (i && b->depth <= s->l.boxes[i - 1].depth)
			close_groups(s, s->l.boxes[i - 1].depth - b->depth + 1);
		write_box(s, b);
	}
	if (s->l.n)
		close_groups(s, s->l.boxes[s->l.n - 1].depth + 1);
	flame_out_str(&s->out, "</g>\n");
}

void flame_svg_opts_default(struct flame_svg_opts *o)
{
	*o = (struct flame_svg_opts){
		.countname = "samples",
		.width = 1200,
		.frame_height = 16,
		.min = { 10, 0 },
		.min_text = "0.1",
		.palette = FLAME_HOT,
	};
}

int flame_svg_write(struct flame_tree *t, const struct flame_svg_opts *o, FILE *f)
{
	struct svg s = { .t = t, .o = o };
	int rc, err;

	rc = flame_out_init(&s.out, f);
	if (rc)
		return rc;
	rc = flame_layout(t, o->chart, (uint64_t)(o->width - 2 * XPAD) * 100, &o->min, &s.l);
	if (rc)
		goto cleanup;
	if (o->diff) {
		s.self0 = flame_tree_selfs(t, 0);
		s.self1 = flame_tree_selfs(t, 1);
		if (!s.self0 || !s.self1) {
			rc = -ENOMEM;
			goto cleanup;
		}
		find_max_delta(&s);
	}
	s.height = YPAD_TOP + (s.l.max_depth + 1) * o->frame_height + YPAD_BOTTOM;
	write_header(&s);
	write_frames(&s);
	write_footer(&s);
cleanup:
	err = flame_out_finish(&s.out);
	if (!rc)
		rc = err;
	free(s.self0);
	free(s.self1);
	flame_layout_release(&s.l);
	return rc;
}
