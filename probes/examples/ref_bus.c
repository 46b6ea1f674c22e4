/* The private dbus-daemon (see ref_bus.h). */
#include "ref_bus.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ref_util.h"

#define BUS_START_TIMEOUT_MS 5000
#define BUS_STOP_TIMEOUT_MS  2000

extern char **environ;

/* In the child: only async-signal-safe calls, since the parent may already
 * have threads (libdbus, the pool). */
static __attribute__((noreturn)) void bus_child(pid_t parent, int devnull, int addr_fd,
						bool verbose, char *const argv[])
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* stdout is the daemon's "ready" channel: keep the bus off it. */
	dup2(devnull, STDIN_FILENO);
	dup2(devnull, STDOUT_FILENO);
	if (!verbose)
		dup2(devnull, STDERR_FILENO);
	if (fcntl(addr_fd, F_SETFD, 0) < 0)
		_exit(127);
	execve("/usr/bin/dbus-daemon", argv, environ);
	_exit(127);
}

/* Reads the first line dbus-daemon prints on FD, within the start timeout. */
static int bus_read_address(int fd, char **address)
{
	uint64_t deadline = ref_now_ms() + BUS_START_TIMEOUT_MS;
	char buf[512];
	size_t len = 0;
	char *nl;

	while (!(nl = memchr(buf, '\n', len))) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = ref_now_ms();
		ssize_t n;
		int ready;

		if (now >= deadline || len == sizeof(buf))
			return -ETIMEDOUT;
		ready = poll(&pfd, 1, (int)(deadline - now));
		if (ready < 0 && errno != EINTR)
			return -errno;
		if (ready <= 0)
			continue;
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -EPIPE;     /* it exited before printing */
		if (n > 0)
			len += (size_t)n;
	}
	*nl = '\0';
	*address = strdup(buf);
	return *address ? 0 : -ENOMEM;
}

int ref_bus_start(struct ref_bus *bus, bool verbose)
{
	int pipefd[2] = { -1, -1 };
	int devnull = -1;
	char print_arg[32];
	char *const argv[] = {
		"dbus-daemon", "--session", "--nofork", "--nopidfile", "--nosyslog",
		print_arg, NULL,
	};
	pid_t parent = getpid();
	int err;

	bus->pid = 0;
	bus->address = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		err = -errno;
		goto cleanup;
	}
	/* Formatted before fork(): snprintf is not async-signal-safe. */
	snprintf(print_arg, sizeof(print_arg), "--print-address=%d", pipefd[1]);

	bus->pid = fork();
	if (bus->pid < 0) {
		err = -errno;
		bus->pid = 0;
		goto cleanup;
	}
	if (bus->pid == 0)
		bus_child(parent, devnull, pipefd[1], verbose, argv);
	close(pipefd[1]);
	pipefd[1] = -1;
	err = bus_read_address(pipefd[0], &bus->address);
	if (err) {
		ref_warn("dbus-daemon gave no address: %s", strerror(-err));
		ref_bus_stop(bus);
	}
cleanup:
	if (devnull >= 0)
		close(devnull);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return err;
}

/* Waits up to MS for the bus to exit: 0, or -ETIMEDOUT. */
static int bus_reap(pid_t pid, uint64_t ms)
{
	uint64_t deadline = ref_now_ms() + ms;

	for (;;) {
		pid_t got = waitpid(pid, NULL, WNOHANG);

		if (got == pid || (got < 0 && errno != EINTR))
			return 0;
		if (ref_now_ms() >= deadline)
			return -ETIMEDOUT;
		ref_sleep_ms(10);
	}
}

void ref_bus_stop(struct ref_bus *bus)
{
	if (bus->pid > 0) {
		kill(bus->pid, SIGTERM);
		if (bus_reap(bus->pid, BUS_STOP_TIMEOUT_MS)) {
			ref_warn("dbus-daemon %d ignored SIGTERM: killing it", (int)bus->pid);
			kill(bus->pid, SIGKILL);
			bus_reap(bus->pid, BUS_STOP_TIMEOUT_MS);
		}
	}
	bus->pid = 0;
	free(bus->address);
	bus->address = NULL;
}
