/* virtscope flame: folded stacks in, an interactive flame graph (or merged
 * folded stacks, or speedscope JSON) out; with --diff, the differential
 * graph of two profiles. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../flamegraph/flame_folded.h"
#include "../flamegraph/flame_read.h"
#include "../flamegraph/flame_svg.h"
#include "../flamegraph/flame_tree.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "../collectors/replay.h"
#include "commands.h"
#include "flame_recording.h"
#include "common.h"

static const char usage[] =
	"Usage: virtscope flame [OPTIONS] [FILE]\n"
	"       virtscope flame --diff [OPTIONS] BEFORE AFTER\n"
	"\n"
	"Reads folded stacks, \"frame;...;leaf COUNT\" per line (virtscope profile's\n"
	"output, or any stackcollapse script's; counts may have decimals), from FILE\n"
	"or stdin, and writes a self-contained interactive SVG flame graph: click to\n"
	"zoom, search by regular expression, the view kept in the URL.\n"
	"\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"      --format FMT       svg (default), folded (the merged stacks, sorted) or\n"
	"                         speedscope (speedscope's JSON file format)\n"
	"      --title TEXT       the title (default \"Flame Graph\")\n"
	"      --subtitle TEXT    a second line under the title\n"
	"      --width PX         image width (default 1200)\n"
	"      --height PX        frame height (default 16)\n"
	"      --minwidth PX|N%   leave out frames narrower than this (default 0.1);\n"
	"                         their parents keep their width\n"
	"      --countname NAME   what the counts count (default \"samples\")\n"
	"      --colors PALETTE   hot (default), mem, io, wakeup or chain; kernel frames\n"
	"                         (\"_[k]\") are orange in every palette\n"
	"      --hash             colour by a hash of the name that gives similar names\n"
	"                         similar colours\n"
	"      --reverse          reverse each stack, leaf first\n"
	"      --inverted         icicle graph: the root at the top\n"
	"      --flamechart       keep the input's order (time on x) instead of merging\n"
	"                         and sorting siblings\n"
	"      --diff             compare BEFORE and AFTER: widths from AFTER, red where\n"
	"                         a frame's own count grew, blue where it shrank\n"
	"      --normalize        with --diff: scale BEFORE to AFTER's total first\n"
	"      --kind KIND        when FILE is a recording (virtscope record): cpu\n"
	"                         (default), offcpu, lock (waits) or fork, in us\n"
	"  -h, --help             show this help\n";

enum flame_format { FORMAT_SVG, FORMAT_FOLDED, FORMAT_SPEEDSCOPE };

struct flame_args {
	struct flame_svg_opts svg;
	enum flame_format format;
	const char *output;
	const char *files[2]; /* files[0] is the graph's input (AFTER with --diff) */
	int nfiles;
	int reverse, normalize, help;
	const char *kind; /* for a recording: cpu, offcpu, lock or fork */
};

enum {
	OPT_TITLE = 256, OPT_SUBTITLE, OPT_WIDTH, OPT_HEIGHT, OPT_MINWIDTH, OPT_COUNTNAME,
	OPT_COLORS, OPT_HASH, OPT_REVERSE, OPT_INVERTED, OPT_FLAMECHART, OPT_DIFF,
	OPT_NORMALIZE, OPT_FORMAT, OPT_KIND,
};

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "subtitle", required_argument, NULL, OPT_SUBTITLE },
	{ "width", required_argument, NULL, OPT_WIDTH },
	{ "height", required_argument, NULL, OPT_HEIGHT },
	{ "minwidth", required_argument, NULL, OPT_MINWIDTH },
	{ "countname", required_argument, NULL, OPT_COUNTNAME },
	{ "colors", required_argument, NULL, OPT_COLORS },
	{ "hash", no_argument, NULL, OPT_HASH },
	{ "reverse", no_argument, NULL, OPT_REVERSE },
	{ "inverted", no_argument, NULL, OPT_INVERTED },
	{ "flamechart", no_argument, NULL, OPT_FLAMECHART },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "normalize", no_argument, NULL, OPT_NORMALIZE },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int bad(char *err, size_t errlen, const char *fmt, const char *arg)
{
	snprintf(err, errlen, fmt, arg);
	return VS_EXIT_USAGE;
}

/* "0.1", "3", "0.5%": hundredths of a pixel or of a percent. Decimals past
 * the second are dropped. */
static int parse_minwidth(const char *s, struct flame_min *m)
{
	uint64_t v = 0;
	int decimals = -1;
	const char *p = s;

	for (; *p; p++) {
		if (*p == '.' && decimals < 0) {
			decimals = 0;
		} else if (*p >= '0' && *p <= '9') {
			if (decimals >= 2)
				continue;
			if (decimals >= 0)
				decimals++;
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > 100000000)
				return -ERANGE;
		} else {
			break;
		}
	}
	m->percent = *p == '%';
	if (p == s || (*p && !(m->percent && !p[1])))
		return -EINVAL;
	for (int d = decimals < 0 ? 0 : decimals; d < 2; d++)
		v *= 10;
	if (m->percent && v > 100 * 100)
		return -ERANGE;
	m->centi = v;
	return 0;
}

