/* Folded stacks from a recording; see flame_recording.h. */
#include "flame_recording.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../collectors/replay.h"
#include "../flamegraph/folded.h"
#include "../lib/log.h"

static int accept_wait(const struct vs_event *ev)
{
	return ev->lock.phase == VS_LOCK_WAIT;
}

int vs_flame_kind_valid(const char *kind)
{
	return !strcmp(kind, "cpu") || !strcmp(kind, "offcpu") || !strcmp(kind, "lock") ||
	       !strcmp(kind, "fork");
}

int vs_flame_recording_folded(const char *name, const void *buf, size_t len, const char *kind,
			      char **out, size_t *outlen, char *err, size_t errlen)
{
	enum vs_event_kind ek = !strcmp(kind, "offcpu") ? VS_EV_OFFCPU
				: !strcmp(kind, "lock") ? VS_EV_LOCK
				: !strcmp(kind, "fork") ? VS_EV_FORK
							: VS_EV_SAMPLE;
	struct vs_folded *f = NULL;
	struct vs_replay rp;
	FILE *mem = NULL;
	char why[256];
	int rc, damaged;

	*out = NULL;
	*outlen = 0;
	rc = vs_replay_open_mem(&rp, buf, len, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "'%s': %s", name, why);
		goto cleanup;
	}
	f = vs_folded_new(rp.stacks, rp.sym, ek,
			  ek == VS_EV_SAMPLE ? VS_FOLDED_COUNT : VS_FOLDED_DURATION);
	if (!f || vs_replay_add_consumer(&rp, vs_folded_consumer(f))) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	if (ek == VS_EV_LOCK)
		vs_folded_set_filter(f, accept_wait);
	damaged = vs_replay_run(&rp, why, sizeof(why));
	if (damaged < 0) {
		rc = damaged;
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	if (damaged) {
		/* What was intact is drawn; the caller exits non-zero. */
		snprintf(err, errlen, "'%s': %s", name, why);
		rc = 1;
	}
	mem = open_memstream(out, outlen);
	if (!mem || vs_folded_write(f, mem)) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	}
cleanup:
	if (mem)
		fclose(mem);
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	vs_folded_free(f);
	vs_replay_release(&rp);
	return rc;
}
