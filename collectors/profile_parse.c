/* The profile language (see profile.h): a line-based parser, and a
 * recursive-descent compiler for fetch expressions. */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/util.h"
#include "event.h"

/* ---- fetch expressions ---- */

struct fetch_parser {
	const char *p;
	struct vs_fetch *f;
	int n;
};

static int emit(struct fetch_parser *fp, int op, int64_t imm)
{
	if (fp->n == VS_PROBE_OPS)
		return -E2BIG;
	fp->f->ops[fp->n].op = (__u8)op;
	fp->f->ops[fp->n].imm = imm;
	fp->n++;
	return 0;
}

/* A signed number at fp->p: decimal or 0x hex. */
static int number(struct fetch_parser *fp, int64_t *out)
{
	int neg = 0;
	char *end;

	/* "+-16(...)" is uprobe_events' way to write a negative offset. */
	while (*fp->p == '-' || *fp->p == '+')
		neg ^= *fp->p++ == '-';
	if (!isdigit((unsigned char)*fp->p))
		return -EINVAL;
	errno = 0;
	*out = (int64_t)strtoull(fp->p, &end, 0);
	if (errno)
		return -EINVAL;
	fp->p = end;
	if (neg)
		*out = -*out;
	return 0;
}

static int reg_number(const char *name, size_t len)
{
	static const char *const names[VS_UREG_COUNT] = {
		"ax", "dx", "cx", "bx", "si", "di", "bp", "sp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "ip",
	};

	if (len > 1 && name[0] == 'r' && !isdigit((unsigned char)name[1])) {
		name++;
		len--;
	}
	for (int i = 0; i < VS_UREG_COUNT; i++)
		if (strlen(names[i]) == len && !strncmp(names[i], name, len))
			return i;
	return -1;
}

static int parse_fetch(struct fetch_parser *fp);

/* +N(FETCH)[:u32|:u8], with fp->p at the sign. */
static int parse_deref(struct fetch_parser *fp)
{
	int64_t off;
	int rc = number(fp, &off), op = VS_FOP_DEREF64;

	if (rc || *fp->p != '(')
		return -EINVAL;
	fp->p++;
	rc = parse_fetch(fp);
	if (rc || *fp->p != ')')
		return rc ? rc : -EINVAL;
	fp->p++;
	if (!strncmp(fp->p, ":u32", 4)) {
		op = VS_FOP_DEREF32;
		fp->p += 4;
	} else if (!strncmp(fp->p, ":u8", 3)) {
		op = VS_FOP_DEREF8;
		fp->p += 3;
	} else if (!strncmp(fp->p, ":u64", 4)) {
		fp->p += 4;
	}
	return emit(fp, op, off);
}

/* Is fp->p a signed offset followed by '(' (a dereference)? */
static int at_deref(const struct fetch_parser *fp)
{
	const char *q = fp->p;

	if (*q != '+' && *q != '-')
		return 0;
	q++;
	if (*q == '+' || *q == '-')
		q++;
	if (!isdigit((unsigned char)*q))
		return 0;
	while (isalnum((unsigned char)*q))
		q++;
	return *q == '(';
}

static int parse_term(struct fetch_parser *fp)
{
	int64_t v;

	if (!strncmp(fp->p, "$arg", 4)) {
		fp->p += 4;
		if (number(fp, &v) || v < 1 || v > 16)
			return -EINVAL;
		return emit(fp, VS_FOP_ARG, v);
	}
	if (!strncmp(fp->p, "$retval", 7)) {
		fp->p += 7;
		return emit(fp, VS_FOP_RETVAL, 0);
	}
	if (*fp->p == '%') {
		const char *start = ++fp->p;
		int r;

		while (isalnum((unsigned char)*fp->p))
			fp->p++;
		r = reg_number(start, (size_t)(fp->p - start));
		return r < 0 ? -EINVAL : emit(fp, VS_FOP_REG, r);
	}
	if (at_deref(fp))
		return parse_deref(fp);
	if (number(fp, &v))
		return -EINVAL;
	return emit(fp, VS_FOP_CONST, v);
}

static int parse_fetch(struct fetch_parser *fp)
{
	int rc = parse_term(fp);

	while (!rc && (*fp->p == '+' || *fp->p == '-') && !at_deref(fp)) {
		int64_t v;

		rc = number(fp, &v);
		if (!rc)
			rc = emit(fp, VS_FOP_ADD, v);
	}
	if (!rc && !strncmp(fp->p, ":s32", 4)) {
		fp->p += 4;
		rc = emit(fp, VS_FOP_SEXT32, 0);
	}
	return rc;
}

