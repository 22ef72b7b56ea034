/*
 * kv_log.h - one line per event, key=value, to stderr, with a level.
 *
 *   KV_LOG_INFO("raftd", "became leader", "term=%llu", (unsigned long long)term);
 * prints
 *   ts=2026-11-22T09:30:00.123Z level=info svc=raftd msg="became leader" term=7
 *
 * The level threshold comes from kv_log_set_level() (the daemons read
 * RAFTKV_LOG_LEVEL / --log-level). Safe from one thread at a time per process.
 */
#ifndef RAFTKV_KV_LOG_H
#define RAFTKV_KV_LOG_H

enum kv_log_level { KV_LOG_DEBUG = 0, KV_LOG_INFO = 1, KV_LOG_WARN = 2, KV_LOG_ERROR = 3 };

/* Sets the lowest level printed (default KV_LOG_INFO). */
void kv_log_set_level(enum kv_log_level level);

/* Parses "debug", "info", "warn" or "error"; returns 0 or KV_EINVAL. */
int kv_log_parse_level(const char *text, enum kv_log_level *level);

/* Prints one line: svc and msg as given, then fields_fmt (printf-style key=value pairs). */
void kv_log(enum kv_log_level level, const char *svc, const char *msg, const char *fields_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define KV_LOG_DEBUG(svc, msg, ...) kv_log(KV_LOG_DEBUG, svc, msg, __VA_ARGS__)
#define KV_LOG_INFO(svc, msg, ...)  kv_log(KV_LOG_INFO, svc, msg, __VA_ARGS__)
#define KV_LOG_WARN(svc, msg, ...)  kv_log(KV_LOG_WARN, svc, msg, __VA_ARGS__)
#define KV_LOG_ERROR(svc, msg, ...) kv_log(KV_LOG_ERROR, svc, msg, __VA_ARGS__)

#endif
