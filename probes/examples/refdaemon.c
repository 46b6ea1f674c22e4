/*
 * refdaemon: a small daemon shaped like libvirtd, with the virtscope probes
 * compiled in and every delay injected, so that what a tracer measures can
 * be checked against the truth. See probes/examples/README.md.
 *
 * main() starts, in order: signals, objects, the bus and its peer, the
 * worker pool, the listening loop; says "ready"; runs the loop until
 * SIGTERM/SIGINT; and stops everything in the reverse order, unblocking
 * whatever still waits (sleeps, D-Bus calls) first.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ref_bus.h"
#include "ref_config.h"
#include "ref_dbus.h"
#include "ref_loop.h"
#include "ref_object.h"
#include "ref_ops.h"
#include "ref_peer.h"
#include "ref_pool.h"
#include "ref_probes.h"
#include "ref_stop.h"
#include "ref_util.h"

struct refdaemon {
	struct ref_config cfg;
	int signal_fd;
	struct ref_objects objects;
	struct ref_stop stop;
	bool stop_ready;
	struct ref_bus bus;
	struct ref_peer peer;
	struct ref_ops ops;
	struct ref_pool *pool;
	struct ref_loop loop;
	bool loop_ready;
};

/*
 * SIGTERM and SIGINT arrive on a signalfd the loop polls. They are blocked
 * before any thread exists, so every thread inherits the mask and none is
 * interrupted; children unblock them before exec.
 */
static int signals_setup(int *signal_fd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigset_t mask;
	int err;

	/* A client that hangs up must not kill us on the next write. */
	if (sigaction(SIGPIPE, &ign, NULL) < 0)
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	err = pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if (err)
		return -err;
	*signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	return *signal_fd < 0 ? -errno : 0;
}

/* The private bus (unless --bus names one) and the peer on it. */
static int dbus_setup(struct refdaemon *d)
{
	const char *address = d->cfg.bus_address;
	int err;

	if (!d->cfg.dbus)
		return 0;
	if (!address) {
		err = ref_bus_start(&d->bus, d->cfg.verbose);
		if (err) {
			ref_warn("cannot start dbus-daemon: %s", strerror(-err));
			return err;
		}
		address = d->bus.address;
	}
	err = ref_peer_start(&d->peer, address, d->cfg.dbus_hang);
	if (err)
		return err;
	d->ops.bus_address = address;
	ref_debug("bus %s, peer %s", address, REF_PEER_NAME);
	return 0;
}

static void say_ready(const struct refdaemon *d)
{
	char line[512];
	int len;

	len = snprintf(line, sizeof(line), "ready pid=%d socket=%s\n", (int)getpid(),
		       d->cfg.socket_path);
	fputs(line, stdout);
	fflush(stdout);
	if (d->cfg.ready_fd >= 0) {
		if (write(d->cfg.ready_fd, line, (size_t)len) < 0)
			ref_warn("cannot write to --ready-fd %d: %s", d->cfg.ready_fd,
				 strerror(errno));
		close(d->cfg.ready_fd);
	}
}

static int daemon_start(struct refdaemon *d)
{
	int err;

	err = signals_setup(&d->signal_fd);
	if (err)
		return err;
	err = ref_objects_init(&d->objects, d->cfg.objects);
	if (err)
		return err;
	err = ref_stop_init(&d->stop);
	if (err)
		return err;
	d->stop_ready = true;
	d->ops = (struct ref_ops){
		.objects = &d->objects,
		.stop = &d->stop,
		.helper = d->cfg.helper,
		.caps_binary = d->cfg.caps_binary,
		.dbus_timeout_ms = d->cfg.dbus_timeout_ms,
	};
	err = dbus_setup(d);
	if (err)
		return err;
	err = ref_pool_start(&d->pool, d->cfg.workers, &d->ops);
	if (err)
		return err;
	err = ref_loop_init(&d->loop, d->cfg.socket_path, d->signal_fd);
	d->loop_ready = true;
	if (err)
		return err;
	d->loop.ka = (struct ref_keepalive_cfg){
		.interval_ms = d->cfg.keepalive_interval_s * 1000,
		.count = (int64_t)d->cfg.keepalive_count,
	};
	d->loop.objects = &d->objects;
	d->loop.ops = &d->ops;
	d->loop.pool = d->pool;
	return 0;
}

