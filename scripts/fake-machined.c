/*
 * virtscope-fake-machined: a D-Bus peer that answers as systemd-machined (and as much of
 * systemd as libvirt checks before it calls machined) on the lab's system bus, with an
 * injected delay per method or no answer at all. It reproduces the field's hang: a libvirtd
 * worker holds a domain's lock across a D-Bus call to machined (TerminateMachine on destroy)
 * that answers late or never (libvirt gives up after its fixed 30 s).
 *
 *   virtscope-fake-machined [--fault FILE] [--log FILE] [--slice NAME] [--no-cgroup]
 *                           [--pidfile FILE] [--address ADDR]
 *
 * Design
 * - Names: libvirt 9.0 calls machined only if org.freedesktop.machine1 is among the bus's
 *   activatable names (a .service file, written by scripts/lab) and org.freedesktop.systemd1
 *   among its names; it caches the answer for the daemon's life. This peer owns both.
 * - Methods: machine1.Manager CreateMachineWithNetwork, CreateMachine, TerminateMachine,
 *   GetMachineByPID, GetMachine; Properties.Get of a machine's Name, Unit, Leader and Class;
 *   systemd1.Manager SetUnitProperties; Peer.Ping. Anything else gets UnknownMethod, and is
 *   logged, so that a call libvirt makes and this peer does not know shows in the log.
 * - Placement: after CreateMachine, libvirt reads the leader's cgroup and uses machined only
 *   if the leader left the root cgroup, as it does under a real machined; otherwise it falls
 *   back to managing cgroups itself and, with the lab's empty cgroup_controllers, keeps none,
 *   and then never calls TerminateMachine. So, like machined, this peer moves the leader into
 *   <mount>/<slice>/machine-<name>.scope in the named systemd v1 hierarchy and in the cgroup2
 *   hierarchy (whichever are mounted: libvirt picks one), and removes those directories on
 *   TerminateMachine and at exit. The directories hold no controllers of their own.
 * - Faults: FILE holds lines "METHOD DELAY", DELAY in milliseconds or "hang" (never answer),
 *   METHOD a method name or "*" for every method. It is read at each call's arrival, so a
 *   change applies to the next call. The work of a call is done on arrival; only its reply
 *   waits, in a queue, so one slow call never delays another.
 * - Log: one line per arrival and per reply, "EVENT key=value ...", with CLOCK_MONOTONIC
 *   nanoseconds (comparable with scripts/load --latencies) and wall-clock seconds.
 */
#include <dbus/dbus.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MACHINED_NAME "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_IFACE "org.freedesktop.machine1.Manager"
#define MACHINE_IFACE "org.freedesktop.machine1.Machine"
#define MACHINE_PATH_PREFIX "/org/freedesktop/machine1/machine/"
#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_IFACE "org.freedesktop.systemd1.Manager"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
#define PEER_IFACE "org.freedesktop.DBus.Peer"

#define MAX_MACHINES 256
#define MAX_PENDING 1024
#define MAX_MOUNTS 2
#define DELAY_HANG (-1)
#define POLL_MS 100 /* longest sleep, so that a signal is seen soon */

struct machine {
    bool used;
    char name[128];
    char unit[288];
    char path[320]; /* D-Bus object path */
    uint32_t leader;
    char class_[16];
};

/* A call whose reply is due at due_ns (or never, hang). */
struct pending {
    bool used;
    bool hang;
    uint64_t id;
    uint64_t due_ns;
    uint64_t arrived_ns;
    char method[64];
    DBusMessage *reply;
};

struct options {
    const char *fault;
    const char *log;
    const char *slice;
    const char *pidfile;
    const char *address;
    bool cgroup;
};

static struct options g_opt = { .slice = "virtscope-machined.slice", .cgroup = true };
static struct machine g_machines[MAX_MACHINES];
static struct pending g_pending[MAX_PENDING];
static char g_mounts[MAX_MOUNTS][256]; /* cgroup hierarchies the leader is placed in */
static int g_nmounts;
static FILE *g_log;
static uint64_t g_next_id = 1;
static volatile sig_atomic_t g_stop;

static void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fake-machined: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t now_ns(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ------------------------------------------------------------------------------------- */
/* Log                                                                                    */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
    uint64_t wall = now_ns(CLOCK_REALTIME);
    va_list ap;

    va_start(ap, fmt);
    vfprintf(g_log, fmt, ap);
    va_end(ap);
    fprintf(g_log, " wall=%" PRIu64 ".%06" PRIu64 "\n", wall / 1000000000u,
            wall % 1000000000u / 1000u);
    fflush(g_log);
}

