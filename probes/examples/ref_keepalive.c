/* Keepalives (see ref_keepalive.h). */
#include "ref_keepalive.h"

#include <errno.h>

#include "ref_conn.h"

void ref_keepalive_reset(struct ref_keepalive *ka, const struct ref_keepalive_cfg *cfg,
			 uint64_t now_ms)
{
	ka->last_rx_ms = now_ms;
	ka->interval_start_ms = now_ms;
	ka->count_to_death = cfg->count;
}

uint64_t ref_keepalive_deadline(const struct ref_keepalive *ka,
				const struct ref_keepalive_cfg *cfg)
{
	if (!cfg->interval_ms)
		return UINT64_MAX;
	return ka->interval_start_ms + cfg->interval_ms;
}

int ref_keepalive_expire(struct ref_conn *client, uint64_t now_ms)
{
	struct ref_keepalive *ka = &client->ka;
	int64_t idle_s = (int64_t)((now_ms - ka->last_rx_ms) / 1000);

	if (ref_keepalive_timeout(client, ka->count_to_death, idle_s))
		return -ETIMEDOUT;
	ka->count_to_death--;
	ka->interval_start_ms = now_ms;
	/* A client that cannot take the PING will time out on its own. */
	ref_keepalive_sent(client, REF_KEEPALIVE_PING, 0);
	return 0;
}

int ref_keepalive_sent(struct ref_conn *client, int64_t proc, uint64_t request_id)
{
	REF_PROBE(KEEPALIVE_SENT, (void *)client, proc);
	if (proc == REF_KEEPALIVE_PING)
		return ref_conn_send_line(client, true, "ping\n");
	return ref_conn_send_line(client, true, "ok %llu 0\n", (unsigned long long)request_id);
}

void ref_keepalive_received(struct ref_conn *client, int64_t proc)
{
	REF_PROBE(KEEPALIVE_RECEIVED, (void *)client, proc);
}

bool ref_keepalive_timeout(struct ref_conn *client, int64_t count_to_death, int64_t idle_s)
{
	REF_PROBE(KEEPALIVE_TIMEOUT, (void *)client, count_to_death, idle_s);
	return count_to_death <= 0;
}
