/* Opening recordings for the commands that read them; see recording.h. */
#include "recording.h"

#include "../lib/log.h"
#include "commands.h"

int vs_recording_open(struct vs_replay *rp, const char *path, const char *command)
{
	char err[512];

	if (vs_replay_open(rp, path, err, sizeof(err))) {
		pr_err("%s: %s", command, err);
		vs_replay_release(rp);
		return -1;
	}
	return 0;
}

int vs_recording_usage(const char *command, const char *what, const char *arg)
{
	if (arg)
		pr_err("%s: %s '%s'", command, what, arg);
	else
		pr_err("%s: %s", command, what);
	return VS_EXIT_USAGE;
}
