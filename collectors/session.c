/* The session loop: one epoll set over every collector's fd and the target's
 * pidfd, with a short tick for collectors that have no fd and for checking
 * the clock. A signal interrupts epoll_wait (handlers are installed without
 * SA_RESTART), so Ctrl-C is noticed at once. */
#include "session.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../lib/log.h"
#include "../lib/priority.h"
#include "../lib/privs.h"
#include "../lib/util.h"

#define TICK_MS 100

static volatile sig_atomic_t interrupted;

void vs_session_interrupt(void)
{
	interrupted = 1;
}

int vs_session_interrupted(void)
{
	return interrupted;
}

int vs_session_init(struct vs_session *s, const struct vs_target *target,
		    const struct vs_config *config)
{
	memset(s, 0, sizeof(*s));
	s->target = *target;
	s->epoll_fd = -1;
	if (config)
		s->config = *config;
	s->stacks = vs_stacks_new();
	s->procs = vs_procs_new();
	s->unwinder = s->procs ? vs_unwinder_new(s->procs) : NULL;
	if (!s->stacks || !s->unwinder)
		return -ENOMEM;
	return 0;
}

int vs_session_add_collector(struct vs_session *s, const char *name)
{
	const struct vs_collector_ops *ops = vs_collector_find(name);

	return ops ? vs_session_add_collector_ops(s, ops) : -ENOENT;
}

int vs_session_add_collector_ops(struct vs_session *s, const struct vs_collector_ops *ops)
{
	struct vs_collector *c;

	if (s->nr_collectors == VS_SESSION_MAX_COLLECTORS)
		return -E2BIG;
	c = &s->collectors[s->nr_collectors++];
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->session = s;
	return 0;
}

int vs_session_add_consumer(struct vs_session *s, struct vs_consumer *consumer)
{
	if (s->nr_consumers == VS_SESSION_MAX_CONSUMERS)
		return -E2BIG;
	s->consumers[s->nr_consumers++] = consumer;
	return 0;
}

void vs_session_dispatch(struct vs_session *s, const struct vs_event *ev)
{
	for (size_t i = 0; i < s->nr_consumers; i++)
		s->consumers[i]->event(s->consumers[i], ev);
}

void vs_collector_emit(struct vs_collector *c, const struct vs_event *ev)
{
	c->stats.events++;
	vs_session_dispatch(c->session, ev);
}

int vs_collector_consume(struct vs_collector *c, struct ring_buffer *rb, enum vs_event_kind what,
			 const uint64_t *lost, uint64_t *seen)
{
	uint64_t now;
	int rc;

	if (!rb)
		return 0;
	rc = ring_buffer__consume(rb);
	if (rc < 0)
		return rc;
	now = __atomic_load_n(lost, __ATOMIC_RELAXED);
	if (now > *seen) {
		vs_collector_lost(c, what, now - *seen);
		*seen = now;
	}
	return 0;
}

void vs_collector_lost(struct vs_collector *c, enum vs_event_kind what, uint64_t count)
{
	struct vs_event ev = {
		.kind = VS_EV_LOST,
		.pid = c->session->target.pid,
		.ts_ns = vs_now_ns(),
		.lost = { .what = what, .count = count, .collector = c->ops->name },
	};

	c->stats.lost += count;
	vs_session_dispatch(c->session, &ev);
}

vs_stack_id vs_collector_stack(struct vs_collector *c, uint32_t pid, const uint64_t *kips,
			       unsigned int nr_kernel, const struct vs_ustack *snap,
			       const uint64_t *fp_ips, int fp_count)
{
	struct vs_session *s = c->session;
	uint64_t ips[VS_MAX_USER_FRAMES];
	enum vs_unwind_end end = VS_UNWIND_NO_CFI;
	unsigned int nu = 0;
	uint32_t flags = 0;

	if (snap) {
		nu = vs_unwind(s->unwinder, pid, snap, ips, VS_MAX_USER_FRAMES, &end);
		fp_ips = ips;
	} else if (fp_count > 0) {
		nu = (unsigned int)fp_count;
		end = nu >= VS_PROFILE_MAX_STACK ? VS_UNWIND_TRUNCATED : VS_UNWIND_NO_CFI;
	}
	c->stats.stacks_user++;
	if (end == VS_UNWIND_ROOT) {
		flags |= VS_STACK_COMPLETE;
		c->stats.stacks_complete++;
	} else if (end == VS_UNWIND_TRUNCATED) {
		flags |= VS_STACK_TRUNCATED;
		c->stats.stacks_truncated++;
	}
	if (!nu) {
		flags |= VS_STACK_USER_UNREADABLE;
		c->stats.stacks_unreadable++;
	}
	return vs_stacks_intern(s->stacks, pid, kips, nr_kernel, fp_ips, nu, flags);
}

static int watch(int epfd, int fd, size_t index)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u64 = index };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) ? -errno : 0;
}

static int gone(const struct vs_session *s)
{
	return s->target.pidfd >= 0 && !vs_target_alive(&s->target);
}