static int parse_option(int opt, const char *arg, struct flame_args *a, char *err, size_t errlen)
{
	uint64_t v;

	switch (opt) {
	case 'o': a->output = arg; break;
	case OPT_TITLE: a->svg.title = arg; break;
	case OPT_SUBTITLE: a->svg.subtitle = arg; break;
	case OPT_COUNTNAME: a->svg.countname = arg; break;
	case OPT_KIND:
		if (!vs_flame_kind_valid(arg))
			return bad(err, errlen, "invalid --kind '%s': expected cpu, offcpu, lock or fork",
				   arg);
		a->kind = arg;
		break;
	case OPT_HASH: a->svg.by_hash = 1; break;
	case OPT_REVERSE: a->reverse = 1; break;
	case OPT_INVERTED: a->svg.inverted = 1; break;
	case OPT_FLAMECHART: a->svg.chart = 1; break;
	case OPT_DIFF: a->svg.diff = 1; break;
	case OPT_NORMALIZE: a->normalize = 1; break;
	case OPT_WIDTH:
		if (vs_parse_u64(arg, 100, 100000, &v))
			return bad(err, errlen, "invalid width '%s': expected 100 to 100000 px", arg);
		a->svg.width = (unsigned int)v;
		break;
	case OPT_HEIGHT:
		if (vs_parse_u64(arg, 8, 200, &v))
			return bad(err, errlen, "invalid frame height '%s': expected 8 to 200 px", arg);
		a->svg.frame_height = (unsigned int)v;
		break;
	case OPT_MINWIDTH:
		if (parse_minwidth(arg, &a->svg.min))
			return bad(err, errlen, "invalid minimum width '%s': expected pixels (0.1) "
				   "or a percentage (0.5%%)", arg);
		a->svg.min_text = arg;
		break;
	case OPT_COLORS:
		if (flame_palette_parse(arg, &a->svg.palette))
			return bad(err, errlen, "invalid palette '%s': expected hot, mem, io, wakeup "
				   "or chain", arg);
		break;
	case OPT_FORMAT:
		if (!strcmp(arg, "svg"))
			a->format = FORMAT_SVG;
		else if (!strcmp(arg, "folded"))
			a->format = FORMAT_FOLDED;
		else if (!strcmp(arg, "speedscope"))
			a->format = FORMAT_SPEEDSCOPE;
		else
			return bad(err, errlen, "invalid format '%s': expected svg, folded or speedscope",
				   arg);
		break;
	}
	return 0;
}

static int check_args(struct flame_args *a, int argc, char **argv, char *err, size_t errlen)
{
	int want = a->svg.diff ? 2 : 1;

	a->nfiles = argc - optind;
	if (a->nfiles > want)
		return bad(err, errlen, "unexpected argument '%s'", argv[optind + want]);
	if (a->svg.diff && a->nfiles < 2)
		return bad(err, errlen, "%s", "--diff needs two files: BEFORE AFTER");
	if (a->normalize && !a->svg.diff)
		return bad(err, errlen, "%s", "--normalize only applies to --diff");
	if (a->svg.diff && a->svg.chart)
		return bad(err, errlen, "%s", "--diff and --flamechart cannot be combined");
	if (a->svg.diff && a->format == FORMAT_SPEEDSCOPE)
		return bad(err, errlen, "%s", "--diff writes svg or folded, not speedscope");
	/* The graph is drawn from AFTER, read first; BEFORE is input 1. */
	if (a->svg.diff) {
		a->files[0] = argv[optind + 1];
		a->files[1] = argv[optind];
		if (!strcmp(a->files[0], "-") && !strcmp(a->files[1], "-"))
			return bad(err, errlen, "%s", "only one input can be stdin");
	} else {
		a->files[0] = a->nfiles ? argv[optind] : NULL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct flame_args *a, char *err, size_t errlen)
{
	int opt, rc;

	memset(a, 0, sizeof(*a));
	flame_svg_opts_default(&a->svg);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:h", long_opts, NULL)) != -1) {
		if (opt == 'h') {
			a->help = 1;
			return 0;
		}
		if (opt == ':') {
			snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
			return VS_EXIT_USAGE;
		}
		if (opt == '?') {
			snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return VS_EXIT_USAGE;
		}
		if ((rc = parse_option(opt, optarg, a, err, errlen)))
			return rc;
	}
	return check_args(a, argc, argv, err, errlen);
}

static const char *input_name(const char *path)
{
	return !path || !strcmp(path, "-") ? "stdin" : path;
}

/* A damaged recording is drawn as far as it is intact, then reported. */
static char recording_damage[512];

