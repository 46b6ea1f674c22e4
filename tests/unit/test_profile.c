/* The profile language: fetch expressions compile to the expected programs,
 * profiles parse (the built-in ones included) or fail with the line, and
 * fetches evaluated in user space read names the way the BPF side does. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include "../../collectors/fetch_eval.h"
#include "../../collectors/profile.h"
#include "../../collectors/thread_job.h"
#include "unit.h"

static void fetch_compiles(void)
{
	struct vs_fetch f;

	CHECK(vs_fetch_compile("$arg2", &f) == 0);
	CHECK(f.ops[0].op == VS_FOP_ARG && f.ops[0].imm == 2 && f.ops[1].op == VS_FOP_END);
	/* libvirt's class name: +24(+-16($arg1-0x18)) */
	CHECK(vs_fetch_compile("+24(+-16($arg1-0x18))", &f) == 0);
	CHECK(f.ops[0].op == VS_FOP_ARG && f.ops[0].imm == 1);
	CHECK(f.ops[1].op == VS_FOP_ADD && f.ops[1].imm == -0x18);
	CHECK(f.ops[2].op == VS_FOP_DEREF64 && f.ops[2].imm == -16);
	CHECK(f.ops[3].op == VS_FOP_DEREF64 && f.ops[3].imm == 24);
	CHECK(vs_fetch_compile("+16($arg1):u32", &f) == 0 && f.ops[1].op == VS_FOP_DEREF32);
	CHECK(vs_fetch_compile("%rdi+8", &f) == 0 && f.ops[0].op == VS_FOP_REG && f.ops[0].imm == VS_UREG_RDI);
	CHECK(vs_fetch_compile("$retval", &f) == 0 && f.ops[0].op == VS_FOP_RETVAL);
	CHECK(vs_fetch_compile("42", &f) == 0 && f.ops[0].op == VS_FOP_CONST && f.ops[0].imm == 42);
	/* an int's -1, as its register holds it, is -1 again */
	CHECK(vs_fetch_compile("$retval:s32", &f) == 0 && f.ops[0].op == VS_FOP_RETVAL &&
	      f.ops[1].op == VS_FOP_SEXT32 && f.ops[2].op == VS_FOP_END);
	{
		uint64_t arg = 0xffffffffu, v = 0;

		CHECK(vs_fetch_compile("$arg1:s32", &f) == 0);
		CHECK(vs_fetch_eval(&f, -1, &arg, 1, &v) == 0 && (int64_t)v == -1);
		arg = 0x1234567800000005ull;
		CHECK(vs_fetch_eval(&f, -1, &arg, 1, &v) == 0 && v == 5);
	}
	CHECK(vs_fetch_compile("$retval:s16", &f) == -EINVAL);
}

static void fetch_rejects(void)
{
	static const char *const bad[] = {
		"", "$arg0", "$arg17", "%xyz", "+8($arg1", "+8($arg1))", "$arg1+", "abc",
		"+1(+2(+3(+4(+5(+6($arg1))))))", /* more operations than fit */
	};
	struct vs_fetch f;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vs_fetch_compile(bad[i], &f) == 0) {
			printf("  accepted '%s'\n", bad[i]);
			CHECK(0);
		}
}

static void profile_parses(void)
{
	struct vs_profile p;
	char err[256] = "";
	const char *text =
		"# a test daemon\n"
		"profile testd\n"
		"describe \"a daemon for tests\"\n"
		"match comm testd\n"
		"role main main-loop\n"
		"role rpc-* worker\n"
		"probe lock.request at uprobe:$exe:obj_lock addr=$arg1 kind=+40($arg1)\n"
		"probe lock.acquired at uretprobe:$exe:obj_lock stack\n"
		"probe span.begin:dbus at usdt:@prov:prov:call name=$arg4 timeout=$arg5\n";

	CHECK(vs_profile_parse(&p, text, err, sizeof(err)) == 0);
	CHECK(!strcmp(p.name, "testd") && p.match == VS_MATCH_COMM && p.nr_probes == 3);
	CHECK(p.probes[0].spec.kind == VS_PK_LOCK_REQUEST && (p.probes[0].spec.flags & VS_PF_STASH));
	CHECK(p.probes[1].spec.flags & VS_PF_RETURN && p.probes[1].spec.entry_probe == 0);
	CHECK(p.probes[1].spec.flags & VS_PF_STACK);
	CHECK(p.probes[2].where == VS_WHERE_USDT && !strcmp(p.probes[2].provider, "prov"));
	CHECK(p.probes[2].spec.strs_mask == 1u << VS_PS_NAME);
	CHECK(!strcmp(vs_profile_role_of(&p, "rpc-77"), "worker"));
	CHECK(!strcmp(vs_profile_role_of(&p, "main"), "main-loop"));
	CHECK(vs_profile_role_of(&p, "mainx") == NULL);
	vs_profile_release(&p);
}