int vs_fetch_compile(const char *expr, struct vs_fetch *f)
{
	struct fetch_parser fp = { .p = expr, .f = f };
	int rc;

	memset(f, 0, sizeof(*f));
	rc = parse_fetch(&fp);
	if (!rc && *fp.p)
		rc = -EINVAL;
	return rc;
}

/* ---- profile lines ---- */

static const struct {
	const char *name;
	enum vs_probe_kind kind;
} kinds[] = {
	{ "lock.request", VS_PK_LOCK_REQUEST },   { "lock.acquired", VS_PK_LOCK_ACQUIRED },
	{ "lock.release", VS_PK_LOCK_RELEASE },   { "span.begin", VS_PK_SPAN_BEGIN },
	{ "span.end", VS_PK_SPAN_END },           { "fork.begin", VS_PK_FORK_BEGIN },
	{ "fork.end", VS_PK_FORK_END },           { "exec", VS_PK_EXEC },
	{ "loop.begin", VS_PK_LOOP_BEGIN },       { "loop.end", VS_PK_LOOP_END },
	{ "loop.dispatch", VS_PK_LOOP_DISPATCH }, { "keepalive.sent", VS_PK_KEEPALIVE_SENT },
	{ "keepalive.received", VS_PK_KEEPALIVE_RECV },
	{ "keepalive.timeout", VS_PK_KEEPALIVE_TIMEOUT },
	{ "thread.job", VS_PK_THREAD_JOB },       { "lock.cond-wait", VS_PK_LOCK_COND_WAIT },
	{ "rpc.receive", VS_PK_RPC_RECEIVE },     { "rpc.dispatch", VS_PK_RPC_DISPATCH },
	{ "rpc.reply", VS_PK_RPC_REPLY },         { "thread.object", VS_PK_THREAD_OBJECT },
};

static const struct {
	const char *name;
	enum vs_span_kind span;
} spans[] = {
	{ "rpc", VS_SPAN_RPC }, { "dbus", VS_SPAN_DBUS }, { "caps", VS_SPAN_CAPS_LOOKUP },
	{ "qmp", VS_SPAN_QMP }, { "op", VS_SPAN_OPERATION },
	{ "func", VS_SPAN_FUNCTION },
};

static const char *const num_fields[VS_PROBE_NUMS] = {
	"addr", "id", "result", "value", "timeout", "aux", "type", "prog",
};
static const char *const str_fields[VS_PROBE_STRS] = { "name", "object", "kind", "detail" };

#define MAX_TOKENS 24

struct line {
	char *tok[MAX_TOKENS];
	int n;
	int number;
};