/* ------------------------------------------------------------------------------------- */
/* Faults                                                                                 */

/* The delay configured for method: milliseconds, or DELAY_HANG. A method's own line wins
 * over "*"; no file or no matching line means no delay. */
static long fault_delay(const char *method)
{
    char line[256], name[128], value[64];
    long any = 0, own = 0;
    bool have_own = false;
    FILE *f;

    if (!g_opt.fault || !(f = fopen(g_opt.fault, "re")))
        return 0;
    while (fgets(line, sizeof(line), f)) {
        long v;
        char *end;

        if (line[0] == '#' || sscanf(line, "%127s %63s", name, value) != 2)
            continue;
        if (strcmp(value, "hang") == 0) {
            v = DELAY_HANG;
        } else {
            errno = 0;
            v = strtol(value, &end, 10);
            if (errno || *end || v < 0) {
                warnx("%s: ignoring bad delay '%s' for %s", g_opt.fault, value, name);
                continue;
            }
        }
        if (strcmp(name, "*") == 0) {
            any = v;
        } else if (strcmp(name, method) == 0) {
            own = v;
            have_own = true;
        }
    }
    fclose(f);
    return have_own ? own : any;
}

/* ------------------------------------------------------------------------------------- */
/* Cgroup placement                                                                       */

/* The hierarchies a machine's leader goes into: the named systemd v1 hierarchy and the
 * cgroup2 one, as mounted in this process's mount namespace. */
static void find_mounts(void)
{
    char line[1024], mnt[256], type[64], opts[512];
    FILE *f = fopen("/proc/self/mounts", "re");

    if (!f) {
        warnx("cannot read /proc/self/mounts: %s; machines stay in their cgroup", strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), f) && g_nmounts < MAX_MOUNTS) {
        if (sscanf(line, "%*s %255s %63s %511s", mnt, type, opts) != 3)
            continue;
        if ((strcmp(type, "cgroup") == 0 && strstr(opts, "name=systemd")) ||
            strcmp(type, "cgroup2") == 0)
            snprintf(g_mounts[g_nmounts++], sizeof(g_mounts[0]), "%s", mnt);
    }
    fclose(f);
}

static int write_pid(const char *dir, uint32_t pid)
{
    char path[1100];
    int fd, n, err = 0;

    snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = dprintf(fd, "%" PRIu32 "\n", pid);
    if (n < 0)
        err = -errno;
    close(fd);
    return err;
}

/* Move pid into <mount>/<slice>/<unit> of each hierarchy. Failures are logged, not fatal:
 * libvirt then falls back as it would under a machined that did not move the leader. */
static void place_leader(const struct machine *m)
{
    char dir[1024];
    int i, err;

    for (i = 0; g_opt.cgroup && i < g_nmounts; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", g_mounts[i], g_opt.slice);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            log_line("warning cgroup=%s error=\"%s\"", dir, strerror(errno));
            continue;
        }
        snprintf(dir, sizeof(dir), "%s/%s/%s", g_mounts[i], g_opt.slice, m->unit);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
            log_line("warning cgroup=%s error=\"%s\"", dir, strerror(errno));
            continue;
        }
        if ((err = write_pid(dir, m->leader)) < 0)
            log_line("warning cgroup=%s pid=%" PRIu32 " error=\"%s\"", dir, m->leader,
                     strerror(-err));
    }
}

static int rmdir_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP && rmdir(path) < 0 && errno != ENOENT)
        log_line("warning cgroup=%s error=\"%s\"", path, strerror(errno));
    return 0;
}