static void profile_errors_name_the_line(void)
{
	struct vs_profile p;
	char err[256] = "";

	CHECK(vs_profile_parse(&p, "profile x\n\nprobe bogus at uprobe:a:b\n", err, sizeof(err)) ==
	      -EINVAL);
	CHECK(!strncmp(err, "line 3: unknown probe kind 'bogus'", 34));
	vs_profile_release(&p);
	CHECK(vs_profile_parse(&p, "probe exec at uprobe:a:b\n", err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "no 'profile NAME' line") != NULL);
	vs_profile_release(&p);
	CHECK(vs_profile_parse(&p, "profile x\nprobe exec at nowhere name=$arg1\n", err, sizeof(err)) == -EINVAL);
	CHECK(!strncmp(err, "line 2: bad probe point", 23));
	vs_profile_release(&p);
}

static void builtin_profiles_parse(void)
{
	CHECK(vs_builtin_profile_count() >= 3);
	for (size_t i = 0; i < vs_builtin_profile_count(); i++) {
		struct vs_profile p;
		char err[256] = "";
		int rc = vs_profile_parse(&p, vs_builtin_profile_text(vs_builtin_profile_name(i)), err,
					  sizeof(err));

		if (rc)
			printf("  %s: %s\n", vs_builtin_profile_name(i), err);
		CHECK(rc == 0 && p.nr_probes > 0);
		vs_profile_release(&p);
	}
	CHECK(vs_builtin_profile_text("libvirtd") != NULL);
	CHECK(vs_builtin_profile_text("no-such") == NULL);
}

/* An object laid out like a libvirt one: class pointer at -16, mutex at
 * +0x18, a definition whose name is at +0x30. */
struct fake_class {
	void *parent;
	uint64_t gtype;
	uint32_t magic;
	uint32_t pad;
	const char *name;
};

struct fake_def {
	char pad[0x30];
	const char *name;
};

static void names_through_process_memory(void)
{
	static struct fake_class klass = { .magic = 0xcafe0001, .name = "virDomainObj" };
	static struct fake_def def = { .name = "vm42" };
	static struct {
		void *klass;       /* -16 from the object */
		uint64_t refs;
		char obj[0x90];    /* the object: mutex at +0x18, def at +0x88 */
	} o;
	const char *text = "profile t\n"
			   "probe lock.request at uprobe:$exe:f check=0xffff0000:0xcafe0000 "
			   "object-if-kind=virDomainObj addr=$arg1 aux=+16(+-16($arg1-0x18)):u32 "
			   "kind=+24(+-16($arg1-0x18)) object=+0x30(+0x88($arg1-0x18))\n";
	char kind[32], object[32], err[128];
	struct vs_profile p;
	int fd = open("/proc/self/mem", O_RDONLY);
	uint64_t mutex = (uint64_t)(uintptr_t)(o.obj + 0x18);

	o.klass = &klass;
	memcpy(o.obj + 0x88, &(void *){ &def }, sizeof(void *));
	CHECK(fd >= 0);
	CHECK(vs_profile_parse(&p, text, err, sizeof(err)) == 0);
	vs_lock_names(&p.probes[0].spec, fd, mutex, kind, sizeof(kind), object, sizeof(object));
	CHECK(!strcmp(kind, "virDomainObj") && !strcmp(object, "vm42"));
	klass.name = "qemuMonitor";
	vs_lock_names(&p.probes[0].spec, fd, mutex, kind, sizeof(kind), object, sizeof(object));
	CHECK(!strcmp(kind, "qemuMonitor") && object[0] == '\0');
	klass.magic = 0x12345678; /* not a libvirt object: no names at all */
	vs_lock_names(&p.probes[0].spec, fd, mutex, kind, sizeof(kind), object, sizeof(object));
	CHECK(kind[0] == '\0' && object[0] == '\0');
	vs_profile_release(&p);
	close(fd);
}

