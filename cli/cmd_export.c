/* virtscope export: a recording in another tool's format (export/export.h):
 * Chrome trace-event JSON for Perfetto UI and chrome://tracing, speedscope
 * JSON, or gzipped pprof. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../collectors/replay.h"
#include "../collectors/timeline.h"
#include "../export/export.h"
#include "../lib/log.h"
#include "commands.h"
#include "common.h"
#include "recording.h"

static const char usage[] =
	"Usage: virtscope export --format perfetto|speedscope|pprof [-o OUT] FILE\n"
	"\n"
	"Writes a recording made by 'virtscope record' as:\n"
	"  perfetto    Chrome trace-event JSON (Perfetto UI, chrome://tracing): a track per\n"
	"              thread with RPC, D-Bus, QEMU monitor, lock-wait, lock-hold, fork,\n"
	"              off-CPU and stall slices, and flows from each lock waiter to the\n"
	"              holder that released it ('chrome' is the same)\n"
	"  speedscope  speedscope JSON: on-CPU, off-CPU and lock-wait profiles\n"
	"  pprof       gzipped profile.proto: samples, cpu, off_cpu and lock_wait values\n"
	"\n"
	"  -f, --format FORMAT    the output format (required)\n"
	"  -o, --output OUT       write to OUT (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

typedef int (*export_fn)(const struct vs_export_input *in, FILE *out);

static export_fn find_format(const char *name)
{
	if (!strcmp(name, "perfetto") || !strcmp(name, "chrome"))
		return vs_export_chrome;
	if (!strcmp(name, "speedscope"))
		return vs_export_speedscope;
	if (!strcmp(name, "pprof"))
		return vs_export_pprof;
	return NULL;
}

int cmd_export(int argc, char **argv)
{
	const char *output = NULL;
	export_fn fn = NULL;
	struct vs_timeline tl;
	struct vs_replay rp;
	int opt, rc, damaged, status = VS_EXIT_FAILURE;
	char err[512] = "";
	FILE *out;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:o:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			fn = find_format(optarg);
			if (!fn)
				return vs_recording_usage(
					"export", "unknown format (perfetto, speedscope or pprof)", optarg);
			break;
		case 'o': output = optarg; break;
		case 'h': fputs(usage, stdout); return VS_EXIT_OK;
		case ':': return vs_recording_usage("export", "option needs a value", argv[optind - 1]);
		default: return vs_recording_usage("export", "unknown option", argv[optind - 1]);
		}
	}
	if (!fn)
		return vs_recording_usage("export", "name the format with --format", NULL);
	if (optind != argc - 1)
		return vs_recording_usage("export", "name one recording", NULL);
	if (vs_recording_open(&rp, argv[optind], "export"))
		return VS_EXIT_USAGE;
	rc = vs_timeline_init(&tl);
	if (!rc)
		rc = vs_replay_add_consumer(&rp, vs_timeline_consumer(&tl));
	if (rc)
		goto cleanup;
	damaged = vs_replay_run(&rp, err, sizeof(err));
	if (damaged < 0 || tl.oom) {
		rc = -ENOMEM;
		goto cleanup;
	}
	vs_timeline_sort(&tl);
	out = vs_cli_open_output(output);
	if (!out)
		goto cleanup;
	{
		struct vs_export_input in = {
			.timeline = &tl,
			.stacks = rp.stacks,
			.sym = rp.sym,
			.pid = rp.meta.pid,
			.comm = rp.meta.comm[0] ? rp.meta.comm : "?",
			.start_ns = rp.have_meta && rp.meta.start_ns && !rp.meta.ring_bytes
					    ? rp.meta.start_ns
					    : rp.first_ts,
			.duration_ns = vs_replay_interval(&rp),
		};

		rc = fn(&in, out);
	}
	if (vs_cli_close_output(out) && !rc)
		rc = -EIO;
	if (rc)
		goto cleanup;
	status = VS_EXIT_OK;
	if (damaged) {
		pr_err("export: '%s': %s", argv[optind], err);
		status = VS_EXIT_USAGE;
	}
cleanup:
	if (rc)
		pr_err("export: %s", strerror(-rc));
	vs_timeline_release(&tl);
	vs_replay_release(&rp);
	return rc ? VS_EXIT_FAILURE : status;
}
