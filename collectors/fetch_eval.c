/* The user-space twin of run_fetch() in bpf/probes.bpf.c. */
#include "fetch_eval.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int read_mem(int fd, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : -EFAULT;
}

int vs_fetch_eval(const struct vs_fetch *f, int mem_fd, const uint64_t *args, size_t nargs,
		  uint64_t *out)
{
	uint64_t v = 0;
	uint32_t v32;
	uint8_t v8;

	for (int i = 0; i < VS_PROBE_OPS; i++) {
		const struct vs_fetch_op *op = &f->ops[i];

		switch (op->op) {
		case VS_FOP_END:
			*out = v;
			return 0;
		case VS_FOP_ARG:
			if (op->imm < 1 || (size_t)op->imm > nargs)
				return -ENOTSUP;
			v = args[op->imm - 1];
			break;
		case VS_FOP_CONST:
			v = (uint64_t)op->imm;
			break;
		case VS_FOP_ADD:
			v += (uint64_t)op->imm;
			break;
		case VS_FOP_DEREF64:
			if (read_mem(mem_fd, v + (uint64_t)op->imm, &v, sizeof(v)))
				return -EFAULT;
			break;
		case VS_FOP_DEREF32:
			if (read_mem(mem_fd, v + (uint64_t)op->imm, &v32, sizeof(v32)))
				return -EFAULT;
			v = v32;
			break;
		case VS_FOP_DEREF8:
			if (read_mem(mem_fd, v + (uint64_t)op->imm, &v8, sizeof(v8)))
				return -EFAULT;
			v = v8;
			break;
		case VS_FOP_SEXT32:
			v = (uint64_t)(int64_t)(int32_t)v;
			break;
		default:
			return -ENOTSUP;
		}
	}
	*out = v;
	return 0;
}

int vs_read_string(int mem_fd, uint64_t addr, char *buf, size_t len)
{
	ssize_t n;

	if (!len)
		return -EINVAL;
	n = pread(mem_fd, buf, len - 1, (off_t)addr);
	if (n <= 0) {
		buf[0] = '\0';
		return -EFAULT;
	}
	buf[n] = '\0';
	buf[strnlen(buf, (size_t)n)] = '\0';
	return 0;
}

static void fetch_string(const struct vs_probe_spec *spec, int i, int mem_fd, uint64_t addr,
			 char *buf, size_t len)
{
	uint64_t p;

	buf[0] = '\0';
	if ((spec->strs_mask & (1u << i)) && !vs_fetch_eval(&spec->strs[i], mem_fd, &addr, 1, &p))
		vs_read_string(mem_fd, p, buf, len);
}

void vs_lock_names(const struct vs_probe_spec *spec, int mem_fd, uint64_t addr, char *kind,
		   size_t kindlen, char *object, size_t objlen)
{
	uint64_t aux = 0;

	kind[0] = object[0] = '\0';
	if (spec->check_mask && (!(spec->nums_mask & (1u << VS_PN_AUX)) ||
				 vs_fetch_eval(&spec->nums[VS_PN_AUX], mem_fd, &addr, 1, &aux) ||
				 (aux & spec->check_mask) != spec->check_value))
		return;
	fetch_string(spec, VS_PS_KIND, mem_fd, addr, kind, kindlen);
	fetch_string(spec, VS_PS_OBJECT, mem_fd, addr, object, objlen);
	if (spec->object_if_kind[0] &&
	    strncmp(kind, spec->object_if_kind, sizeof(spec->object_if_kind)))
		object[0] = '\0';
}
