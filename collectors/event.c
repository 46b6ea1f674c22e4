/* Names of event kinds, for logs, JSON and recordings. */
#include "event.h"

const char *vs_event_kind_name(enum vs_event_kind kind)
{
	static const char *const names[VS_EV_KIND_MAX] = {
		[VS_EV_SAMPLE] = "sample",   [VS_EV_SPAN_BEGIN] = "span_begin",
		[VS_EV_SPAN_END] = "span_end", [VS_EV_LOCK] = "lock",
		[VS_EV_FORK] = "fork",       [VS_EV_EXEC] = "exec",
		[VS_EV_EXIT] = "exit",       [VS_EV_OFFCPU] = "offcpu",
		[VS_EV_LOST] = "lost",       [VS_EV_KEEPALIVE] = "keepalive",
		[VS_EV_DISPATCH] = "dispatch", [VS_EV_THREAD_JOB] = "thread_job",
		[VS_EV_TARGET] = "target",
	};

	return kind > 0 && kind < VS_EV_KIND_MAX ? names[kind] : "unknown";
}