/* Remove a directory tree of cgroups, deepest first (libvirt may have made children). */
static void remove_tree(const char *dir)
{
    struct stat st;

    if (stat(dir, &st) == 0)
        nftw(dir, rmdir_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_scope(const struct machine *m)
{
    char dir[1024];
    int i;

    for (i = 0; g_opt.cgroup && i < g_nmounts; i++) {
        snprintf(dir, sizeof(dir), "%s/%s/%s", g_mounts[i], g_opt.slice, m->unit);
        remove_tree(dir);
    }
}

static void remove_slices(void)
{
    char dir[1024];
    int i;

    for (i = 0; g_opt.cgroup && i < g_nmounts; i++) {
        snprintf(dir, sizeof(dir), "%s/%s", g_mounts[i], g_opt.slice);
        remove_tree(dir);
    }
}

/* ------------------------------------------------------------------------------------- */
/* Machines                                                                               */

/* systemd's unit-name escaping, as libvirt's virSystemdEscapeName does. */
static void unit_escape(char *out, size_t size, const char *name)
{
    static const char valid[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:_.";
    size_t n = 0;

    for (; *name && n + 5 < size; name++) {
        if (strchr(valid, *name))
            out[n++] = *name;
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", (unsigned char)*name);
    }
    out[n] = '\0';
}

/* sd-bus's object-path label escaping: [A-Za-z0-9] kept, the rest as _xx. */
static void label_escape(char *out, size_t size, const char *name)
{
    size_t n = 0;

    for (; *name && n + 4 < size; name++) {
        unsigned char c = (unsigned char)*name;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, size - n, "_%02x", c);
    }
    out[n] = '\0';
}

static struct machine *machine_by(const char *name, const char *path, uint32_t leader)
{
    int i;

    for (i = 0; i < MAX_MACHINES; i++) {
        struct machine *m = &g_machines[i];

        if (m->used && ((name && strcmp(m->name, name) == 0) ||
                        (path && strcmp(m->path, path) == 0) || (leader && m->leader == leader)))
            return m;
    }
    return NULL;
}

static struct machine *machine_new(const char *name, uint32_t leader, const char *class_)
{
    struct machine *m = machine_by(name, NULL, 0);
    char esc[256];
    int i;

    for (i = 0; !m && i < MAX_MACHINES; i++)
        if (!g_machines[i].used)
            m = &g_machines[i];
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    m->used = true;
    m->leader = leader;
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->class_, sizeof(m->class_), "%s", class_);
    unit_escape(esc, sizeof(esc), name);
    snprintf(m->unit, sizeof(m->unit), "machine-%s.scope", esc);
    label_escape(esc, sizeof(esc), name);
    snprintf(m->path, sizeof(m->path), MACHINE_PATH_PREFIX "%s", esc);
    return m;
}

/* ------------------------------------------------------------------------------------- */
/* Method handlers: each returns the reply (or an error reply), or NULL if out of memory.  */
/* `what` gets a short description of the arguments for the log.                         */

static DBusMessage *error_reply(DBusMessage *msg, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static DBusMessage *error_reply(DBusMessage *msg, const char *name, const char *fmt, ...)
{
    char text[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    return dbus_message_new_error(msg, name, text);
}

static DBusMessage *path_reply(DBusMessage *msg, const char *path)
{
    DBusMessage *r = dbus_message_new_method_return(msg);

    if (r && !dbus_message_append_args(r, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID)) {
        dbus_message_unref(r);
        r = NULL;
    }
    return r;
}

/* CreateMachine(s name, ay id, s service, s class, u leader, s root, [ai nics,] a(sv)) */
static DBusMessage *do_create(DBusMessage *msg, bool with_network, char *what, size_t size)
{
    const char *sig = with_network ? "sayssusaia(sv)" : "sayssusa(sv)";
    const char *name = NULL, *class_ = NULL;
    uint32_t leader = 0;
    DBusMessageIter it;
    struct machine *m;
    int i;

    if (!dbus_message_has_signature(msg, sig)) {
        snprintf(what, size, "signature=%s", dbus_message_get_signature(msg));
        return error_reply(msg, DBUS_ERROR_INVALID_ARGS, "expected signature %s", sig);
    }
    dbus_message_iter_init(msg, &it);
    for (i = 0; i <= 4; i++, dbus_message_iter_next(&it)) {
        if (i == 0)
            dbus_message_iter_get_basic(&it, &name);
        else if (i == 3)
            dbus_message_iter_get_basic(&it, &class_);
        else if (i == 4)
            dbus_message_iter_get_basic(&it, &leader);
    }
    snprintf(what, size, "name=%s leader=%" PRIu32, name, leader);
    /* machined takes host names: at most 64 characters */
    if (!name[0] || strlen(name) > 64)
        return error_reply(msg, DBUS_ERROR_INVALID_ARGS, "invalid machine name '%s'", name);
    if (!(m = machine_new(name, leader, class_)))
        return error_reply(msg, DBUS_ERROR_LIMITS_EXCEEDED, "too many machines");
    place_leader(m);
    return path_reply(msg, m->path);
}

static DBusMessage *do_terminate(DBusMessage *msg, char *what, size_t size)
{
    const char *name = NULL;
    struct machine *m;

    if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
        return error_reply(msg, DBUS_ERROR_INVALID_ARGS, "expected signature s");
    snprintf(what, size, "name=%s", name);
    if (!(m = machine_by(name, NULL, 0)))
        return error_reply(msg, "org.freedesktop.machine1.NoSuchMachine",
                           "No machine '%s' known", name);
    remove_scope(m);
    m->used = false;
    return dbus_message_new_method_return(msg);
}

static DBusMessage *do_get_machine(DBusMessage *msg, bool by_pid, char *what, size_t size)
{
    const char *name = NULL;
    uint32_t pid = 0;
    struct machine *m;

    if (by_pid) {
        if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_UINT32, &pid, DBUS_TYPE_INVALID))
            return error_reply(msg, DBUS_ERROR_INVALID_ARGS, "expected signature u");
        snprintf(what, size, "pid=%" PRIu32, pid);
        if (!pid || !(m = machine_by(NULL, NULL, pid)))
            return error_reply(msg, "org.freedesktop.machine1.NoMachineForPID",
                               "PID %" PRIu32 " does not belong to any known machine", pid);
    } else {
        if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
            return error_reply(msg, DBUS_ERROR_INVALID_ARGS, "expected signature s");
        snprintf(what, size, "name=%s", name);
        if (!(m = machine_by(name, NULL, 0)))
            return error_reply(msg, "org.freedesktop.machine1.NoSuchMachine",
                               "No machine '%s' known", name);
    }
    return path_reply(msg, m->path);
}

/* Properties.Get(s interface, s property) -> v, on a machine's object. */
static DBusMessage *do_get_property(DBusMessage *msg, char *what, size_t size)
{
    const char *iface = NULL, *prop = NULL, *s = NULL;
    DBusMessageIter it, var;
    const struct machine *m;
    DBusMessage *r;
    bool ok;

    if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &prop,
                               DBUS_TYPE_INVALID))
        return error_reply(msg, DBUS_ERROR_INVALID_ARGS, "expected signature ss");
    snprintf(what, size, "path=%s property=%s.%s", dbus_message_get_path(msg), iface, prop);
    if (!(m = machine_by(NULL, dbus_message_get_path(msg), 0)) || strcmp(iface, MACHINE_IFACE))
        return error_reply(msg, DBUS_ERROR_UNKNOWN_OBJECT, "no such machine object");
    if (strcmp(prop, "Name") == 0)
        s = m->name;
    else if (strcmp(prop, "Unit") == 0)
        s = m->unit;
    else if (strcmp(prop, "Class") == 0)
        s = m->class_;
    else if (strcmp(prop, "Leader") != 0)
        return error_reply(msg, DBUS_ERROR_UNKNOWN_PROPERTY, "unknown property %s", prop);
    if (!(r = dbus_message_new_method_return(msg)))
        return NULL;
    dbus_message_iter_init_append(r, &it);
    ok = dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, s ? "s" : "u", &var) &&
         (s ? dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &s)
            : dbus_message_iter_append_basic(&var, DBUS_TYPE_UINT32, &m->leader)) &&
         dbus_message_iter_close_container(&it, &var);
    if (!ok) {
        dbus_message_unref(r);
        return NULL;
    }
    return r;
}

