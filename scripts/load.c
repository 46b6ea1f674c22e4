/*
 * virtscope-load: a load generator for libvirtd, used to reproduce the
 * field failures virtscope is meant to explain and to give virtscope's
 * tests a ground truth ("what did the client really see?").
 *
 *   virtscope-load SCENARIO [options]        (see usage() below)
 *
 * Scenarios: start-destroy, define-undefine, connect, rpc.
 *
 * Design
 * ------
 * - One virConnect per worker thread (connect: one per operation).  A
 *   shared connection would serialise the client side and hide exactly the
 *   daemon-side contention we want to provoke.  No virsh processes.
 * - Life of a run: the main thread parses options, opens its own
 *   connection(s) for setup (define vm1..vmN, pick an rpc target domain),
 *   then starts the workers.  Workers connect, wait at a start gate, and
 *   only then does the clock start, so connection set-up is not billed to
 *   the measured window.  After the workers are joined the main thread
 *   prints the summary and cleans up what this run defined.
 * - Bounds: every loop checks a stop flag and a CLOCK_MONOTONIC deadline
 *   before each operation, and -n is enforced with an atomic counter from
 *   which workers claim whole cycles (start+destroy = 2, open+call+close =
 *   3) so a domain is never left running just because the budget ran out.
 * - Signals: SIGINT/SIGTERM are blocked in the workers, so only the main
 *   thread (sitting in pthread_join) takes them and no libvirt call in a
 *   worker is interrupted.  The handler only sets the stop flag; workers
 *   finish their current operation and the normal cleanup runs.  A second
 *   signal kills the process (the handler re-arms SIG_DFL).
 * - Errors: a silent libvirt error handler replaces the default one that
 *   prints every error; errors are counted per operation type and the
 *   first message of each type is kept for the summary.  Races that are
 *   the point of a scenario (define-undefine --same: "already exists",
 *   "not found") are counted as "expected", not as errors.
 * - Statistics are per thread (no locking on the hot path) and merged at
 *   the end.  Latencies go into a log-linear histogram (HDR style: 128
 *   linear sub-buckets per power of two), fixed size, so memory does not
 *   grow with run length and p50/p99 are within 0.4% of the exact value.
 * - --latencies: each worker buffers complete lines and append-writes them
 *   with O_APPEND (when 64 KiB are full, at least once a second, and at
 *   exit), so lines from different threads or processes never tear and the
 *   hot path takes no lock.  The op field is the summary's op name: start,
 *   destroy, define, undefine, define-same, lookup-same, undefine-same,
 *   open, get-lib-version, close, and for rpc lookup@DRIVER, get-info@,
 *   list-all@, get-version@ (DRIVER: qemu, test); domain "-" if none.
 * - Daemon restarts: after a failed call a worker checks whether its
 *   connection died and, if so, reconnects with a 200 ms backoff instead
 *   of recording a million instant failures; cleanup uses a fresh
 *   connection.  SIGPIPE is ignored so a dead socket is an error, not a
 *   kill.
 * - Only one RPC is timed per operation, so each latency line can be
 *   matched to one RPC seen by virtscope (connect's open is several).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define EXIT_FAIL 1
#define EXIT_USAGE 2

#define MAX_THREADS 1024
#define MAX_DISKS 16384 /* virtio-scsi LUNs per target */
#define MAX_OPS 16
#define MAX_GROUPS 2
#define LAT_BUF_SIZE 65536
#define EMULATOR "/usr/bin/qemu-system-x86_64"
#define DISK_DIR "/var/tmp/virtscope-load"
#define SAME_NAME "dudom-same"
#define RECONNECT_BACKOFF_MS 200
#define OPEN_FAIL_BACKOFF_MS 10

/* ------------------------------------------------------------------ */
/* Options                                                             */

struct options {
    const char *scenario;
    const char *uri;      /* -c: the (qemu) URI */
    const char *test_uri; /* --test-uri: rpc's second URI */
    bool uri_given;       /* an explicit URI disables the env defaults */
    double duration;
    uint64_t count; /* 0: no bound */
    int threads;    /* 0: scenario default */
    int domains;
    int disks;
    int same_threads;
    bool same;
    int pause_ms;
    const char *dtype;
    bool json;
    const char *latencies;
};

static struct options g_opt = {
    .duration = 10.0,
    .domains = 2,
    .disks = 16,
    .same_threads = 2,
};

/* ------------------------------------------------------------------ */
/* Run-wide state shared with workers and the signal handler           */

static atomic_int g_stop;              /* set by signal or fatal error */
static _Atomic uint64_t g_claimed;     /* operations claimed under -n */
static uint64_t g_deadline;            /* written before the gate opens */
static atomic_int g_conn_failures;     /* workers that could not connect */
static atomic_int g_reconnects;        /* workers that lost their connection */
static atomic_int g_lat_failed;        /* a latency write failed */
static int g_lat_fd = -1;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

