/*
 * refclient: sends requests to refdaemon and prints, per request, the reply
 * and its own measured latency (CLOCK_MONOTONIC, from just before the send to
 * the reply line), so tests can compare it with what a tracer saw. By default
 * the requests go one after the other on one connection; with -P each goes
 * on its own connection, all at once (connections are made first, so their
 * set-up is not measured). See probes/examples/README.md.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ref_util.h"

#define LINE_MAX_LEN 1024
#define MAX_PARALLEL 1024

struct opts {
	const char *socket_path;
	bool parallel;
	uint64_t repeat;
	uint64_t stagger_ms;
	uint64_t timeout_ms;
	uint64_t idle_ms;
	bool no_pong;
};

enum job_status { JOB_OK, JOB_ERR, JOB_FAIL };

struct job {
	const char *request;
	size_t index;
	enum job_status status;
	unsigned long long id;
	long long result;
	uint64_t latency_ns;
	char error[256];
};

struct conn {
	int fd;
	size_t index;
	uint64_t opened_ns;
	char buf[LINE_MAX_LEN];
	size_t len;
};

struct parallel_arg {
	const struct opts *opts;
	struct job *job;
	pthread_barrier_t *barrier;
	int ret;
};

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keepalive and hang-up events print as they happen, one whole line each. */
static void print_event(const struct conn *c, const char *what)
{
	pthread_mutex_lock(&print_lock);
	printf("%s conn=%zu after_ms=%llu\n", what, c->index,
	       (unsigned long long)((ref_now_ns() - c->opened_ns) / 1000000u));
	fflush(stdout);
	pthread_mutex_unlock(&print_lock);
}

static int conn_open(struct conn *c, const char *path, size_t index)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int err;

	c->fd = -1;
	c->index = index;
	c->len = 0;
	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	c->opened_ns = ref_now_ns();
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int conn_send(struct conn *c, const char *text)
{
	char line[LINE_MAX_LEN];
	int len = snprintf(line, sizeof(line), "%s\n", text);
	size_t off = 0;

	if (len < 0 || (size_t)len >= sizeof(line))
		return -EMSGSIZE;
	while (off < (size_t)len) {
		ssize_t n = send(c->fd, line + off, (size_t)len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* The next line by DEADLINE_NS: 1, 0 on timeout, -ECONNRESET when the daemon
 * hung up, or -errno. */
static int conn_read_line(struct conn *c, uint64_t deadline_ns, char *line)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		uint64_t now = ref_now_ns();
		ssize_t n;
		int ready;

		if (nl) {
			size_t taken = (size_t)(nl - c->buf);

			memcpy(line, c->buf, taken);
			line[taken] = '\0';
			c->len -= taken + 1;
			memmove(c->buf, nl + 1, c->len);
			return 1;
		}
		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		if (now >= deadline_ns)
			return 0;
		ready = poll(&pfd, 1, (int)((deadline_ns - now + 999999) / 1000000));
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready <= 0)
			continue;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		if (n > 0)
			c->len += (size_t)n;
	}
}

/* A "ping" from the daemon: say so, and answer it unless told not to. */
static void handle_ping(struct conn *c, const struct opts *o)
{
	print_event(c, "ping");
	if (!o->no_pong && conn_send(c, "pong"))
		print_event(c, "pong-failed");
}

/* The next line that is not a daemon ping. */
static int await_reply(struct conn *c, const struct opts *o, uint64_t deadline_ns, char *line)
{
	int got;

	while ((got = conn_read_line(c, deadline_ns, line)) > 0) {
		if (strcmp(line, "ping"))
			return 1;
		handle_ping(c, o);
	}
	return got;
}

static void job_fail(struct job *job, const char *what, int err)
{
	job->status = JOB_FAIL;
	snprintf(job->error, sizeof(job->error), "%s: %s", what,
		 err ? strerror(-err) : "timed out");
}