static DBusMessage *handle_call(DBusMessage *msg, char *what, size_t size)
{
    const char *iface = dbus_message_get_interface(msg), *member = dbus_message_get_member(msg);
    const char *path = dbus_message_get_path(msg);

    iface = iface ? iface : "";
    what[0] = '\0';
    if (strcmp(iface, MACHINED_IFACE) == 0 && strcmp(path, MACHINED_PATH) == 0) {
        if (strcmp(member, "CreateMachineWithNetwork") == 0)
            return do_create(msg, true, what, size);
        if (strcmp(member, "CreateMachine") == 0)
            return do_create(msg, false, what, size);
        if (strcmp(member, "TerminateMachine") == 0)
            return do_terminate(msg, what, size);
        if (strcmp(member, "GetMachineByPID") == 0)
            return do_get_machine(msg, true, what, size);
        if (strcmp(member, "GetMachine") == 0)
            return do_get_machine(msg, false, what, size);
    } else if (strcmp(iface, PROPS_IFACE) == 0 && strcmp(member, "Get") == 0 &&
               strncmp(path, MACHINE_PATH_PREFIX, strlen(MACHINE_PATH_PREFIX)) == 0) {
        return do_get_property(msg, what, size);
    } else if (strcmp(iface, SYSTEMD_IFACE) == 0 && strcmp(member, "SetUnitProperties") == 0) {
        /* libvirt sets TasksMax on the scope; nothing enforces it here */
        return dbus_message_new_method_return(msg);
    } else if (strcmp(iface, PEER_IFACE) == 0 && strcmp(member, "Ping") == 0) {
        return dbus_message_new_method_return(msg);
    }
    snprintf(what, size, "interface=%s path=%s unknown=1", iface, path);
    return error_reply(msg, DBUS_ERROR_UNKNOWN_METHOD, "fake machined does not implement %s.%s",
                       iface, member);
}

