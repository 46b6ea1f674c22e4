/* Levelled logging to stderr: the one place virtscope talks to the user about
 * anything that is not a result. Results go to stdout; collectors never print. */
#ifndef VS_LOG_H
#define VS_LOG_H

#include <stdarg.h>

enum vs_log_level {
	VS_LOG_ERROR,
	VS_LOG_WARN,
	VS_LOG_INFO,
	VS_LOG_DEBUG,
	VS_LOG_TRACE, /* libbpf's debug output: -vvv */
};

/* Messages above this level are dropped. Raised by -v, once per -v. */
void vs_log_set_level(enum vs_log_level level);
enum vs_log_level vs_log_get_level(void);

/* While a full-screen UI owns the terminal, messages are kept in memory instead
 * of being printed; vs_log_release() prints what was kept and ends that mode. */
void vs_log_hold(void);
void vs_log_release(void);

/* Routes libbpf's own messages through this module (warnings as warnings,
 * debug output only with -vv). Call once, before opening any BPF object. */
void vs_log_route_libbpf(void);

void vs_log(enum vs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vs_vlog(enum vs_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define pr_err(...)   vs_log(VS_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  vs_log(VS_LOG_WARN, __VA_ARGS__)
#define pr_info(...)  vs_log(VS_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) vs_log(VS_LOG_DEBUG, __VA_ARGS__)

#endif