/* "ok <id> <result>" or "err <id> <message>". */
static void job_parse_reply(struct job *job, const char *line)
{
	int used = 0;

	if (sscanf(line, "ok %llu %lld%n", &job->id, &job->result, &used) == 2 && !line[used]) {
		job->status = JOB_OK;
	} else if (sscanf(line, "err %llu %n", &job->id, &used) == 1 && used) {
		job->status = JOB_ERR;
		snprintf(job->error, sizeof(job->error), "%s", line + used);
	} else {
		job->status = JOB_FAIL;
		snprintf(job->error, sizeof(job->error), "bad reply '%.200s'", line);
	}
}

static void run_job(struct conn *c, const struct opts *o, struct job *job)
{
	char line[LINE_MAX_LEN];
	uint64_t start = ref_now_ns();
	int err;

	err = conn_send(c, job->request);
	if (err) {
		job_fail(job, "send failed", err);
		return;
	}
	err = await_reply(c, o, start + o->timeout_ms * 1000000u, line);
	job->latency_ns = ref_now_ns() - start;
	if (err <= 0) {
		job_fail(job, "no reply", err);
		return;
	}
	job_parse_reply(job, line);
}

/* Stays connected and silent for --idle, reporting pings and a hang-up. */
static void idle(struct conn *c, const struct opts *o)
{
	uint64_t deadline = ref_now_ns() + o->idle_ms * 1000000u;
	char line[LINE_MAX_LEN];
	int got;

	while ((got = await_reply(c, o, deadline, line)) > 0) {
		pthread_mutex_lock(&print_lock);
		printf("unexpected conn=%zu line=\"%s\"\n", c->index, line);
		pthread_mutex_unlock(&print_lock);
	}
	if (got < 0)
		print_event(c, "closed");
}

static int run_sequential(const struct opts *o, struct job *jobs, size_t njobs)
{
	struct conn c;
	size_t i;
	int err;

	err = conn_open(&c, o->socket_path, 0);
	if (err) {
		fprintf(stderr, "refclient: cannot connect to '%s': %s\n", o->socket_path,
			strerror(-err));
		return err;
	}
	for (i = 0; i < njobs; i++)
		run_job(&c, o, &jobs[i]);
	if (o->idle_ms)
		idle(&c, o);
	conn_close(&c);
	return 0;
}

static void *parallel_thread(void *opaque)
{
	struct parallel_arg *arg = opaque;
	const struct opts *o = arg->opts;
	struct conn c;

	arg->ret = conn_open(&c, o->socket_path, arg->job->index);
	/* Everyone connects first, then all start together. */
	pthread_barrier_wait(arg->barrier);
	if (arg->ret) {
		job_fail(arg->job, "cannot connect", arg->ret);
		return NULL;
	}
	if (o->stagger_ms)
		ref_sleep_ms(o->stagger_ms * arg->job->index);
	run_job(&c, o, arg->job);
	if (o->idle_ms)
		idle(&c, o);
	conn_close(&c);
	return NULL;
}