static const char *last_error(void)
{
    const char *msg = virGetLastErrorMessage();

    return msg ? msg : "unknown error";
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool stop_requested(void)
{
    return atomic_load(&g_stop) || now_ns() >= g_deadline;
}

static void sleep_ms(int msec)
{
    struct timespec ts = {
        .tv_sec = msec / 1000,
        .tv_nsec = (long)(msec % 1000) * 1000000L,
    };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/*
 * Claim K operations of the -n budget.  Whole cycles are claimed at once
 * so that e.g. a start is always followed by its destroy; with -n a
 * multiple of the cycle size the run does exactly -n operations.
 */
static bool claim(unsigned k)
{
    if (stop_requested())
        return false;
    if (!g_opt.count)
        return true;
    return atomic_fetch_add(&g_claimed, k) + k <= g_opt.count;
}

/* Growable string, used for domain XML.  Sticky OOM flag, checked once. */
struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
};

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void sbuf_reset(struct sbuf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->s)
        b->s[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Latency histogram                                                   */

/*
 * Log-linear buckets: values below 256 ns are exact; above, each power
 * of two is split into 128 equal buckets, so a bucket is at most 1/128
 * of its value wide and its midpoint is within 0.4% of any value in it.
 * Values are clamped at 2^42 ns (73 minutes).  4608 buckets = 36 KiB.
 */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_BITS 42
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

static unsigned hist_index(uint64_t v)
{
    if (v >= (UINT64_C(1) << HIST_MAX_BITS))
        v = (UINT64_C(1) << HIST_MAX_BITS) - 1;
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    return shift * HIST_SUB + (unsigned)(v >> shift);
}

static uint64_t hist_mid(unsigned idx)
{
    if (idx < 2 * HIST_SUB)
        return idx;
    unsigned shift = idx / HIST_SUB - 1;
    uint64_t low = (uint64_t)(idx - shift * HIST_SUB) << shift;
    return low + ((UINT64_C(1) << shift) >> 1);
}

struct opstat {
    uint64_t n, err, expected, sum_ns, max_ns;
    uint64_t *hist;
    char *first_err;      /* first unexpected error message */
    char *first_expected; /* first expected error message */
};

static uint64_t stat_percentile(const struct opstat *s, unsigned pct)
{
    /* nearest rank: the smallest value with at least pct% at or below */
    uint64_t rank = (s->n * pct + 99) / 100, seen = 0;

    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += s->hist[i];
        if (seen >= rank) {
            uint64_t v = hist_mid(i);
            return v < s->max_ns ? v : s->max_ns;
        }
    }
    return s->max_ns;
}

static void stat_merge(struct opstat *dst, struct opstat *src)
{
    dst->n += src->n;
    dst->err += src->err;
    dst->expected += src->expected;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->hist[i] += src->hist[i];
    /* steal the messages: the source is freed right after */
    if (!dst->first_err) {
        dst->first_err = src->first_err;
        src->first_err = NULL;
    }
    if (!dst->first_expected) {
        dst->first_expected = src->first_expected;
        src->first_expected = NULL;
    }
}

static struct opstat *stats_new(int nops)
{
    struct opstat *st = calloc((size_t)nops, sizeof(*st));

    if (!st)
        return NULL;
    for (int i = 0; i < nops; i++) {
        /* calloc'd pages stay untouched until used: cheap for idle ops */
        st[i].hist = calloc(HIST_BUCKETS, sizeof(uint64_t));
        if (!st[i].hist)
            goto error;
    }
    return st;

error:
    for (int i = 0; i < nops; i++)
        free(st[i].hist);
    free(st);
    return NULL;
}

static void stats_free(struct opstat *st, int nops)
{
    if (!st)
        return;
    for (int i = 0; i < nops; i++) {
        free(st[i].hist);
        free(st[i].first_err);
        free(st[i].first_expected);
    }
    free(st);
}

/* ------------------------------------------------------------------ */
/* Run and worker structures                                           */

enum outcome { OC_OK, OC_ERR, OC_EXPECTED };

struct run;

struct worker {
    pthread_t tid;
    struct run *run;
    int idx;            /* 1-based, used in domain names */
    const char *uri;    /* this worker's URI */
    virConnectPtr conn; /* NULL for connect, which opens its own */
    int group;          /* rpc: which URI group */
    bool same;          /* define-undefine: same-name group */
    char domname[64];   /* start-destroy: vmN; rpc: lookup target */
    unsigned last_k;    /* define-undefine: highest dudom-T-K used */
    struct opstat *stats;
    char *latbuf;       /* --latencies: complete lines not yet written */
    size_t latlen;
    uint64_t lat_last;  /* when latbuf was last written out */
};

struct scenario {
    const char *name;
    bool conn_per_worker; /* else the loop opens its own connections */
    int (*setup)(struct run *);                       /* main thread */
    void (*worker_init)(struct run *, struct worker *); /* may be NULL */
    void (*loop)(struct worker *);                    /* each worker */
    void (*cleanup)(struct run *);                    /* main thread */
};

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready;
    bool go;
};

struct group {
    const char *uri;
    char label[32];     /* lower-cased driver name: qemu, test */
    char target[64];    /* rpc: domain used for lookups */
    bool target_owned;  /* rpc: we defined target, undefine at end */
    virConnectPtr conn; /* main thread's connection */
};

struct run {
    const struct scenario *scn;
    const char *dtype;
    int threads;
    struct group groups[MAX_GROUPS];
    int ngroups;
    char *opnames[MAX_OPS];
    int nops;
    int op[MAX_GROUPS][5]; /* scenario's op ids, per group */
    struct worker *workers;
    int nworkers;
    bool *owned; /* start-destroy: vmN defined by this run */
    struct gate gate;
    uint64_t t_start, t_end;
    struct opstat *total;
};

static int add_op(struct run *r, const char *name, const char *label)
{
    char buf[64];

    if (r->nops >= MAX_OPS)
        return -1;
    if (label)
        snprintf(buf, sizeof(buf), "%s@%s", name, label);
    else
        snprintf(buf, sizeof(buf), "%s", name);
    r->opnames[r->nops] = strdup(buf);
    if (!r->opnames[r->nops])
        return -1;
    return r->nops++;
}

/* ------------------------------------------------------------------ */
/* Recording operations                                                */

static void lat_flush(struct worker *w, uint64_t now)
{
    size_t off = 0;

    w->lat_last = now;
    while (off < w->latlen) {
        ssize_t n = write(g_lat_fd, w->latbuf + off, w->latlen - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!atomic_exchange(&g_lat_failed, 1))
                warnx("writing %s: %s", g_opt.latencies, n < 0 ? strerror(errno) : "short write");
            break;
        }
        off += (size_t)n;
    }
    w->latlen = 0;
}

static void lat_append(struct worker *w, uint64_t t0, uint64_t t1, const char *op,
                       const char *dom, bool ok)
{
    int n;

    /* keep room for a whole line so that every write() ends on '\n' */
    if (LAT_BUF_SIZE - w->latlen < 256)
        lat_flush(w, t1);
    n = snprintf(w->latbuf + w->latlen, LAT_BUF_SIZE - w->latlen,
                     "%" PRIu64 " %" PRIu64 " %s %s %s\n", t0, t1, op,
                     dom ? dom : "-", ok ? "ok" : "err");
    if (n > 0 && (size_t)n < LAT_BUF_SIZE - w->latlen)
        w->latlen += (size_t)n;
    /* slow scenarios: let a reader see lines within a second */
    if (t1 - w->lat_last >= 1000000000u)
        lat_flush(w, t1);
}

/* Must run right after the libvirt call: the error is thread-local. */
static void record(struct worker *w, int op, const char *dom, uint64_t t0, enum outcome oc)
{
    uint64_t t1 = now_ns();
    struct opstat *s = &w->stats[op];
    uint64_t d = t1 - t0;

    s->n++;
    s->sum_ns += d;
    if (d > s->max_ns)
        s->max_ns = d;
    s->hist[hist_index(d)]++;
    if (oc == OC_ERR) {
        s->err++;
        if (!s->first_err)
            s->first_err = strdup(last_error()); /* NULL on OOM: fine */
    } else if (oc == OC_EXPECTED) {
        s->expected++;
        if (!s->first_expected)
            s->first_expected = strdup(last_error());
    }
    if (w->latbuf)
        lat_append(w, t0, t1, w->run->opnames[op], dom, oc == OC_OK);
}

static enum outcome rc_outcome(int rc)
{
    return rc < 0 ? OC_ERR : OC_OK;
}

static enum outcome ptr_outcome(const void *p)
{
    return p ? OC_OK : OC_ERR;
}

