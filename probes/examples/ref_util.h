/* Small helpers the reference daemon and client share: clocks, sleeps,
 * number parsing, thread names and the one logging function. */
#ifndef REF_UTIL_H
#define REF_UTIL_H

#include <stdbool.h>
#include <stdint.h>

/* CLOCK_MONOTONIC, the clock every measured duration uses. */
uint64_t ref_now_ns(void);
uint64_t ref_now_ms(void);

/* Sleeps the whole time, whatever signals arrive. */
void ref_sleep_ms(uint64_t ms);

/* Parses a whole decimal string into [min, max]: 0, -EINVAL or -ERANGE. */
int ref_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Names the calling thread (15 characters at most are kept). */
void ref_set_thread_name(const char *name);

/* One line on stderr, prefixed with the program's name. Debug lines only
 * show after ref_log_init(name, true). */
void ref_log_init(const char *prog, bool verbose);
void ref_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ref_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* REF_UTIL_H */
