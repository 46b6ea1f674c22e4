/*
 * Keepalives, as libvirt's virKeepAlive runs them on the main loop. Any line
 * from a client resets its timer. Each time a whole interval passes in
 * silence, keepalive_timeout fires with the count left and the seconds since
 * the client last spoke; at a count of 0 the client is dropped, otherwise
 * the count drops by one and the daemon sends it a PING ("ping" line). A
 * client may ping too: it gets a PONG (its "ok" reply).
 */
#ifndef REF_KEEPALIVE_H
#define REF_KEEPALIVE_H

#include "ref_probes.h"

#include <stdbool.h>
#include <stdint.h>

#define REF_KEEPALIVE_PING 1
#define REF_KEEPALIVE_PONG 2

struct ref_conn;

struct ref_keepalive_cfg {
	uint64_t interval_ms;   /* 0: no keepalive */
	int64_t count;
};

struct ref_keepalive {
	uint64_t last_rx_ms;        /* when the client last sent a line */
	uint64_t interval_start_ms; /* when the current interval started */
	int64_t count_to_death;
};

/* A new client, or any line from it: a fresh interval and a full count. */
void ref_keepalive_reset(struct ref_keepalive *ka, const struct ref_keepalive_cfg *cfg,
			 uint64_t now_ms);

/* When the current interval ends (UINT64_MAX: never). */
uint64_t ref_keepalive_deadline(const struct ref_keepalive *ka,
				const struct ref_keepalive_cfg *cfg);

/* Runs an expired interval: 0, or -ETIMEDOUT when the client must go. */
int ref_keepalive_expire(struct ref_conn *client, uint64_t now_ms);

/*
 * The probe sites. keepalive_sent(client, proc) at entry, then the line goes
 * out: "ping" for a PING, "ok <request_id> 0" for a PONG. 0 or -errno.
 */
REF_PROBE_SITE int ref_keepalive_sent(struct ref_conn *client, int64_t proc,
				      uint64_t request_id);
/* keepalive_received(client, proc) at entry. */
REF_PROBE_SITE void ref_keepalive_received(struct ref_conn *client, int64_t proc);
/* keepalive_timeout(client, count_to_death, idle_s) at entry. True when the
 * client is out of count and must go. */
REF_PROBE_SITE bool ref_keepalive_timeout(struct ref_conn *client, int64_t count_to_death,
					  int64_t idle_s);

#endif /* REF_KEEPALIVE_H */