/* ------------------------------------------------------------------ */
/* Domain XML                                                          */

/* sda..sdz, sdaa..: same scheme as libvirt's disk names */
static void disk_suffix(int idx, char *buf, size_t size)
{
    char tmp[16];
    int n = 0;

    for (int i = idx; i >= 0 && n < (int)sizeof(tmp); i = i / 26 - 1)
        tmp[n++] = (char)('a' + i % 26);
    size_t j = 0;
    while (n > 0 && j + 1 < size)
        buf[j++] = tmp[--n];
    buf[j] = '\0';
}

/*
 * Minimal guest: 64 MiB, 1 vcpu, no NIC/graphics/USB/balloon, a pty
 * console.  With DISKS > 0: a virtio-scsi controller and DISKS file disks
 * with explicit addresses (otherwise libvirt puts 7 units per controller
 * and auto-adds more controllers of the default model).  The disk sources
 * need not exist: libvirt only opens them when the domain starts.
 */
static int domain_xml(struct sbuf *b, const char *name, const char *dtype, int disks)
{
    sbuf_reset(b);
    sbuf_printf(b,
                "<domain type='%s'>\n"
                "  <name>%s</name>\n"
                "  <memory unit='MiB'>64</memory>\n"
                "  <vcpu>1</vcpu>\n"
                "  <os><type arch='x86_64'>hvm</type></os>\n"
                "  <devices>\n"
                "    <emulator>" EMULATOR "</emulator>\n",
                dtype, name);
    if (disks > 0)
        sbuf_printf(b, "    <controller type='scsi' index='0' model='virtio-scsi'/>\n");
    for (int i = 0; i < disks; i++) {
        char sfx[16];
        disk_suffix(i, sfx, sizeof(sfx));
        sbuf_printf(b,
                    "    <disk type='file' device='disk'>\n"
                    "      <driver name='qemu' type='raw'/>\n"
                    "      <source file='" DISK_DIR "/%s-sd%s.img'/>\n"
                    "      <target dev='sd%s' bus='scsi'/>\n"
                    "      <address type='drive' controller='0' bus='0' target='0' unit='%d'/>\n"
                    "    </disk>\n",
                    name, sfx, sfx, i);
    }
    sbuf_printf(b,
                "    <console type='pty'/>\n"
                "    <controller type='usb' model='none'/>\n"
                "    <memballoon model='none'/>\n"
                "  </devices>\n"
                "</domain>\n");
    return b->oom ? -1 : 0;
}

/* Define NAME from the minimal XML (main thread, not measured). */
static int define_plain(virConnectPtr conn, const char *name, const char *dtype)
{
    struct sbuf b = {0};
    virDomainPtr dom = NULL;
    int ret = -1;

    if (domain_xml(&b, name, dtype, 0) < 0) {
        warnx("out of memory");
        goto cleanup;
    }
    dom = virDomainDefineXML(conn, b.s);
    if (!dom) {
        warnx("cannot define %s: %s", name, last_error());
        goto cleanup;
    }
    ret = 0;

cleanup:
    if (dom)
        virDomainFree(dom);
    free(b.s);
    return ret;
}

/* Destroy if running, then undefine (main thread cleanup). */
static void remove_domain(virConnectPtr conn, const char *name)
{
    virDomainPtr dom = virDomainLookupByName(conn, name);

    if (!dom) {
        if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
            warnx("cleanup: cannot look up %s: %s", name, last_error());
        return;
    }
    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0)
        warnx("cleanup: cannot destroy %s: %s", name, last_error());
    if (virDomainUndefine(dom) < 0)
        warnx("cleanup: cannot undefine %s: %s", name, last_error());
    virDomainFree(dom);
}

static virConnectPtr open_main_conn(const char *uri)
{
    virConnectPtr conn = virConnectOpen(uri);

    if (!conn)
        warnx("cannot connect to %s: %s", uri, last_error());
    return conn;
}

/*
 * Call after a failed operation.  If the daemon went away (restart,
 * crash, lab stopped) the connection is dead and every further call would
 * fail within microseconds, flooding the statistics; reconnect with a
 * backoff instead.  virConnectIsAlive is a local check, no RPC.
 * Returns 1 if W->conn was replaced, 0 if unchanged, -1 if stopping.
 */
static int revive(struct worker *w)
{
    if (virConnectIsAlive(w->conn) != 0)
        return 0;
    if (atomic_fetch_add(&g_reconnects, 1) == 0)
        warnx("thread %d: connection to %s lost, reconnecting", w->idx, w->uri);
    virConnectClose(w->conn);
    w->conn = NULL;
    while (!stop_requested()) {
        sleep_ms(RECONNECT_BACKOFF_MS);
        w->conn = virConnectOpen(w->uri);
        if (w->conn)
            return 1;
    }
    return -1;
}

/*
 * A fresh main-thread connection for cleanup.  The setup connection sat
 * idle during the run; if the daemon restarted meanwhile, nothing has
 * noticed yet (no event loop, no keepalive), so it cannot be trusted.
 */
static virConnectPtr group_conn(struct group *grp)
{
    if (!grp->conn) /* setup never connected: nothing to clean up */
        return NULL;
    virConnectClose(grp->conn);
    grp->conn = virConnectOpen(grp->uri);
    if (!grp->conn)
        warnx("cleanup: cannot connect to %s: %s", grp->uri, last_error());
    return grp->conn;
}

/* ------------------------------------------------------------------ */
/* Scenario: start-destroy                                             */

enum { SD_START, SD_DESTROY };

static int sd_setup(struct run *r)
{
    virConnectPtr conn = r->groups[0].conn;

    r->threads = g_opt.domains; /* one thread per domain, by definition */
    if (add_op(r, "start", NULL) < 0 || add_op(r, "destroy", NULL) < 0)
        return -1;
    r->op[0][SD_START] = 0;
    r->op[0][SD_DESTROY] = 1;
    r->owned = calloc((size_t)r->threads, sizeof(bool));
    if (!r->owned)
        return -1;

    for (int i = 0; i < r->threads; i++) {
        char name[32];
        snprintf(name, sizeof(name), "vm%d", i + 1);
        virDomainPtr dom = virDomainLookupByName(conn, name);
        if (dom) {
            if (virDomainIsActive(dom) == 1)
                warnx("%s exists and is running: the load will destroy it first", name);
            virDomainFree(dom);
            continue; /* pre-existing: use it, leave it defined */
        }
        if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN) {
            warnx("cannot look up %s: %s", name, last_error());
            return -1;
        }
        if (define_plain(conn, name, r->dtype) < 0)
            return -1;
        r->owned[i] = true;
    }
    return 0;
}

static void sd_worker_init(struct run *r, struct worker *w)
{
    (void)r;
    snprintf(w->domname, sizeof(w->domname), "vm%d", w->idx);
}