/* ------------------------------------------------------------------------------------- */
/* Arrivals and replies                                                                   */

static void send_reply(DBusConnection *conn, struct pending *p)
{
    uint64_t t = now_ns(CLOCK_MONOTONIC);
    const char *result = dbus_message_get_type(p->reply) == DBUS_MESSAGE_TYPE_ERROR
                             ? dbus_message_get_error_name(p->reply)
                             : "ok";

    if (!dbus_connection_send(conn, p->reply, NULL))
        warnx("out of memory sending the reply to call %" PRIu64, p->id);
    log_line("reply id=%" PRIu64 " method=%s result=%s arrived_ns=%" PRIu64 " replied_ns=%" PRIu64
             " waited_ms=%.1f",
             p->id, p->method, result, p->arrived_ns, t, (double)(t - p->arrived_ns) / 1e6);
    dbus_message_unref(p->reply);
    p->used = false;
}

static void on_call(DBusConnection *conn, DBusMessage *msg)
{
    uint64_t arrived = now_ns(CLOCK_MONOTONIC);
    const char *member = dbus_message_get_member(msg);
    char what[768], delay_text[32];
    struct pending *p = NULL;
    long delay = fault_delay(member);
    int i;

    for (i = 0; i < MAX_PENDING && !p; i++)
        if (!g_pending[i].used)
            p = &g_pending[i];
    if (!p) {
        log_line("drop method=%s reason=too-many-pending", member);
        return;
    }
    if (!(p->reply = handle_call(msg, what, sizeof(what)))) {
        warnx("out of memory answering %s", member);
        return;
    }
    p->used = true;
    p->id = g_next_id++;
    p->arrived_ns = arrived;
    p->hang = delay == DELAY_HANG;
    p->due_ns = arrived + (p->hang ? 0 : (uint64_t)delay * 1000000u);
    snprintf(p->method, sizeof(p->method), "%s", member);
    if (p->hang)
        snprintf(delay_text, sizeof(delay_text), "hang");
    else
        snprintf(delay_text, sizeof(delay_text), "%ld", delay);
    log_line("arrive id=%" PRIu64 " method=%s sender=%s serial=%" PRIu32 " %s delay=%s"
             " arrived_ns=%" PRIu64,
             p->id, member, dbus_message_get_sender(msg), dbus_message_get_serial(msg), what,
             delay_text, arrived);
    if (!p->hang && delay == 0)
        send_reply(conn, p);
}

/* Send the replies that are due; return the ms until the next one (at most POLL_MS). */
static int flush_due(DBusConnection *conn)
{
    uint64_t t = now_ns(CLOCK_MONOTONIC), next = t + POLL_MS * 1000000u;
    int i;

    for (i = 0; i < MAX_PENDING; i++) {
        struct pending *p = &g_pending[i];

        if (!p->used || p->hang)
            continue;
        if (p->due_ns <= t)
            send_reply(conn, p);
        else if (p->due_ns < next)
            next = p->due_ns;
    }
    return (int)((next - t + 999999u) / 1000000u);
}