static void job_key_parses(void)
{
	struct vs_profile p;
	char err[256] = "";

	CHECK(vs_profile_parse(&p, "profile d\njob pthread-key libvirt.so.0+0x496e50\n", err,
			       sizeof(err)) == 0);
	CHECK_STREQ(p.job_key.binary, "libvirt.so.0");
	CHECK(p.job_key.offset == 0x496e50);
	vs_profile_release(&p);
	CHECK(vs_profile_parse(&p, "profile d\njob pthread-key libvirt.so.0\n", err, sizeof(err)) ==
	      -EINVAL);
	CHECK(strstr(err, "line 2: ") == err);
	vs_profile_release(&p);
	CHECK(vs_profile_parse(&p, "profile d\njob pthread-key x+0x12zz\n", err, sizeof(err)) ==
	      -EINVAL);
	vs_profile_release(&p);
}

/* The span options that say how user space reads a library's calls. */
static void span_options_parse(void)
{
	struct vs_profile p;
	char err[256] = "";

	CHECK(vs_profile_parse(&p,
			       "profile d\n"
			       "probe span.begin:dbus at uprobe:libsystemd.so:sd_bus_call unnested "
			       "timeout-unit=us timeout-default=25000 timeout=$arg3\n"
			       "probe span.end:dbus at uretprobe:libsystemd.so:sd_bus_call "
			       "error-if-null result=$retval\n",
			       err, sizeof(err)) == 0);
	CHECK(p.nr_probes == 2);
	CHECK(p.probes[0].unnested && p.probes[0].timeout_us && !p.probes[0].error_if_null);
	CHECK(p.probes[0].timeout_default_ms == 25000);
	CHECK(p.probes[1].error_if_null && !p.probes[1].unnested);
	vs_profile_release(&p);
	CHECK(vs_profile_parse(&p, "profile d\nprobe span.begin:dbus at uprobe:a:b timeout-default=x\n",
			       err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "timeout-default=MILLISECONDS"));
	vs_profile_release(&p);
}

/* The layout decoded from this process's own glibc finds the value a thread
 * set, where BPF will look for it: thread pointer + offset + 16 * key. */
static void job_layout_matches_glibc(void)
{
	static const unsigned char other[] = { 0x90, 0x90, 0xc3 };
	const unsigned char *code = (const unsigned char *)(uintptr_t)&pthread_getspecific;
	unsigned int off = vs_thread_job_decode_getspecific(code, 64);
	static const char job[] = "remoteDispatchTest";
	pthread_key_t key;
	void *slot;

	CHECK(vs_thread_job_decode_getspecific(other, sizeof(other)) == 0);
	CHECK(off != 0);
	CHECK(pthread_key_create(&key, NULL) == 0);
	CHECK(key < VS_JOB_INLINE_KEYS);
	CHECK(pthread_setspecific(key, job) == 0);
	/* On x86-64 glibc, pthread_self() is the thread pointer. */
	memcpy(&slot, (const char *)pthread_self() + off + 16 * key, sizeof(slot));
	CHECK(slot == job);
	pthread_key_delete(key);
}

UNIT_SUITE(profile, UNIT_TEST(job_key_parses), UNIT_TEST(job_layout_matches_glibc), UNIT_TEST(fetch_compiles), UNIT_TEST(fetch_rejects), UNIT_TEST(profile_parses),
	   UNIT_TEST(profile_errors_name_the_line), UNIT_TEST(builtin_profiles_parse),
	   UNIT_TEST(names_through_process_memory), UNIT_TEST(span_options_parse));