/* Returns true if the domain is (still) running afterwards. */
static bool sd_destroy(struct worker *w, virDomainPtr dom)
{
    uint64_t t0 = now_ns();
    /* DestroyFlags, as virsh destroy and management stacks send it. */
    int rc = virDomainDestroyFlags(dom, 0);

    record(w, w->run->op[0][SD_DESTROY], w->domname, t0, rc_outcome(rc));
    return rc < 0;
}

/* Look up this worker's domain; *RUNNING tells whether it must be
 * destroyed first (pre-existing running domain, or a failed destroy). */
static virDomainPtr sd_lookup(struct worker *w, bool *running)
{
    virDomainPtr dom = virDomainLookupByName(w->conn, w->domname);

    if (!dom) {
        warnx("thread %d: cannot look up %s: %s", w->idx, w->domname, last_error());
        return NULL;
    }
    *running = virDomainIsActive(dom) == 1;
    return dom;
}

/* One start+destroy cycle; returns false if an operation failed. */
static bool sd_cycle(struct worker *w, virDomainPtr dom, bool *running)
{
    uint64_t t0 = now_ns();
    int rc = virDomainCreate(dom);

    record(w, w->run->op[0][SD_START], w->domname, t0, rc_outcome(rc));
    if (rc < 0) {
        /* "already running" (someone else started it): destroy next
         * instead of failing the same start in a tight loop */
        *running = virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID;
        return false;
    }
    if (g_opt.pause_ms)
        sleep_ms(g_opt.pause_ms);
    *running = sd_destroy(w, dom);
    return !*running;
}

static void sd_loop(struct worker *w)
{
    virDomainPtr dom = NULL;
    bool running = false, ok;

    for (;;) {
        if (!dom && !(dom = sd_lookup(w, &running)))
            break;
        if (running) {
            if (!claim(1))
                break;
            running = sd_destroy(w, dom);
            ok = !running;
        } else {
            if (!claim(2))
                break;
            ok = sd_cycle(w, dom, &running);
        }
        if (ok)
            continue;
        int rv = revive(w);
        if (rv < 0)
            break;
        if (rv > 0) { /* the handle belongs to the dead connection */
            virDomainFree(dom);
            dom = NULL;
        }
    }
    /* never leave a domain running because we were told to stop */
    if (running && dom && w->conn)
        sd_destroy(w, dom);
    if (dom)
        virDomainFree(dom);
}

static void sd_cleanup(struct run *r)
{
    virConnectPtr conn;
    bool any = false;

    for (int i = 0; r->owned && i < r->threads; i++)
        any = any || r->owned[i];
    if (!any || !(conn = group_conn(&r->groups[0])))
        return;
    for (int i = 0; i < r->threads; i++) {
        char name[32];
        if (!r->owned[i])
            continue;
        snprintf(name, sizeof(name), "vm%d", i + 1);
        remove_domain(conn, name);
    }
}

/* ------------------------------------------------------------------ */
/* Scenario: define-undefine                                           */

enum { DU_DEFINE, DU_UNDEFINE, DU_DEFINE_SAME, DU_LOOKUP_SAME, DU_UNDEFINE_SAME };

static int du_unique_threads(void)
{
    return g_opt.same ? 0 : (g_opt.threads ? g_opt.threads : 4);
}

static int du_same_threads(void)
{
    return g_opt.same ? (g_opt.threads ? g_opt.threads : 4) : g_opt.same_threads;
}

static int du_setup(struct run *r)
{
    int uniq = du_unique_threads(), same = du_same_threads();

    r->threads = uniq + same;
    if (uniq > 0) {
        if ((r->op[0][DU_DEFINE] = add_op(r, "define", NULL)) < 0 ||
            (r->op[0][DU_UNDEFINE] = add_op(r, "undefine", NULL)) < 0)
            return -1;
    }
    if (same > 0) {
        if ((r->op[0][DU_DEFINE_SAME] = add_op(r, "define-same", NULL)) < 0 ||
            (r->op[0][DU_LOOKUP_SAME] = add_op(r, "lookup-same", NULL)) < 0 ||
            (r->op[0][DU_UNDEFINE_SAME] = add_op(r, "undefine-same", NULL)) < 0)
            return -1;
    }
    return 0;
}

static void du_worker_init(struct run *r, struct worker *w)
{
    w->same = w->idx > du_unique_threads();
    (void)r;
}

/* Define and undefine one dudom-T-K; returns false if either failed. */
static bool du_unique_cycle(struct worker *w, const char *name, const char *xml)
{
    const int *op = w->run->op[0];
    uint64_t t0 = now_ns();
    virDomainPtr dom = virDomainDefineXML(w->conn, xml);

    record(w, op[DU_DEFINE], name, t0, ptr_outcome(dom));
    if (!dom)
        return false;
    /* undefine even when stopping: it was claimed with the define; a
     * failure here is swept up by du_cleanup */
    t0 = now_ns();
    int rc = virDomainUndefine(dom);
    record(w, op[DU_UNDEFINE], name, t0, rc_outcome(rc));
    virDomainFree(dom);
    return rc == 0;
}

static void du_unique_loop(struct worker *w)
{
    struct sbuf xml = {0};
    char name[64];

    while (claim(2)) {
        snprintf(name, sizeof(name), "dudom-%d-%u", w->idx, ++w->last_k);
        if (domain_xml(&xml, name, w->run->dtype, g_opt.disks) < 0) {
            warnx("thread %d: out of memory", w->idx);
            break;
        }
        if (!du_unique_cycle(w, name, xml.s) && revive(w) < 0)
            break;
    }
    free(xml.s);
}

/* Losing a race against another same-name thread is the expected case. */
static enum outcome same_outcome(bool ok)
{
    if (ok)
        return OC_OK;
    switch (virGetLastErrorCode()) {
    case VIR_ERR_NO_DOMAIN: /* someone undefined it first */
    case VIR_ERR_DOM_EXIST:
        return OC_EXPECTED;
    case VIR_ERR_OPERATION_FAILED: /* "domain 'x' already exists with uuid" */
        return strstr(last_error(), "already exists") ? OC_EXPECTED : OC_ERR;
    default:
        return OC_ERR;
    }
}

/* Define, look up, undefine the shared name, each claimed on its own
 * (losing a race skips the rest).  Returns false on an unexpected error. */
