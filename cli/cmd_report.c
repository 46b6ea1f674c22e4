/* virtscope report: the post-mortem of a recording. The recording is
 * replayed through the same aggregation the live commands use, and written
 * by the post-mortem writer (collectors/postmortem.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../collectors/postmortem.h"
#include "../collectors/replay.h"
#include "../lib/log.h"
#include "../lib/util.h"
#include "commands.h"
#include "common.h"
#include "recording.h"

static const char usage[] =
	"Usage: virtscope report [-n ROWS] [--slowest N] [-o OUT] FILE\n"
	"\n"
	"Reads a recording made by 'virtscope record' (on this machine or another) and\n"
	"prints the slowest operations, each broken down into on-CPU time, off-CPU time\n"
	"by reason, lock waits with their holders and locks held, forks, D-Bus calls and\n"
	"QEMU monitor commands; then the main-loop stalls with their causes, the worst\n"
	"lock chains, and the per-procedure, per-lock, per-thread and fork tables.\n"
	"A damaged recording is read as far as it goes; the damage is reported in one\n"
	"line and the exit status is 2.\n"
	"\n"
	"  -n, --rows N           rows per table (default 20)\n"
	"      --slowest N        operations broken down (default 10)\n"
	"  -o, --output FILE      write to FILE (created 0600) instead of stdout\n"
	"  -h, --help             show this help\n";

static const struct option long_opts[] = {
	{ "rows", required_argument, NULL, 'n' },
	{ "slowest", required_argument, NULL, 'S' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int add_to_replay(void *owner, struct vs_consumer *c)
{
	return vs_replay_add_consumer(owner, c);
}

int cmd_report(int argc, char **argv)
{
	uint64_t rows = 20, slowest = 10;
	const char *output = NULL;
	struct vs_postmortem pm;
	struct vs_replay rp;
	int opt, rc, status = VS_EXIT_FAILURE, damaged;
	char err[512] = "";
	FILE *out = NULL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:o:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (vs_parse_u64(optarg, 1, 100000, &rows))
				return vs_recording_usage("report", "invalid row count", optarg);
			break;
		case 'S':
			if (vs_parse_u64(optarg, 0, 100000, &slowest))
				return vs_recording_usage("report", "invalid --slowest", optarg);
			break;
		case 'o': output = optarg; break;
		case 'h': fputs(usage, stdout); return VS_EXIT_OK;
		default: return vs_recording_usage("report", "unknown option", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return vs_recording_usage("report", "name one recording", NULL);
	if (vs_recording_open(&rp, argv[optind], "report"))
		return VS_EXIT_USAGE;
	rc = vs_postmortem_init(&pm);
	if (!rc)
		rc = vs_postmortem_consumers(&pm, add_to_replay, &rp);
	if (rc)
		goto cleanup;
	damaged = vs_replay_run(&rp, err, sizeof(err));
	if (damaged < 0) {
		rc = damaged;
		goto cleanup;
	}
	for (size_t i = 0; i < rp.nr_locks && !rc; i++)
		rc = vs_postmortem_add_lock_stats(&pm, rp.locks[i].addr, &rp.locks[i].st);
	for (size_t i = 0; i < rp.nr_threads && !rc; i++)
		rc = vs_postmortem_add_thread(&pm, &rp.threads[i]);
	if (rc)
		goto cleanup;
	out = vs_cli_open_output(output);
	if (!out)
		goto cleanup;
	{
		struct vs_postmortem_view v = { rp.stacks, rp.sym, &rp.meta.roles,
						vs_replay_interval(&rp), (unsigned int)rows,
						(unsigned int)slowest,
						rp.have_meta ? rp.meta.trigger : NULL };

		rc = vs_postmortem_write(&pm, out, &v);
	}
	if (vs_cli_close_output(out) && !rc) {
		pr_err("report: cannot write '%s'", output ? output : "stdout");
		goto cleanup;
	}
	status = VS_EXIT_OK;
	if (damaged) {
		pr_err("report: '%s': %s", argv[optind], err);
		status = VS_EXIT_USAGE;
	}
cleanup:
	if (rc)
		pr_err("report: %s", strerror(-rc));
	vs_postmortem_release(&pm);
	vs_replay_release(&rp);
	return rc ? VS_EXIT_FAILURE : status;
}