static int run_parallel(const struct opts *o, struct job *jobs, size_t njobs)
{
	struct parallel_arg *args = calloc(njobs, sizeof(*args));
	pthread_t *threads = calloc(njobs, sizeof(*threads));
	pthread_barrier_t barrier;
	size_t i, started = 0;
	int err = 0;

	if (!args || !threads) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = -pthread_barrier_init(&barrier, NULL, (unsigned)njobs);
	if (err)
		goto cleanup;
	for (i = 0; i < njobs; i++) {
		args[i] = (struct parallel_arg){ .opts = o, .job = &jobs[i], .barrier = &barrier };
		err = -pthread_create(&threads[i], NULL, parallel_thread, &args[i]);
		if (err) {
			/* The started threads wait at the barrier for ever: give up. */
			fprintf(stderr, "refclient: cannot start a thread: %s\n", strerror(-err));
			exit(2);
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_barrier_destroy(&barrier);
cleanup:
	free(threads);
	free(args);
	return err;
}

static int print_results(const struct job *jobs, size_t njobs)
{
	int ret = 0;
	size_t i;

	for (i = 0; i < njobs; i++) {
		const struct job *j = &jobs[i];

		if (j->status == JOB_OK)
			printf("ok id=%llu result=%lld latency_ns=%llu request=\"%s\"\n", j->id,
			       j->result, (unsigned long long)j->latency_ns, j->request);
		else if (j->status == JOB_ERR)
			printf("err id=%llu latency_ns=%llu error=\"%s\" request=\"%s\"\n", j->id,
			       (unsigned long long)j->latency_ns, j->error, j->request);
		else
			printf("fail latency_ns=%llu error=\"%s\" request=\"%s\"\n",
			       (unsigned long long)j->latency_ns, j->error, j->request);
		if (j->status == JOB_FAIL)
			ret = 2;
		else if (j->status == JOB_ERR && !ret)
			ret = 1;
	}
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: refclient --socket PATH [options] REQUEST...\n"
		"  -s, --socket PATH   refdaemon's socket (required)\n"
		"  -P, --parallel      each request on its own connection, all at once\n"
		"  -n, --repeat N      send the request list N times (1)\n"
		"      --stagger MS    with -P, send request i after i*MS ms (0)\n"
		"  -t, --timeout MS    give up on a reply after MS ms (60000)\n"
		"      --idle MS       then stay connected and silent MS ms\n"
		"      --no-pong       do not answer the daemon's keepalive pings\n"
		"Prints per request, in order: ok id=ID result=R latency_ns=NS request=\"...\"\n"
		"(or err/fail lines). Exits 0 if all were ok, 1 on an err reply, 2 on failure.\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "parallel", no_argument, NULL, 'P' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "stagger", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 't' },
		{ "idle", required_argument, NULL, 'I' },
		{ "no-pong", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, err = 0;

	*o = (struct opts){ .repeat = 1, .timeout_ms = 60000 };
	while (!err && (opt = getopt_long(argc, argv, "s:Pn:t:h", longs, NULL)) != -1) {
		switch (opt) {
		case 's': o->socket_path = optarg; break;
		case 'P': o->parallel = true; break;
		case 'n': err = ref_parse_u64(optarg, 1, 100000, &o->repeat); break;
		case 'S': err = ref_parse_u64(optarg, 0, 3600000, &o->stagger_ms); break;
		case 't': err = ref_parse_u64(optarg, 1, 3600000, &o->timeout_ms); break;
		case 'I': err = ref_parse_u64(optarg, 0, 3600000, &o->idle_ms); break;
		case 'N': o->no_pong = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
		if (err)
			fprintf(stderr, "refclient: bad number '%s'\n", optarg);
	}
	if (!err && !o->socket_path) {
		fprintf(stderr, "refclient: --socket PATH is required\n");
		err = -EINVAL;
	}
	if (!err && optind == argc && !o->idle_ms) {
		fprintf(stderr, "refclient: no request given\n");
		err = -EINVAL;
	}
	return err;
}

int main(int argc, char **argv)
{
	struct job *jobs = NULL;
	size_t nreq, njobs, i;
	struct opts o;
	int err, ret = 2;

	if (parse_opts(&o, argc, argv))
		return 2;
	nreq = (size_t)(argc - optind);
	njobs = nreq * o.repeat;
	if (o.parallel && njobs > MAX_PARALLEL) {
		fprintf(stderr, "refclient: -P runs at most %d requests\n", MAX_PARALLEL);
		return 2;
	}
	if (njobs) {
		jobs = calloc(njobs, sizeof(*jobs));
		if (!jobs) {
			fprintf(stderr, "refclient: out of memory\n");
			return 2;
		}
	}
	for (i = 0; i < njobs; i++)
		jobs[i] = (struct job){ .request = argv[optind + i % nreq], .index = i };
	if (o.parallel && njobs)
		err = run_parallel(&o, jobs, njobs);
	else
		err = run_sequential(&o, jobs, njobs);
	if (!err)
		ret = print_results(jobs, njobs);
	free(jobs);
	return ret;
}