static bool du_same_cycle(struct worker *w, const char *xml)
{
    const int *op = w->run->op[0];
    uint64_t t0 = now_ns();
    virDomainPtr dom = virDomainDefineXML(w->conn, xml);
    enum outcome oc = same_outcome(dom != NULL);

    record(w, op[DU_DEFINE_SAME], SAME_NAME, t0, oc);
    if (dom)
        virDomainFree(dom);
    if (oc == OC_ERR || !claim(1))
        return oc != OC_ERR;

    t0 = now_ns();
    dom = virDomainLookupByName(w->conn, SAME_NAME);
    oc = same_outcome(dom != NULL);
    record(w, op[DU_LOOKUP_SAME], SAME_NAME, t0, oc);
    if (!dom)
        return oc != OC_ERR;

    if (claim(1)) {
        t0 = now_ns();
        int rc = virDomainUndefine(dom);
        oc = same_outcome(rc == 0);
        record(w, op[DU_UNDEFINE_SAME], SAME_NAME, t0, oc);
    }
    virDomainFree(dom);
    return oc != OC_ERR;
}

static void du_same_loop(struct worker *w)
{
    struct sbuf xml = {0};

    /* no <uuid>: each define carries a fresh one, so concurrent defines
     * of the name conflict instead of silently redefining */
    if (domain_xml(&xml, SAME_NAME, w->run->dtype, g_opt.disks) < 0) {
        warnx("thread %d: out of memory", w->idx);
        goto cleanup;
    }
    while (claim(1))
        if (!du_same_cycle(w, xml.s) && revive(w) < 0)
            break;

cleanup:
    free(xml.s);
}

static void du_loop(struct worker *w)
{
    if (w->same)
        du_same_loop(w);
    else
        du_unique_loop(w);
}

/* Is NAME one this run may have defined (dudom-T-K, or the same name)? */
static bool du_ours(const struct run *r, const char *name)
{
    int t;
    unsigned k;
    char tail;

    if (du_same_threads() > 0 && strcmp(name, SAME_NAME) == 0)
        return true;
    if (sscanf(name, "dudom-%d-%u%c", &t, &k, &tail) != 2)
        return false;
    return t >= 1 && t <= r->nworkers && k >= 1 && k <= r->workers[t - 1].last_k;
}

/* Sweep what the loops left behind: failed undefines, the same-name
 * domain if the last same-name operation was a define. */