static void drop_pending(void)
{
    int i;

    for (i = 0; i < MAX_PENDING; i++) {
        if (!g_pending[i].used)
            continue;
        log_line("unanswered id=%" PRIu64 " method=%s arrived_ns=%" PRIu64, g_pending[i].id,
                 g_pending[i].method, g_pending[i].arrived_ns);
        dbus_message_unref(g_pending[i].reply);
        g_pending[i].used = false;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Set-up                                                                                 */

static DBusConnection *connect_bus(void)
{
    static const char *const names[] = { MACHINED_NAME, SYSTEMD_NAME };
    DBusConnection *conn = NULL;
    DBusError err;
    size_t i;
    int rc;

    dbus_error_init(&err);
    if (g_opt.address) {
        conn = dbus_connection_open_private(g_opt.address, &err);
        if (conn && !dbus_bus_register(conn, &err)) {
            dbus_connection_close(conn);
            dbus_connection_unref(conn);
            conn = NULL;
        }
    } else {
        conn = dbus_bus_get_private(DBUS_BUS_SYSTEM, &err);
    }
    if (!conn) {
        warnx("cannot connect to the system bus: %s", err.message);
        goto fail;
    }
    dbus_connection_set_exit_on_disconnect(conn, FALSE);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        rc = dbus_bus_request_name(conn, names[i], DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);
        if (rc != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
            warnx("cannot own %s on the bus: %s", names[i],
                  dbus_error_is_set(&err) ? err.message : "another peer owns it");
            goto fail;
        }
    }
    return conn;

fail:
    dbus_error_free(&err);
    if (conn) {
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
    }
    return NULL;
}

static int write_pidfile(void)
{
    char tmp[1024];
    FILE *f;

    if (!g_opt.pidfile)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp", g_opt.pidfile);
    if (!(f = fopen(tmp, "we")) || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 ||
        rename(tmp, g_opt.pidfile) < 0) {
        warnx("cannot write %s: %s", g_opt.pidfile, strerror(errno));
        return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: virtscope-fake-machined [options]\n"
          "  --fault FILE    delays, re-read at each call: lines \"METHOD MS|hang\",\n"
          "                  METHOD a method name or * (default: no delay)\n"
          "  --log FILE      append one line per call arrival and reply (default stderr)\n"
          "  --slice NAME    cgroup directory machines are placed under\n"
          "                  (default virtscope-machined.slice)\n"
          "  --no-cgroup     do not move machine leaders into cgroups\n"
          "  --pidfile FILE  write the pid once the bus names are owned\n"
          "  --address ADDR  bus address (default: the system bus)\n",
          f);
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "fault", required_argument, NULL, 'f' },   { "log", required_argument, NULL, 'l' },
        { "slice", required_argument, NULL, 's' },   { "no-cgroup", no_argument, NULL, 'n' },
        { "pidfile", required_argument, NULL, 'p' }, { "address", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': g_opt.fault = optarg; break;
        case 'l': g_opt.log = optarg; break;
        case 's': g_opt.slice = optarg; break;
        case 'n': g_opt.cgroup = false; break;
        case 'p': g_opt.pidfile = optarg; break;
        case 'a': g_opt.address = optarg; break;
        case 'h': usage(stdout); exit(0);
        default:
            warnx("unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        warnx("unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!g_opt.slice[0] || strchr(g_opt.slice, '/') || strcmp(g_opt.slice, ".") == 0 ||
        strcmp(g_opt.slice, "..") == 0) {
        warnx("--slice must be one directory name: '%s'", g_opt.slice);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = { .sa_handler = on_signal };
    DBusConnection *conn = NULL;
    DBusMessage *msg;
    int err = 1, timeout = 0;

    if (parse_args(argc, argv) < 0)
        return 2;
    g_log = stderr;
    if (g_opt.log && !(g_log = fopen(g_opt.log, "ae"))) {
        warnx("cannot open %s: %s", g_opt.log, strerror(errno));
        g_log = stderr;
        goto cleanup;
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (g_opt.cgroup)
        find_mounts();
    if (!(conn = connect_bus()) || write_pidfile() < 0)
        goto cleanup;
    log_line("start pid=%d slice=%s hierarchies=%d", (int)getpid(), g_opt.slice, g_nmounts);
    while (!g_stop) {
        if (!dbus_connection_read_write(conn, timeout)) {
            warnx("the bus closed the connection");
            goto cleanup;
        }
        while ((msg = dbus_connection_pop_message(conn))) {
            if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_METHOD_CALL)
                on_call(conn, msg);
            dbus_message_unref(msg);
        }
        timeout = flush_due(conn);
        dbus_connection_flush(conn);
    }
    err = 0;

cleanup:
    drop_pending();
    remove_slices();
    if (g_opt.pidfile)
        unlink(g_opt.pidfile);
    if (conn) {
        log_line("stop pid=%d", (int)getpid());
        dbus_connection_close(conn);
        dbus_connection_unref(conn);
    }
    if (g_log != stderr)
        fclose(g_log);
    return err;
}
