/* Request parsing and replies (see ref_request.h). */
#include "ref_request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ref_conn.h"
#include "ref_util.h"

#define MAX_ARGS   5
#define MAX_MS     3600000u     /* an hour: any injected delay */
#define MAX_COUNT  10000u       /* forks per request */

struct req_syntax {
	const char *name;
	enum ref_req_kind kind;
	int min_args, max_args;
	const char *usage;
};

static const struct req_syntax syntaxes[] = {
	{ "hold",  REF_REQ_HOLD,  2, 3, "hold OBJ MS [THEN_OBJ]" },
	{ "wait",  REF_REQ_WAIT,  1, 1, "wait OBJ" },
	{ "sleep", REF_REQ_SLEEP, 1, 1, "sleep MS" },
	{ "dbus",  REF_REQ_DBUS,  2, 4, "dbus METHOD MS [TIMEOUT_MS [OBJ]]" },
	{ "fork",  REF_REQ_FORK,  1, 2, "fork N [fork|vfork|spawn|clone]" },
	{ "caps",  REF_REQ_CAPS,  1, 1, "caps N" },
	{ "block", REF_REQ_BLOCK, 1, 1, "block MS" },
	{ "ping",  REF_REQ_PING,  0, 0, "ping" },
	{ "pong",  REF_REQ_PONG,  0, 0, "pong" },
	{ "stats", REF_REQ_STATS, 0, 0, "stats" },
};

static const struct req_syntax *find_syntax(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(syntaxes) / sizeof(syntaxes[0]); i++)
		if (!strcasecmp(name, syntaxes[i].name))
			return &syntaxes[i];
	return NULL;
}

static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t errlen)
{
	if (!ref_parse_u64(s, min, max, out))
		return 0;
	snprintf(err, errlen, "bad number '%s' (%llu..%llu)", s, (unsigned long long)min,
		 (unsigned long long)max);
	return -EINVAL;
}

static int parse_object(struct ref_request *req, const char *name,
			const struct ref_objects *objects, char *err, size_t errlen)
{
	req->obj = ref_objects_find(objects, name);
	if (!req->obj) {
		snprintf(err, errlen, "no object '%s' (obj1..obj%zu)", name, objects->count);
		return -EINVAL;
	}
	snprintf(req->object, sizeof(req->object), "%s", req->obj->name);
	return 0;
}

/* A D-Bus member name, which libdbus would otherwise refuse with a warning. */
static bool valid_member(const char *s)
{
	const char *p;

	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	return p - s < 64;
}

/* Fills REQ from the arguments of its kind. */
static int parse_args(struct ref_request *req, char **argv, int argc,
		      const struct ref_objects *objects, char *err, size_t errlen)
{
	snprintf(req->object, sizeof(req->object), "-");
	switch (req->kind) {
	case REF_REQ_HOLD:
		if (parse_object(req, argv[0], objects, err, errlen))
			return -EINVAL;
		if (argc > 2) {
			req->then_obj = ref_objects_find(objects, argv[2]);
			if (!req->then_obj || req->then_obj == req->obj) {
				snprintf(err, errlen, "no other object '%s'", argv[2]);
				return -EINVAL;
			}
		}
		return parse_num(argv[1], 0, MAX_MS, &req->ms, err, errlen);
	case REF_REQ_WAIT:
		return parse_object(req, argv[0], objects, err, errlen);
	case REF_REQ_SLEEP:
	case REF_REQ_BLOCK:
		return parse_num(argv[0], 0, MAX_MS, &req->ms, err, errlen);
	case REF_REQ_DBUS:
		if (!valid_member(argv[0])) {
			snprintf(err, errlen, "bad method name '%.64s'", argv[0]);
			return -EINVAL;
		}
		snprintf(req->object, sizeof(req->object), "%s", argv[0]);
		if (parse_num(argv[1], 0, UINT32_MAX, &req->ms, err, errlen))
			return -EINVAL;
		if (argc > 2 && parse_num(argv[2], 1, MAX_MS, &req->timeout_ms, err, errlen))
			return -EINVAL;
		if (argc > 3) {
			req->obj = ref_objects_find(objects, argv[3]);
			if (!req->obj) {
				snprintf(err, errlen, "no object '%s'", argv[3]);
				return -EINVAL;
			}
		}
		return 0;
	case REF_REQ_FORK:
		req->method = REF_FORK_FORK;
		if (argc > 1 && ref_fork_method_parse(argv[1], &req->method)) {
			snprintf(err, errlen, "no fork method '%.16s' (fork, vfork, spawn, clone)", argv[1]);
			return -EINVAL;
		}
		return parse_num(argv[0], 0, MAX_COUNT, &req->count, err, errlen);
	case REF_REQ_CAPS:
		return parse_num(argv[0], 0, MAX_COUNT, &req->count, err, errlen);
	case REF_REQ_PING:
	case REF_REQ_PONG:
	case REF_REQ_STATS:
		return 0;
	}
	return -EINVAL;
}

int ref_request_parse(struct ref_request *req, char *line, const struct ref_objects *objects,
		      char *err, size_t errlen)
{
	const struct req_syntax *syntax;
	char *argv[MAX_ARGS + 1];
	char *save = NULL, *word;
	int argc = 0;

	word = strtok_r(line, " \t", &save);
	if (!word) {
		snprintf(err, errlen, "empty request");
		return -EINVAL;
	}
	syntax = find_syntax(word);
	if (!syntax) {
		snprintf(err, errlen, "unknown request '%.64s'", word);
		return -EINVAL;
	}
	while (argc <= MAX_ARGS && (argv[argc] = strtok_r(NULL, " \t", &save)))
		argc++;
	if (argc < syntax->min_args || argc > syntax->max_args) {
		snprintf(err, errlen, "usage: %s", syntax->usage);
		return -EINVAL;
	}
	req->kind = syntax->kind;
	req->op = syntax->name;
	return parse_args(req, argv, argc, objects, err, errlen);
}

bool ref_request_on_loop(const struct ref_request *req)
{
	return req->kind == REF_REQ_BLOCK || req->kind == REF_REQ_PING ||
	       req->kind == REF_REQ_PONG || req->kind == REF_REQ_STATS;
}

void ref_request_reply(const struct ref_request *req, bool nonblock, int64_t result)
{
	ref_conn_send_line(req->conn, nonblock, "ok %llu %lld\n", (unsigned long long)req->id,
			   (long long)result);
}

void ref_request_reply_err(const struct ref_request *req, bool nonblock, const char *msg)
{
	ref_conn_send_line(req->conn, nonblock, "err %llu %s\n", (unsigned long long)req->id, msg);
}

void ref_request_free(struct ref_request *req)
{
	if (!req)
		return;
	ref_conn_unref(req->conn);
	free(req);
}