static void du_cleanup(struct run *r)
{
    virConnectPtr conn;
    virDomainPtr *doms = NULL;
    int n;

    if (!r->workers || !(conn = group_conn(&r->groups[0])))
        return;
    n = virConnectListAllDomains(conn, &doms, VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
    if (n < 0) {
        warnx("cleanup: cannot list domains: %s", last_error());
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = virDomainGetName(doms[i]);
        if (name && du_ours(r, name) && virDomainUndefine(doms[i]) < 0)
            warnx("cleanup: cannot undefine %s: %s", name, last_error());
        virDomainFree(doms[i]);
    }
    free(doms);
}

/* ------------------------------------------------------------------ */
/* Scenario: connect                                                   */

enum { CN_OPEN, CN_CALL, CN_CLOSE };

static int cn_setup(struct run *r)
{
    r->threads = g_opt.threads ? g_opt.threads : 16;
    if ((r->op[0][CN_OPEN] = add_op(r, "open", NULL)) < 0 ||
        (r->op[0][CN_CALL] = add_op(r, "get-lib-version", NULL)) < 0 ||
        (r->op[0][CN_CLOSE] = add_op(r, "close", NULL)) < 0)
        return -1;
    return 0;
}

static void cn_loop(struct worker *w)
{
    const int *op = w->run->op[0];

    while (claim(3)) {
        uint64_t t0 = now_ns();
        virConnectPtr conn = virConnectOpen(w->uri);
        record(w, op[CN_OPEN], NULL, t0, ptr_outcome(conn));
        if (!conn) {
            /* daemon down or refusing: don't spin on instant failures */
            sleep_ms(OPEN_FAIL_BACKOFF_MS);
            continue;
        }

        unsigned long ver = 0;
        t0 = now_ns();
        int rc = virConnectGetLibVersion(conn, &ver);
        record(w, op[CN_CALL], NULL, t0, rc_outcome(rc));

        t0 = now_ns();
        rc = virConnectClose(conn);
        record(w, op[CN_CLOSE], NULL, t0, rc_outcome(rc));
    }
}

/* ------------------------------------------------------------------ */
/* Scenario: rpc                                                       */

enum { RPC_LOOKUP, RPC_INFO, RPC_LIST, RPC_VERSION };

/*
 * Define our own lookup target rather than borrowing an existing domain:
 * on a shared lab another run may undefine whatever we would pick
 * (vm1 of start-destroy, dudom-*), turning lookups into errors.
 */
static int rpc_target(struct run *r, struct group *grp)
{
    snprintf(grp->target, sizeof(grp->target), "vsload-rpc-%ld", (long)getpid());
    if (define_plain(grp->conn, grp->target, r->dtype) < 0)
        return -1;
    grp->target_owned = true;
    return 0;
}

static int rpc_setup(struct run *r)
{
    static const char *const names[] = {"lookup", "get-info", "list-all", "get-version"};
    int total = g_opt.threads ? g_opt.threads : 8;

    r->threads = total;
    for (int g = 0; g < r->ngroups; g++) {
        if (rpc_target(r, &r->groups[g]) < 0)
            return -1;
        for (int k = 0; k < 4; k++)
            if ((r->op[g][k] = add_op(r, names[k], r->groups[g].label)) < 0)
                return -1;
    }
    return 0;
}

/* Threads alternate between groups, so "half on each" for any -j. */
static void rpc_worker_init(struct run *r, struct worker *w)
{
    w->group = (w->idx - 1) % r->ngroups;
    w->uri = r->groups[w->group].uri;
    snprintf(w->domname, sizeof(w->domname), "%s", r->groups[w->group].target);
}

/* Lookup, then GetInfo on the handle; returns false if either failed. */
static bool rpc_domain_ops(struct worker *w, const int *op)
{
    uint64_t t0 = now_ns();
    virDomainPtr dom = virDomainLookupByName(w->conn, w->domname);
    int rc = 0;

    record(w, op[RPC_LOOKUP], w->domname, t0, ptr_outcome(dom));
    if (!dom)
        return false;
    if (claim(1)) {
        virDomainInfo info;
        t0 = now_ns();
        rc = virDomainGetInfo(dom, &info);
        record(w, op[RPC_INFO], w->domname, t0, rc_outcome(rc));
    }
    virDomainFree(dom); /* local unref, no RPC */
    return rc == 0;
}

static bool rpc_list(struct worker *w, const int *op)
{
    virDomainPtr *doms = NULL;
    uint64_t t0 = now_ns();
    int n = virConnectListAllDomains(w->conn, &doms, 0);

    record(w, op[RPC_LIST], NULL, t0, n < 0 ? OC_ERR : OC_OK);
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    return n >= 0;
}

static bool rpc_version(struct worker *w, const int *op)
{
    unsigned long ver = 0;
    uint64_t t0 = now_ns();
    int rc = virConnectGetVersion(w->conn, &ver);

    record(w, op[RPC_VERSION], NULL, t0, rc_outcome(rc));
    return rc == 0;
}

/* Each call is claimed on its own: the -n budget is met exactly. */
static void rpc_loop(struct worker *w)
{
    const int *op = w->run->op[w->group];
    bool ok;

    for (;;) {
        if (!claim(1))
            break;
        ok = rpc_domain_ops(w, op);
        if (!claim(1))
            break;
        ok = rpc_list(w, op) && ok;
        if (!claim(1))
            break;
        ok = rpc_version(w, op) && ok;
        if (!ok && revive(w) < 0)
            break;
    }
}

static void rpc_cleanup(struct run *r)
{
    for (int g = 0; g < r->ngroups; g++) {
        virConnectPtr conn;
        if (r->groups[g].target_owned && (conn = group_conn(&r->groups[g])))
            remove_domain(conn, r->groups[g].target);
    }
}

/* ------------------------------------------------------------------ */
/* Scenario table                                                      */

static const struct scenario scenarios[] = {
    {"start-destroy", true, sd_setup, sd_worker_init, sd_loop, sd_cleanup},
    {"define-undefine", true, du_setup, du_worker_init, du_loop, du_cleanup},
    {"connect", false, cn_setup, NULL, cn_loop, NULL},
    {"rpc", true, rpc_setup, rpc_worker_init, rpc_loop, rpc_cleanup},
};

/* ------------------------------------------------------------------ */
/* Workers                                                             */

static void gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->ready++;
    pthread_cond_broadcast(&g->cv);
    while (!g->go)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* Wait for CREATED workers to be connected, then start the clock. */
static void gate_open(struct run *r, int created)
{
    struct gate *g = &r->gate;

    pthread_mutex_lock(&g->mu);
    while (g->ready < created)
        pthread_cond_wait(&g->cv, &g->mu);
    r->t_start = now_ns();
    g_deadline = r->t_start + (uint64_t)(g_opt.duration * 1e9);
    g->go = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const struct scenario *scn = w->run->scn;

    if (scn->conn_per_worker) {
        w->conn = virConnectOpen(w->uri);
        if (!w->conn && atomic_fetch_add(&g_conn_failures, 1) == 0)
            warnx("thread %d: cannot connect to %s: %s", w->idx, w->uri, last_error());
    }
    gate_wait(&w->run->gate);
    w->lat_last = now_ns();
    if (w->conn || !scn->conn_per_worker)
        scn->loop(w);
    if (w->latbuf)
        lat_flush(w, now_ns());
    if (w->conn)
        virConnectClose(w->conn);
    w->conn = NULL;
    return NULL;
}

static int workers_alloc(struct run *r)
{
    r->nworkers = r->threads;
    r->workers = calloc((size_t)r->nworkers, sizeof(*r->workers));
    if (!r->workers)
        return -1;
    for (int i = 0; i < r->nworkers; i++) {
        struct worker *w = &r->workers[i];
        w->run = r;
        w->idx = i + 1;
        w->uri = r->groups[0].uri;
        if (r->scn->worker_init)
            r->scn->worker_init(r, w);
        w->stats = stats_new(r->nops);
        if (!w->stats)
            return -1;
        if (g_lat_fd >= 0 && !(w->latbuf = malloc(LAT_BUF_SIZE)))
            return -1;
    }
    return 0;
}

static int run_workers(struct run *r)
{
    sigset_t block, old;
    int created = 0, err = 0;

    /* threads inherit the mask: only the main thread takes the signals */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (; created < r->nworkers; created++) {
        err = pthread_create(&r->workers[created].tid, NULL, worker_main, &r->workers[created]);
        if (err) {
            warnx("cannot create thread: %s", strerror(err));
            atomic_store(&g_stop, 1);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    gate_open(r, created);
    for (int i = 0; i < created; i++)
        pthread_join(r->workers[i].tid, NULL);
    r->t_end = now_ns();
    return err ? -1 : 0;
}

static int merge_stats(struct run *r)
{
    r->total = stats_new(r->nops);
    if (!r->total)
        return -1;
    for (int i = 0; i < r->nworkers; i++)
        for (int k = 0; k < r->nops; k++)
            stat_merge(&r->total[k], &r->workers[i].stats[k]);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Summary                                                             */

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

struct totals {
    uint64_t n, err, expected;
    double elapsed, ops_per_sec;
};

static struct totals compute_totals(const struct run *r)
{
    struct totals t = {0};

    for (int k = 0; k < r->nops; k++) {
        t.n += r->total[k].n;
        t.err += r->total[k].err;
        t.expected += r->total[k].expected;
    }
    t.elapsed = (double)(r->t_end - r->t_start) / 1e9;
    t.ops_per_sec = t.elapsed > 0 ? (double)t.n / t.elapsed : 0;
    return t;
}

static void print_text(const struct run *r, const struct totals *t)
{
    printf("scenario=%s threads=%d elapsed_s=%.3f\n", r->scn->name, r->nworkers, t->elapsed);
    for (int g = 0; g < r->ngroups; g++)
        printf("uri@%s=%s\n", r->groups[g].label, r->groups[g].uri);
    printf("total_ops=%" PRIu64 " errors=%" PRIu64 " expected_errors=%" PRIu64
           " connect_failures=%d reconnects=%d\n",
           t->n, t->err, t->expected, atomic_load(&g_conn_failures), atomic_load(&g_reconnects));
    printf("ops_per_sec=%.1f\n", t->ops_per_sec);
    printf("%-22s %9s %7s %8s %10s %9s %9s %9s %9s\n", "op", "count", "errors", "expected",
           "per_sec", "mean_ms", "p50_ms", "p99_ms", "max_ms");
    for (int k = 0; k < r->nops; k++) {
        const struct opstat *s = &r->total[k];
        printf("%-22s %9" PRIu64 " %7" PRIu64 " %8" PRIu64 " %10.1f %9.3f %9.3f %9.3f %9.3f\n",
               r->opnames[k], s->n, s->err, s->expected,
               t->elapsed > 0 ? (double)s->n / t->elapsed : 0,
               s->n ? ms(s->sum_ns) / (double)s->n : 0, s->n ? ms(stat_percentile(s, 50)) : 0,
               s->n ? ms(stat_percentile(s, 99)) : 0, ms(s->max_ns));
    }
    for (int k = 0; k < r->nops; k++) {
        if (r->total[k].first_err)
            printf("first_error[%s]: %s\n", r->opnames[k], r->total[k].first_err);
        if (r->total[k].first_expected)
            printf("first_expected[%s]: %s\n", r->opnames[k], r->total[k].first_expected);
    }
}

static void print_json_op(const struct opstat *s, double elapsed)
{
    printf("{\"count\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"expected_errors\":%" PRIu64
           ",\"per_sec\":%.3f,\"mean_ms\":%.6f,\"p50_ms\":%.6f,\"p99_ms\":%.6f,\"max_ms\":%.6f",
           s->n, s->err, s->expected, elapsed > 0 ? (double)s->n / elapsed : 0,
           s->n ? ms(s->sum_ns) / (double)s->n : 0, s->n ? ms(stat_percentile(s, 50)) : 0,
           s->n ? ms(stat_percentile(s, 99)) : 0, ms(s->max_ns));
    if (s->first_err) {
        fputs(",\"first_error\":", stdout);
        json_str(stdout, s->first_err);
    }
    if (s->first_expected) {
        fputs(",\"first_expected\":", stdout);
        json_str(stdout, s->first_expected);
    }
    putchar('}');
}

static void print_json(const struct run *r, const struct totals *t)
{
    printf("{\"scenario\":");
    json_str(stdout, r->scn->name);
    printf(",\"threads\":%d,\"elapsed_s\":%.6f,\"uris\":{", r->nworkers, t->elapsed);
    for (int g = 0; g < r->ngroups; g++) {
        if (g)
            putchar(',');
        json_str(stdout, r->groups[g].label);
        putchar(':');
        json_str(stdout, r->groups[g].uri);
    }
    printf("},\"total_ops\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"expected_errors\":%" PRIu64
           ",\"connect_failures\":%d,\"reconnects\":%d,\"ops_per_sec\":%.3f,\"ops\":{",
           t->n, t->err, t->expected, atomic_load(&g_conn_failures), atomic_load(&g_reconnects),
           t->ops_per_sec);
    for (int k = 0; k < r->nops; k++) {
        if (k)
            putchar(',');
        json_str(stdout, r->opnames[k]);
        putchar(':');
        print_json_op(&r->total[k], t->elapsed);
    }
    printf("}}\n");
}

/* Print the summary; return the exit status it implies. */
static int report(const struct run *r)
{
    struct totals t = compute_totals(r);

    if (g_opt.json)
        print_json(r, &t);
    else
        print_text(r, &t);
    fflush(stdout);
    if (t.n == t.err) {
        warnx(t.n ? "every operation failed" : "no operation ran");
        return EXIT_FAIL;
    }
    return atomic_load(&g_lat_failed) ? EXIT_FAIL : 0;
}

/* ------------------------------------------------------------------ */
/* Argument parsing                                                    */

static void usage(FILE *f)
{
    fputs("usage: virtscope-load SCENARIO [options]\n"
          "scenarios: start-destroy, define-undefine, connect, rpc\n"
          "  -c, --uri URI        connection URI (default $VIRTSCOPE_LAB_QEMU_URI)\n"
          "      --test-uri URI   rpc: second URI (default $VIRTSCOPE_LAB_TEST_URI when\n"
          "                       neither -c nor --test-uri is given)\n"
          "  -d, --duration SEC   stop after SEC seconds (default 10)\n"
          "  -n, --count N        stop after N operations in total\n"
          "  -j, --threads N      concurrency (define-undefine 4, connect 16, rpc 8)\n"
          "      --domains N      start-destroy: domains vm1..vmN, one thread each (2)\n"
          "      --pause-ms MS    start-destroy: pause between start and destroy (0)\n"
          "      --disks M        define-undefine: SCSI disks per domain (16)\n"
          "      --same-threads K define-undefine: threads sharing one name (2)\n"
          "      --same           define-undefine: all -j threads share one name\n"
          "      --type kvm|qemu  domain type ($VIRTSCOPE_LAB_DOMAIN_TYPE, else kvm\n"
          "                       if /dev/kvm exists, else qemu)\n"
          "      --json           print the summary as one JSON object\n"
          "      --latencies FILE append \"<start_ns> <end_ns> <op> <domain> <ok|err>\"\n"
          "                       per operation (CLOCK_MONOTONIC)\n"
          "-n counts API calls and is rounded down to whole cycles (start-destroy 2,\n"
          "define-undefine 2, connect 3).  Exit status: 0 ok, 1 connection failed or\n"
          "no operation succeeded, 2 bad arguments.\n",
          f);
}

static int parse_int(const char *opt, const char *s, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min)
        usage_error("%s must be a %s integer", opt, min == 1 ? "positive" : "non-negative");
    if (v > max)
        usage_error("%s must be at most %ld", opt, max);
    return (int)v;
}

static uint64_t parse_count(const char *s)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v == 0)
        usage_error("--count must be a positive integer");
    return v;
}

static double parse_duration(const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    /* the negated comparison also rejects NaN */
    if (errno || end == s || *end || !(v > 0 && v <= 31536000.0))
        usage_error("--duration must be a positive number of seconds");
    return v;
}

static const char *parse_type(const char *what, const char *s)
{
    if (strcmp(s, "kvm") != 0 && strcmp(s, "qemu") != 0)
        usage_error("%s must be kvm or qemu", what);
    return s;
}

enum {
    OPT_DOMAINS = 256,
    OPT_DISKS,
    OPT_SAME,
    OPT_SAME_THREADS,
    OPT_TEST_URI,
    OPT_TYPE,
    OPT_JSON,
    OPT_LATENCIES,
    OPT_PAUSE,
};

static const struct option long_opts[] = {
    {"uri", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"count", required_argument, NULL, 'n'},
    {"threads", required_argument, NULL, 'j'},
    {"domains", required_argument, NULL, OPT_DOMAINS},
    {"disks", required_argument, NULL, OPT_DISKS},
    {"same", no_argument, NULL, OPT_SAME},
    {"same-threads", required_argument, NULL, OPT_SAME_THREADS},
    {"test-uri", required_argument, NULL, OPT_TEST_URI},
    {"type", required_argument, NULL, OPT_TYPE},
    {"json", no_argument, NULL, OPT_JSON},
    {"latencies", required_argument, NULL, OPT_LATENCIES},
    {"pause-ms", required_argument, NULL, OPT_PAUSE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void parse_option(int c, const char *arg)
{
    switch (c) {
    case 'c': g_opt.uri = arg; g_opt.uri_given = true; break;
    case OPT_TEST_URI: g_opt.test_uri = arg; g_opt.uri_given = true; break;
    case 'd': g_opt.duration = parse_duration(arg); break;
    case 'n': g_opt.count = parse_count(arg); break;
    case 'j': g_opt.threads = parse_int("--threads", arg, 1, MAX_THREADS); break;
    case OPT_DOMAINS: g_opt.domains = parse_int("--domains", arg, 1, MAX_THREADS); break;
    case OPT_DISKS: g_opt.disks = parse_int("--disks", arg, 0, MAX_DISKS); break;
    case OPT_SAME: g_opt.same = true; break;
    case OPT_SAME_THREADS:
        g_opt.same_threads = parse_int("--same-threads", arg, 0, MAX_THREADS);
        break;
    case OPT_TYPE: g_opt.dtype = parse_type("--type", arg); break;
    case OPT_JSON: g_opt.json = true; break;
    case OPT_LATENCIES: g_opt.latencies = arg; break;
    case OPT_PAUSE: g_opt.pause_ms = parse_int("--pause-ms", arg, 0, 60000); break;
    default: break;
    }
}

static const struct scenario *find_scenario(const char *name)
{
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
        if (strcmp(scenarios[i].name, name) == 0)
            return &scenarios[i];
    return NULL;
}

static void parse_args(int argc, char **argv)
{
    int c;

    opterr = 0; /* our own one-line messages */
    while ((c = getopt_long(argc, argv, ":c:d:n:j:h", long_opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?')
            usage_error("unknown option '%s'", argv[optind - 1]);
        if (c == ':')
            usage_error("option '%s' needs a value", argv[optind - 1]);
        parse_option(c, optarg);
    }
    if (optind >= argc)
        usage_error("missing SCENARIO (start-destroy, define-undefine, connect, rpc)");
    if (optind + 1 < argc)
        usage_error("unexpected argument '%s'", argv[optind + 1]);
    g_opt.scenario = argv[optind];
    if (!find_scenario(g_opt.scenario))
        usage_error("unknown scenario '%s'", g_opt.scenario);
}

/* Fill in the defaults that come from the environment. */
static void resolve_defaults(struct run *r)
{
    const char *qemu = g_opt.uri, *test = g_opt.test_uri;
    bool rpc = strcmp(r->scn->name, "rpc") == 0;

    if (!g_opt.uri_given) {
        qemu = getenv("VIRTSCOPE_LAB_QEMU_URI");
        test = rpc ? getenv("VIRTSCOPE_LAB_TEST_URI") : NULL;
        if (qemu && !*qemu)
            qemu = NULL;
        if (test && !*test)
            test = NULL;
    }
    if (qemu)
        r->groups[r->ngroups++].uri = qemu;
    if (test && rpc)
        r->groups[r->ngroups++].uri = test;
    else if (test && !qemu)
        usage_error("--test-uri is only for rpc; use -c URI");
    if (r->ngroups == 0)
        usage_error("no URI: pass -c URI or set VIRTSCOPE_LAB_QEMU_URI");

    r->dtype = g_opt.dtype;
    if (!r->dtype) {
        const char *env = getenv("VIRTSCOPE_LAB_DOMAIN_TYPE");
        if (env && *env)
            r->dtype = parse_type("VIRTSCOPE_LAB_DOMAIN_TYPE", env);
        else
            r->dtype = access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "qemu";
    }
    if (g_opt.threads && strcmp(r->scn->name, "start-destroy") == 0)
        warnx("start-destroy runs one thread per domain: -j ignored, use --domains");
}

/* ------------------------------------------------------------------ */
/* Process setup                                                       */

static void on_signal(int sig)
{
    static const char msg[] = "load: stopping after the current operations"
                              " (signal again to abort)\n";

    atomic_store(&g_stop, 1);
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing useful to do in a signal handler */
    }
    signal(sig, SIG_DFL); /* a second signal ends a stuck cleanup */
}

static int install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
        warnx("sigaction: %s", strerror(errno));
        return -1;
    }
    /* a write to a daemon that just died must be an error, not a kill */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0) {
        warnx("sigaction: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Expected errors are counted, not printed. */
static void quiet_error(void *userdata, virErrorPtr err)
{
    (void)userdata;
    (void)err;
}

static int open_latencies(void)
{
    if (!g_opt.latencies)
        return 0;
    g_lat_fd = open(g_opt.latencies, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (g_lat_fd < 0) {
        warnx("cannot open %s: %s", g_opt.latencies, strerror(errno));
        return -1;
    }
    return 0;
}

/* Label a group by its driver ("qemu", "test"): rpc op names, summary. */
static int group_label(struct run *r, int g)
{
    struct group *grp = &r->groups[g];
    const char *type = virConnectGetType(grp->conn);
    size_t i;

    if (!type) {
        warnx("cannot get driver type of %s: %s", grp->uri, last_error());
        return -1;
    }
    for (i = 0; type[i] && i + 2 < sizeof(grp->label); i++)
        grp->label[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
    grp->label[i] = '\0';
    if (g > 0 && strcmp(grp->label, r->groups[0].label) == 0)
        strcat(grp->label, "2"); /* two URIs of the same driver */
    return 0;
}

static int open_groups(struct run *r)
{
    for (int g = 0; g < r->ngroups; g++) {
        r->groups[g].conn = open_main_conn(r->groups[g].uri);
        if (!r->groups[g].conn || group_label(r, g) < 0)
            return -1;
    }
    return 0;
}

static void run_free(struct run *r)
{
    if (r->workers) {
        for (int i = 0; i < r->nworkers; i++) {
            stats_free(r->workers[i].stats, r->nops);
            free(r->workers[i].latbuf);
        }
        free(r->workers);
    }
    stats_free(r->total, r->nops);
    for (int g = 0; g < r->ngroups; g++)
        if (r->groups[g].conn)
            virConnectClose(r->groups[g].conn);
    for (int k = 0; k < r->nops; k++)
        free(r->opnames[k]);
    free(r->owned);
    pthread_mutex_destroy(&r->gate.mu);
    pthread_cond_destroy(&r->gate.cv);
}

int main(int argc, char **argv)
{
    struct run r = {
        .gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false},
    };
    int rc = EXIT_FAIL;

    parse_args(argc, argv);
    r.scn = find_scenario(g_opt.scenario);
    resolve_defaults(&r);
    if (open_latencies() < 0)
        return EXIT_USAGE;
    if (virInitialize() < 0) {
        warnx("cannot initialise libvirt");
        goto cleanup;
    }
    virSetErrorFunc(NULL, quiet_error);
    if (install_signals() < 0 || open_groups(&r) < 0)
        goto cleanup;
    if (r.scn->setup(&r) < 0) {
        warnx("setup of %s failed", r.scn->name);
        goto cleanup;
    }
    if (workers_alloc(&r) < 0) {
        warnx("out of memory");
        goto cleanup;
    }
    if (run_workers(&r) < 0)
        goto cleanup;
    if (merge_stats(&r) < 0) {
        warnx("out of memory");
        goto cleanup;
    }
    rc = report(&r);

cleanup:
    if (r.scn->cleanup)
        r.scn->cleanup(&r);
    run_free(&r);
    if (g_lat_fd >= 0 && close(g_lat_fd) < 0) {
        warnx("closing %s: %s", g_opt.latencies, strerror(errno));
        rc = EXIT_FAIL;
    }
    return rc;
}