int vs_session_start(struct vs_session *s, char *err, size_t errlen)
{
	int rc;

	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epoll_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		return rc;
	}
	s->started = 1;
	for (size_t i = 0; i < s->nr_collectors; i++) {
		struct vs_collector *c = &s->collectors[i];
		int fd;

		rc = c->ops->start(c);
		if (rc && (rc == -ESRCH || gone(s)))
			goto exited;
		if (rc) {
			snprintf(err, errlen, "%s", c->error[0] ? c->error : strerror(-rc));
			goto fail;
		}
		fd = c->ops->fd ? c->ops->fd(c) : -1;
		if (fd >= 0 && (rc = watch(s->epoll_fd, fd, i))) {
			snprintf(err, errlen, "epoll_ctl: %s", strerror(-rc));
			goto fail;
		}
	}
	rc = watch(s->epoll_fd, s->target.pidfd, (size_t)-1);
	if (rc) {
		snprintf(err, errlen, "cannot watch pid %d: %s", (int)s->target.pid,
			 strerror(-rc));
		goto fail;
	}
	/* A target gone before every probe was in place was seen only in
	 * part: better refused than reported as if it had been quiet. */
	if (gone(s))
		goto exited;
	/* Before the capabilities go: raising it takes CAP_SYS_NICE. A
	 * virtscope that cannot still works, and counts what it loses. */
	if ((rc = vs_raise_priority()) < 0)
		pr_warn("cannot raise virtscope's priority: %s", strerror(-rc));
	if ((rc = vs_drop_privileges(s->config.keep_privileges)))
		pr_warn("cannot drop the capabilities attaching needed: %s", strerror(-rc));
	return 0;
exited:
	rc = -ESRCH;
	snprintf(err, errlen, "process %d exited while virtscope attached to it",
		 (int)s->target.pid);
fail:
	vs_session_stop(s);
	return rc;
}

static int poll_all(struct vs_session *s)
{
	for (size_t i = 0; i < s->nr_collectors; i++) {
		struct vs_collector *c = &s->collectors[i];
		int rc = c->ops->poll(c);

		if (rc)
			return rc;
	}
	return 0;
}

int vs_session_run(struct vs_session *s, uint64_t duration_ns)
{
	uint64_t deadline = duration_ns ? vs_now_ns() + duration_ns : 0;
	struct epoll_event evs[VS_SESSION_MAX_COLLECTORS + 1];
	int rc = 0;

	while (!interrupted) {
		int timeout = TICK_MS, n;
		uint64_t now = vs_now_ns();

		if (deadline) {
			if (now >= deadline)
				break;
			if (deadline - now < (uint64_t)TICK_MS * VS_NSEC_PER_MSEC)
				timeout = (int)((deadline - now) / VS_NSEC_PER_MSEC) + 1;
		}
		n = epoll_wait(s->epoll_fd, evs, (int)VS_ARRAY_SIZE(evs), timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		/* Every collector is polled on every wake-up: cheap for those with
		 * nothing to read, and it keeps events of different collectors
		 * close to their time order. */
		rc = poll_all(s);
		if (rc)
			return rc;
		if (gone(s))
			return -ESRCH;
	}
	return poll_all(s);
}

void vs_session_stats(const struct vs_session *s, struct vs_collector_stats *total)
{
	memset(total, 0, sizeof(*total));
	for (size_t i = 0; i < s->nr_collectors; i++) {
		const struct vs_collector_stats *st = &s->collectors[i].stats;

		total->events += st->events;
		total->lost += st->lost;
		total->stacks_user += st->stacks_user;
		total->stacks_complete += st->stacks_complete;
		total->stacks_truncated += st->stacks_truncated;
		total->stacks_unreadable += st->stacks_unreadable;
	}
}

void vs_session_stop(struct vs_session *s)
{
	if (!s->started)
		return;
	/* Detach in reverse order of attachment. */
	for (size_t i = s->nr_collectors; i-- > 0;)
		s->collectors[i].ops->stop(&s->collectors[i]);
	s->started = 0;
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	s->epoll_fd = -1;
}

static void target_event(struct vs_session *s, uint32_t old_pid, uint32_t new_pid,
			 uint64_t exited_ns)
{
	struct vs_event ev = {
		.kind = VS_EV_TARGET,
		.pid = new_pid ? new_pid : old_pid,
		.tid = new_pid ? new_pid : old_pid,
		.ts_ns = exited_ns,
		.target = { .old_pid = old_pid, .new_pid = new_pid },
	};
	uint64_t now = vs_now_ns();

	ev.dur_ns = now > exited_ns ? now - exited_ns : 0;
	memcpy(ev.comm, s->target.comm, sizeof(ev.comm));
	vs_session_dispatch(s, &ev);
}

void vs_session_target_gone(struct vs_session *s, uint64_t exited_ns)
{
	target_event(s, (uint32_t)s->target.pid, 0, exited_ns);
}

int vs_session_retarget(struct vs_session *s, const struct vs_target *next, uint64_t exited_ns,
			char *err, size_t errlen)
{
	uint32_t old_pid = (uint32_t)s->target.pid;

	vs_session_stop(s);
	/* stop() freed each collector's state; start() wants it fresh, as
	 * after vs_session_add_collector(), with only the counts kept. */
	for (size_t i = 0; i < s->nr_collectors; i++) {
		struct vs_collector *c = &s->collectors[i];
		const struct vs_collector_ops *ops = c->ops;
		struct vs_collector_stats stats = c->stats;

		memset(c, 0, sizeof(*c));
		c->ops = ops;
		c->session = s;
		c->stats = stats;
	}
	vs_target_close(&s->target);
	s->target = *next;
	target_event(s, old_pid, (uint32_t)next->pid, exited_ns);
	return vs_session_start(s, err, errlen);
}

void vs_session_release(struct vs_session *s)
{
	vs_session_stop(s);
	vs_stacks_free(s->stacks);
	s->stacks = NULL;
	vs_unwinder_free(s->unwinder);
	s->unwinder = NULL;
	vs_procs_free(s->procs);
	s->procs = NULL;
	vs_target_close(&s->target);
}