/* A recording becomes the folded stacks of the kind asked for. VS_EXIT_* */
static int fold_recording(const struct flame_args *a, const char *name, struct flame_input *in)
{
	char err[512], *folded;
	size_t len;
	int rc = vs_flame_recording_folded(name, in->buf, in->len, a->kind ? a->kind : "cpu",
					   &folded, &len, err, sizeof(err));

	if (rc < 0) {
		pr_err("flame: %s", err);
		return rc == -ENOMEM ? VS_EXIT_FAILURE : VS_EXIT_USAGE;
	}
	if (rc)
		snprintf(recording_damage, sizeof(recording_damage), "%s", err);
	flame_input_release(in);
	in->buf = folded;
	in->len = len;
	return VS_EXIT_OK;
}

/* Reads one input into the tree. VS_EXIT_* */
static int read_input(const struct flame_args *a, int i, struct flame_input *in,
		      struct flame_tree *t)
{
	struct flame_parse_opts po = { .input = i, .reverse = a->reverse, .flamechart = a->svg.chart };
	struct flame_parse_stats st;
	const char *name = input_name(a->files[i]);
	int rc;

	rc = flame_input_load(in, a->files[i]);
	if (rc) {
		pr_err("flame: cannot read '%s': %s", name, strerror(-rc));
		return rc == -ENOMEM ? VS_EXIT_FAILURE : VS_EXIT_USAGE;
	}
	if (vs_replay_is_recording(in->buf, in->len) && (rc = fold_recording(a, name, in)))
		return rc;
	rc = flame_parse(t, in->buf, in->len, &po, &st);
	if (rc == -EOVERFLOW) {
		pr_err("flame: the counts in '%s' add up to more than 64 bits hold", name);
		return VS_EXIT_USAGE;
	}
	if (rc) {
		pr_err("flame: cannot read '%s': %s", name, strerror(-rc));
		return VS_EXIT_FAILURE;
	}
	/* Not fatal: one bad line should not cost the whole graph, but it
	 * must not go unnoticed either. */
	if (st.malformed && a->svg.diff)
		pr_warn("flame: skipped %llu malformed line%s in '%s' (first: line %llu)",
			(unsigned long long)st.malformed, st.malformed == 1 ? "" : "s", name,
			(unsigned long long)st.first_malformed);
	else if (st.malformed)
		pr_warn("flame: skipped %llu malformed line%s (first: line %llu)",
			(unsigned long long)st.malformed, st.malformed == 1 ? "" : "s",
			(unsigned long long)st.first_malformed);
	return VS_EXIT_OK;
}

static int write_output(const struct flame_args *a, struct flame_tree *t, FILE *out)
{
	const char *title = a->svg.title ? a->svg.title : input_name(a->files[0]);

	switch (a->format) {
	case FORMAT_FOLDED:
		return flame_folded_write(t, a->svg.chart, out);
	case FORMAT_SPEEDSCOPE:
		return flame_speedscope_write(t, a->svg.chart, title, a->svg.countname, out);
	case FORMAT_SVG:
	default:
		return flame_svg_write(t, &a->svg, out);
	}
}

static int run(const struct flame_args *a)
{
	struct flame_input in[2] = { 0 };
	struct flame_tree t = { 0 };
	int status = VS_EXIT_FAILURE, rc;
	FILE *out;

	rc = flame_tree_init(&t, a->svg.diff, a->svg.chart);
	if (rc)
		goto cleanup;
	for (int i = 0; i < (a->svg.diff ? 2 : 1); i++)
		if ((status = read_input(a, i, &in[i], &t)))
			goto cleanup;
	status = VS_EXIT_FAILURE;
	if ((a->normalize && (rc = flame_tree_normalize(&t))) || (rc = flame_tree_finalize(&t)))
		goto cleanup;
	out = vs_cli_open_output(a->output);
	if (!out)
		goto cleanup;
	rc = write_output(a, &t, out);
	if (vs_cli_close_output(out) && !rc)
		rc = -EIO;
	if (rc) {
		pr_err("flame: cannot write '%s': %s", a->output ? a->output : "stdout",
		       strerror(-rc));
		rc = 0;
		goto cleanup;
	}
	status = VS_EXIT_OK;
	if (recording_damage[0]) {
		pr_err("flame: %s", recording_damage);
		status = VS_EXIT_USAGE;
	} else if (!t.nodes[FLAME_ROOT].count) {
		pr_err("flame: no stack counts in '%s'", input_name(a->files[0]));
		status = VS_EXIT_USAGE;
	}
cleanup:
	if (rc)
		pr_err("flame: %s", strerror(-rc));
	flame_tree_release(&t);
	flame_input_release(&in[0]);
	flame_input_release(&in[1]);
	return status;
}

int cmd_flame(int argc, char **argv)
{
	struct flame_args args;
	char err[512];
	int status;

	status = parse_args(argc, argv, &args, err, sizeof(err));
	if (status) {
		pr_err("flame: %s", err);
		return status;
	}
	if (args.help) {
		fputs(usage, stdout);
		return VS_EXIT_OK;
	}
	return run(&args);
}
