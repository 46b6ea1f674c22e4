/* Forking helpers (see ref_proc.h). */
#include "ref_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
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

int64_t ref_fork_helper(const char *reason, const char *path)
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
	pid = fork();
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

int ref_run_helpers(const char *reason, const char *path, uint64_t count)
{
	uint64_t i;
	int64_t pid;
	int err;

	for (i = 0; i < count; i++) {
		pid = ref_fork_helper(reason, path);
		if (pid < 0)
			return (int)pid;
		err = ref_wait_child((pid_t)pid);
		if (err)
			return err;
	}
	return 0;
}
