/* Process lookup: by pid and by name, and the processes that cannot be
 * targets (missing, kernel threads, zombies). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../collectors/target.h"
#include "unit.h"

/* A child that renames itself and waits to be killed. */
static pid_t spawn_named(const char *name)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_NAME, name);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void open_self(void)
{
	struct vs_target t;
	char err[256];

	CHECK(vs_target_open(&t, getpid(), err, sizeof(err)) == 0);
	CHECK(t.pidfd >= 0 && t.pid == getpid() && vs_target_alive(&t));
	CHECK(t.exe[0] == '/');
	vs_target_close(&t);
	CHECK(t.pidfd == -1);
}

static void open_missing(void)
{
	struct vs_target t;
	char err[256] = "";

	CHECK(vs_target_open(&t, 999999999, err, sizeof(err)) == -ESRCH);
	CHECK_STREQ(err, "no process with pid 999999999");
}

static void open_kernel_thread(void)
{
	struct vs_target t;
	char err[256] = "";

	/* kthreadd is pid 2 in the initial pid namespace. */
	CHECK(vs_target_open(&t, 2, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "kernel thread") != NULL);
}

static void open_zombie(void)
{
	struct vs_target t;
	char err[256] = "";
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	CHECK(pid > 0);
	/* Not reaped yet: a zombie once it has exited. */
	for (int i = 0; i < 200; i++) {
		siginfo_t si = { 0 };

		if (!waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid)
			break;
		usleep(5000);
	}
	CHECK(vs_target_open(&t, pid, err, sizeof(err)) == -ESRCH);
	CHECK(strstr(err, "zombie") != NULL);
	waitpid(pid, NULL, 0);
}

static void alive_until_exit(void)
{
	struct vs_target t;
	char err[256];
	pid_t pid = spawn_named("vs-unit-alive");

	CHECK(pid > 0);
	CHECK(vs_target_open(&t, pid, err, sizeof(err)) == 0);
	CHECK(vs_target_alive(&t) == 1);
	CHECK_STREQ(t.comm, "vs-unit-alive");
	reap(pid);
	CHECK(vs_target_alive(&t) == 0);
	vs_target_close(&t);
}

static void find_by_name(void)
{
	char err[256] = "";
	pid_t found = 0, a = spawn_named("vs-unit-find1"), b, c;
	int rc;

	CHECK(a > 0);
	rc = vs_target_find("vs-unit-find1", &found, err, sizeof(err));
	b = spawn_named("vs-unit-find1");
	c = vs_target_find("vs-unit-find1", &found, err, sizeof(err));
	reap(a);
	reap(b);
	CHECK(rc == 0);
	CHECK(c == -EEXIST && strstr(err, "2 processes are named 'vs-unit-find1'"));
	CHECK(vs_target_find("vs-unit-nothing", &found, err, sizeof(err)) == -ESRCH);
	CHECK_STREQ(err, "no running process is named 'vs-unit-nothing'");
}

UNIT_SUITE(target, UNIT_TEST(open_self), UNIT_TEST(open_missing),
	   UNIT_TEST(open_kernel_thread), UNIT_TEST(open_zombie), UNIT_TEST(alive_until_exit),
	   UNIT_TEST(find_by_name));
