/* The capability lookup (see ref_caps.h). */
#include "ref_caps.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ref_proc.h"

/* Reads the whole file and drops it: the cost, not the content, matters. */
static int read_cpuinfo(void)
{
	char buf[4096];
	ssize_t n;
	int fd;

	fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

int64_t ref_caps_lookup(const char *binary, int64_t forks, const char *helper)
{
	struct stat st;
	int64_t ret;

	REF_PROBE(CAPS_LOOKUP_BEGIN, binary);
	ret = read_cpuinfo();
	if (!ret && stat(binary, &st) < 0)
		ret = -errno;
	if (!ret && forks > 0)
		ret = ref_run_helpers("caps", helper, (uint64_t)forks, REF_FORK_FORK);
	REF_PROBE(CAPS_LOOKUP_END, binary, ret);
	return ret;
}
