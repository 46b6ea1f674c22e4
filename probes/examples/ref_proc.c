/* Forking helpers (see ref_proc.h). */
#include "ref_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* What the child undoes before exec: the daemon blocks SIGTERM/SIGINT for
 * its signalfd and ignores SIGPIPE, and exec would keep both. Only
 * async-signal-safe calls: the parent has other threads. */
static void child_reset_signals(void)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	sigaction(SIGPIPE, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void ref_exec(const char *path)
{
	char *const argv[] = { (char *)path, NULL };
	int fd;

	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != STDIN_FILENO) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	REF_PROBE(EXEC, path);
	execve(path, argv, environ);
	_exit(127);
}

int ref_fork_method_parse(const char *name, enum ref_fork_method *method)
{
	static const char *const names[] = { "fork", "vfork", "spawn", "clone" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*method = (enum ref_fork_method)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* posix_spawn with what the fork child does by hand: default SIGPIPE, an
 * empty signal mask, stdin from /dev/null. The child's pid or -errno. */
static int64_t spawn(const char *path)
{
	char *const argv[] = { (char *)path, NULL };
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	sigset_t none, pipe;
	int64_t ret;
	pid_t pid;
	int err;

	if ((err = posix_spawnattr_init(&attr)))
		return -err;
	if ((err = posix_spawn_file_actions_init(&actions))) {
		posix_spawnattr_destroy(&attr);
		return -err;
	}
	sigemptyset(&none);
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!err)
		err = posix_spawnattr_setsigmask(&attr, &none);
	if (!err)
		err = posix_spawnattr_setsigdefault(&attr, &pipe);
	if (!err)
		err = posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
						       O_RDONLY, 0);
	if (!err)
		err = posix_spawn(&pid, path, &actions, &attr, argv, environ);
	ret = err ? -(int64_t)err : (int64_t)pid;
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	return ret;
}

int64_t ref_fork_helper(const char *reason, const char *path, enum ref_fork_method method)
{
	char exec_path[PATH_MAX];
	int64_t ret;
	pid_t pid;

	REF_PROBE(FORK_BEGIN, reason);
	/*
	 * The child gets the path from our stack: fork copies the page tables of
	 * anonymous memory only, so a string in a file-backed page (.rodata) is
	 * not mapped yet in the child, and a tracer's non-faulting read of the
	 * exec argument would come back empty.
	 */
	if (strlen(path) >= sizeof(exec_path)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	strcpy(exec_path, path);
	if (method == REF_FORK_SPAWN) {
		ret = spawn(exec_path);
		goto out;
	}
	/* A vfork child shares our memory until it execs: it only resets its
	 * own signal state and execs (or _exits), as vfork allows. */
	if (method == REF_FORK_CLONE)
		/* a raw clone system call, past libc's wrappers, as Go makes */
		pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0UL);
	else
		pid = method == REF_FORK_VFORK ? vfork() : fork();
	if (pid == 0) {
		child_reset_signals();
		ref_exec(exec_path);
	}
	ret = pid < 0 ? -(int64_t)errno : (int64_t)pid;
out:
	REF_PROBE(FORK_END, reason, ret);
	return ret;
}

int ref_wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return -ECHILD;
}

int ref_run_helpers(const char *reason, const char *path, uint64_t count,
		    enum ref_fork_method method)
{
	uint64_t i;
	int64_t pid;
	int err;

	for (i = 0; i < count; i++) {
		pid = ref_fork_helper(reason, path, method);
		if (pid < 0)
			return (int)pid;
		err = ref_wait_child((pid_t)pid);
		if (err)
			return err;
	}
	return 0;
}