/* In the reverse order of start, waking each waiter before joining it. */
static void daemon_stop(struct refdaemon *d)
{
	if (d->stop_ready)
		ref_stop_request(&d->stop);     /* cuts injected worker delays short */
	ref_peer_stop(&d->peer);                /* answers calls still pending */
	ref_pool_stop(d->pool);
	if (d->loop_ready)
		ref_loop_release(&d->loop);
	ref_bus_stop(&d->bus);
	/* Every connection is closed by now: free libdbus's caches, so that
	 * leak checkers see only our own leaks. */
	if (d->cfg.dbus)
		dbus_shutdown();
	if (d->stop_ready)
		ref_stop_release(&d->stop);
	ref_objects_release(&d->objects);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
}

/* True once a tracer has raised any of the provider's semaphores. */
static bool traced(void)
{
	return VIRTSCOPE_LOCK_ACQUIRE_BEGIN_ENABLED() || VIRTSCOPE_LOCK_ACQUIRED_ENABLED() ||
	       VIRTSCOPE_LOCK_RELEASE_ENABLED() || VIRTSCOPE_OP_BEGIN_ENABLED() ||
	       VIRTSCOPE_OP_END_ENABLED() || VIRTSCOPE_FORK_BEGIN_ENABLED() ||
	       VIRTSCOPE_FORK_END_ENABLED() || VIRTSCOPE_EXEC_ENABLED() ||
	       VIRTSCOPE_CAPS_LOOKUP_BEGIN_ENABLED() || VIRTSCOPE_CAPS_LOOKUP_END_ENABLED() ||
	       VIRTSCOPE_DBUS_CALL_BEGIN_ENABLED() || VIRTSCOPE_DBUS_CALL_END_ENABLED() ||
	       VIRTSCOPE_LOOP_ITERATION_BEGIN_ENABLED() || VIRTSCOPE_LOOP_ITERATION_END_ENABLED() ||
	       VIRTSCOPE_LOOP_DISPATCH_ENABLED() || VIRTSCOPE_KEEPALIVE_SENT_ENABLED() ||
	       VIRTSCOPE_KEEPALIVE_RECEIVED_ENABLED() || VIRTSCOPE_KEEPALIVE_TIMEOUT_ENABLED();
}

/* --exit-when-traced: the first semaphore goes up while the tracer is still
 * attaching the rest, so exiting then is dying in the middle of an attach,
 * at a moment a test can choose. */
static void *exit_when_traced(void *arg)
{
	(void)arg;
	while (!traced())
		usleep(200);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct refdaemon d = { .signal_fd = -1 };
	int err;

	ref_log_init("refdaemon", false);
	err = ref_config_parse(&d.cfg, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	ref_log_init("refdaemon", d.cfg.verbose);
	/* The fallback build's file name is longer; the thread name is not. */
	ref_set_thread_name("refdaemon");
	err = daemon_start(&d);
	if (err) {
		ref_warn("cannot start: %s", strerror(-err));
		goto cleanup;
	}
	if (d.cfg.exit_when_traced) {
		pthread_t t;

		err = -pthread_create(&t, NULL, exit_when_traced, NULL);
		if (err) {
			ref_warn("cannot start the tracer watch: %s", strerror(-err));
			goto cleanup;
		}
		pthread_detach(t);
	}
	say_ready(&d);
	err = ref_loop_run(&d.loop);
	if (err)
		ref_warn("main loop failed: %s", strerror(-err));
cleanup:
	daemon_stop(&d);
	return err ? 1 : 0;
}