/* Splits buf in place on blanks; "quoted strings" stay whole. */
static int tokenize(char *buf, struct line *l)
{
	char *p = buf;

	l->n = 0;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (l->n == MAX_TOKENS)
			return -E2BIG;
		if (*p == '"') {
			l->tok[l->n++] = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return -EINVAL;
		} else {
			l->tok[l->n++] = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "line %d: ", line);

	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_kind(const char *tok, struct vs_probe_spec *spec)
{
	const char *colon = strchr(tok, ':');
	size_t len = colon ? (size_t)(colon - tok) : strlen(tok);

	for (size_t i = 0; i < VS_ARRAY_SIZE(kinds); i++) {
		if (strlen(kinds[i].name) != len || strncmp(kinds[i].name, tok, len))
			continue;
		spec->kind = kinds[i].kind;
		if (spec->kind != VS_PK_SPAN_BEGIN && spec->kind != VS_PK_SPAN_END)
			return colon ? -EINVAL : 0;
		if (!colon)
			return -EINVAL;
		for (size_t j = 0; j < VS_ARRAY_SIZE(spans); j++)
			if (!strcmp(spans[j].name, colon + 1)) {
				spec->span = spans[j].span;
				return 0;
			}
		return -EINVAL;
	}
	return -EINVAL;
}

/* usdt:BINARY:PROVIDER:NAME, uprobe:BINARY:SYMBOL, uretprobe:BINARY:SYMBOL */
static int parse_where(char *tok, struct vs_profile_probe *pp)
{
	char *parts[4] = { 0 };
	int n = 0;

	for (char *s = tok; n < 4; n++) {
		parts[n] = s;
		s = strchr(s, ':');
		if (!s) {
			n++;
			break;
		}
		*s++ = '\0';
	}
	if (!strcmp(parts[0], "usdt") && n == 4) {
		pp->where = VS_WHERE_USDT;
		snprintf(pp->provider, sizeof(pp->provider), "%s", parts[2]);
		snprintf(pp->name, sizeof(pp->name), "%s", parts[3]);
	} else if ((!strcmp(parts[0], "uprobe") || !strcmp(parts[0], "uretprobe")) && n == 3) {
		char *plus = strchr(parts[2], '+');

		pp->where = parts[0][1] == 'r' ? VS_WHERE_URETPROBE : VS_WHERE_UPROBE;
		if (plus) {
			char *end;

			*plus = '\0';
			pp->offset = strtoull(plus + 1, &end, 0);
			if (*end || pp->where == VS_WHERE_URETPROBE)
				return -EINVAL;
		}
		snprintf(pp->name, sizeof(pp->name), "%s", parts[2]);
	} else {
		return -EINVAL;
	}
	if (!*parts[1] || !*pp->name)
		return -EINVAL;
	snprintf(pp->binary, sizeof(pp->binary), "%s", parts[1]);
	return 0;
}

static int parse_field(char *tok, struct vs_probe_spec *spec)
{
	char *eq = strchr(tok, '=');

	if (!eq)
		return -EINVAL;
	*eq = '\0';
	for (int i = 0; i < VS_PROBE_NUMS; i++)
		if (!strcmp(tok, num_fields[i])) {
			spec->nums_mask |= 1u << i;
			return vs_fetch_compile(eq + 1, &spec->nums[i]);
		}
	for (int i = 0; i < VS_PROBE_STRS; i++)
		if (!strcmp(tok, str_fields[i])) {
			spec->strs_mask |= 1u << i;
			return vs_fetch_compile(eq + 1, &spec->strs[i]);
		}
	return -EINVAL;
}

/* A uretprobe takes over the fields of the uprobe on the same function. */
static void link_return(struct vs_profile *p, struct vs_profile_probe *pp)
{
	for (size_t i = 0; i < p->nr_probes; i++) {
		struct vs_profile_probe *e = &p->probes[i];

		if (e->where == VS_WHERE_UPROBE && !strcmp(e->binary, pp->binary) &&
		    !strcmp(e->name, pp->name)) {
			e->spec.flags |= VS_PF_STASH;
			pp->spec.flags |= VS_PF_RETURN;
			pp->spec.entry_probe = (__u32)i;
		}
	}
}

static int parse_probe(struct vs_profile *p, struct line *l, char *err, size_t errlen)
{
	struct vs_profile_probe *pp, *grown;

	if (l->n < 4 || strcmp(l->tok[2], "at"))
		return fail(err, errlen, l->number, "expected 'probe KIND at WHERE FIELD=FETCH...'");
	if (p->nr_probes == VS_PROBE_MAX)
		return fail(err, errlen, l->number, "more than %d probes", VS_PROBE_MAX);
	grown = realloc(p->probes, (p->nr_probes + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	p->probes = grown;
	pp = &p->probes[p->nr_probes];
	memset(pp, 0, sizeof(*pp));
	pp->line = l->number;
	if (parse_kind(l->tok[1], &pp->spec))
		return fail(err, errlen, l->number, "unknown probe kind '%s'", l->tok[1]);
	if (parse_where(l->tok[3], pp))
		return fail(err, errlen, l->number, "bad probe point '%s'", l->tok[3]);
	for (int i = 4; i < l->n; i++) {
		if (!strcmp(l->tok[i], "stack"))
			pp->spec.flags |= VS_PF_STACK;
		else if (!strcmp(l->tok[i], "children"))
			pp->children = 1;
		else if (!strcmp(l->tok[i], "unnested"))
			pp->unnested = 1;
		else if (!strcmp(l->tok[i], "error-if-null"))
			pp->error_if_null = 1;
		else if (!strcmp(l->tok[i], "timeout-unit=us"))
			pp->timeout_us = 1;
		else if (!strcmp(l->tok[i], "timeout-unit=ms"))
			pp->timeout_us = 0;
		else if (!strncmp(l->tok[i], "timeout-default=", 16)) {
			char *end;

			pp->timeout_default_ms = strtoull(l->tok[i] + 16, &end, 10);
			if (end == l->tok[i] + 16 || *end)
				return fail(err, errlen, l->number, "expected timeout-default=MILLISECONDS");
		}
		else if (!strncmp(l->tok[i], "check=", 6)) {
			unsigned int mask, value;

			if (sscanf(l->tok[i] + 6, "%i:%i", &mask, &value) != 2)
				return fail(err, errlen, l->number, "expected check=MASK:VALUE");
			pp->spec.check_mask = mask;
			pp->spec.check_value = value;
		} else if (!strncmp(l->tok[i], "object-if-kind=", 15)) {
			if (strlen(l->tok[i] + 15) >= sizeof(pp->spec.object_if_kind))
				return fail(err, errlen, l->number, "object-if-kind name too long");
			memcpy(pp->spec.object_if_kind, l->tok[i] + 15, strlen(l->tok[i] + 15));
		}
		else if (parse_field(l->tok[i], &pp->spec))
			return fail(err, errlen, l->number, "bad field '%s'", l->tok[i]);
	}
	if (pp->where == VS_WHERE_URETPROBE)
		link_return(p, pp);
	p->nr_probes++;
	return 0;
}

static int parse_role(struct vs_profile *p, struct line *l, char *err, size_t errlen)
{
	struct vs_profile_role *r;
	size_t n;

	if (l->n != 3)
		return fail(err, errlen, l->number, "expected 'role THREADNAME ROLE'");
	if (p->nr_roles == VS_PROFILE_MAX_ROLES)
		return fail(err, errlen, l->number, "too many roles");
	r = &p->roles[p->nr_roles++];
	n = strlen(l->tok[1]);
	r->prefix = n && l->tok[1][n - 1] == '*';
	snprintf(r->thread, sizeof(r->thread), "%.*s", (int)(n - (size_t)r->prefix), l->tok[1]);
	snprintf(r->role, sizeof(r->role), "%s", l->tok[2]);
	return 0;
}

static int parse_match(struct vs_profile *p, struct line *l, char *err, size_t errlen)
{
	if (l->n != 3)
		return fail(err, errlen, l->number, "expected 'match comm|exe|usdt VALUE'");
	if (!strcmp(l->tok[1], "comm"))
		p->match = VS_MATCH_COMM;
	else if (!strcmp(l->tok[1], "exe"))
		p->match = VS_MATCH_EXE;
	else if (!strcmp(l->tok[1], "usdt"))
		p->match = VS_MATCH_USDT;
	else
		return fail(err, errlen, l->number, "unknown match '%s'", l->tok[1]);
	snprintf(p->match_value, sizeof(p->match_value), "%s", l->tok[2]);
	return 0;
}

/* procedure PROG NUM NAME */
static int parse_procedure(struct vs_profile *p, struct line *l, char *err, size_t errlen)
{
	struct vs_profile_procedure *pr;
	unsigned long long prog, num;
	char *end1, *end2;

	errno = 0;
	prog = strtoull(l->tok[1], &end1, 0);
	num = strtoull(l->tok[2], &end2, 0);
	if (errno || *end1 || *end2 || prog > UINT32_MAX || num > UINT32_MAX ||
	    strlen(l->tok[3]) >= sizeof(pr->name))
		return fail(err, errlen, l->number, "procedure wants PROG NUM NAME");
	if ((p->nr_procedures & (p->nr_procedures - 1)) == 0) {
		size_t cap = p->nr_procedures ? p->nr_procedures * 2 : 1;
		void *grown = realloc(p->procedures, cap * sizeof(*pr));

		if (!grown)
			return -ENOMEM;
		p->procedures = grown;
	}
	pr = &p->procedures[p->nr_procedures++];
	pr->prog = (uint32_t)prog;
	pr->num = (uint32_t)num;
	snprintf(pr->name, sizeof(pr->name), "%s", l->tok[3]);
	return 0;
}

/* job pthread-key BINARY+OFFSET */
static int parse_job_key(struct vs_profile *p, struct line *l, char *err, size_t errlen)
{
	const char *plus = strrchr(l->tok[2], '+');
	char *end;

	if (!plus || plus == l->tok[2] || (size_t)(plus - l->tok[2]) >= sizeof(p->job_key.binary))
		return fail(err, errlen, l->number, "job pthread-key wants BINARY+OFFSET, not '%s'",
			    l->tok[2]);
	errno = 0;
	p->job_key.offset = strtoull(plus + 1, &end, 0);
	if (errno || *end || end == plus + 1 || !p->job_key.offset)
		return fail(err, errlen, l->number, "bad offset in '%s'", l->tok[2]);
	memcpy(p->job_key.binary, l->tok[2], (size_t)(plus - l->tok[2]));
	p->job_key.binary[plus - l->tok[2]] = '\0';
	return 0;
}

static int parse_line(struct vs_profile *p, struct line *l, char *err, size_t errlen)
{
	const char *kw = l->tok[0];

	if (!strcmp(kw, "profile") && l->n == 2) {
		snprintf(p->name, sizeof(p->name), "%s", l->tok[1]);
		return 0;
	}
	if (!strcmp(kw, "describe") && l->n == 2) {
		snprintf(p->describe, sizeof(p->describe), "%s", l->tok[1]);
		return 0;
	}
	if (!strcmp(kw, "match"))
		return parse_match(p, l, err, errlen);
	if (!strcmp(kw, "require") && l->n == 4 && !strcmp(l->tok[1], "build-id")) {
		if (p->nr_build_ids == VS_PROFILE_MAX_BUILD_IDS)
			return fail(err, errlen, l->number, "too many build-ids");
		snprintf(p->build_ids[p->nr_build_ids].binary,
			 sizeof(p->build_ids[0].binary), "%s", l->tok[2]);
		snprintf(p->build_ids[p->nr_build_ids].hex, sizeof(p->build_ids[0].hex), "%s",
			 l->tok[3]);
		p->nr_build_ids++;
		return 0;
	}
	if (!strcmp(kw, "procedure") && l->n == 4)
		return parse_procedure(p, l, err, errlen);
	if (!strcmp(kw, "job") && l->n == 3 && !strcmp(l->tok[1], "pthread-key"))
		return parse_job_key(p, l, err, errlen);
	if (!strcmp(kw, "role"))
		return parse_role(p, l, err, errlen);
	if (!strcmp(kw, "probe"))
		return parse_probe(p, l, err, errlen);
	return fail(err, errlen, l->number, "unknown keyword '%s'", kw);
}

static int procedure_cmp(const void *a, const void *b);

int vs_profile_parse(struct vs_profile *p, const char *text, char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *lp;
	struct line l = { 0 };
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (!copy)
		return -ENOMEM;
	/* strtok_r would merge empty lines and so misnumber them. */
	for (lp = copy; lp && !rc; lp = save) {
		save = strchr(lp, '\n');
		if (save)
			*save++ = '\0';
		l.number++;
		rc = tokenize(lp, &l);
		if (rc)
			rc = fail(err, errlen, l.number, "unbalanced quote or too many words");
		else if (l.n)
			rc = parse_line(p, &l, err, errlen);
	}
	if (!rc && !p->name[0])
		rc = fail(err, errlen, l.number, "the profile has no 'profile NAME' line");
	if (!rc && p->nr_procedures)
		qsort(p->procedures, p->nr_procedures, sizeof(*p->procedures), procedure_cmp);
	free(copy);
	return rc;
}

void vs_profile_release(struct vs_profile *p)
{
	free(p->probes);
	p->probes = NULL;
	p->nr_probes = 0;
	free(p->procedures);
	p->procedures = NULL;
	p->nr_procedures = 0;
}

static int procedure_cmp(const void *a, const void *b)
{
	const struct vs_profile_procedure *x = a, *y = b;

	if (x->prog != y->prog)
		return x->prog < y->prog ? -1 : 1;
	return (x->num > y->num) - (x->num < y->num);
}

const char *vs_profile_procedure_name(const struct vs_profile *p, uint32_t prog, uint32_t num)
{
	struct vs_profile_procedure key = { .prog = prog, .num = num }, *found;

	if (!p->nr_procedures)
		return NULL;
	found = bsearch(&key, p->procedures, p->nr_procedures, sizeof(key), procedure_cmp);
	return found ? found->name : NULL;
}

const char *vs_profile_role_of(const struct vs_profile *p, const char *thread)
{
	for (size_t i = 0; i < p->nr_roles; i++) {
		const struct vs_profile_role *r = &p->roles[i];

		if (r->prefix ? !strncmp(thread, r->thread, strlen(r->thread))
			      : !strcmp(thread, r->thread))
			return r->role;
	}
	return NULL;
}
