/*
 * kv_log.c - key=value log lines on stderr.
 */
#include "kv_log.h"

#include "kv_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum kv_log_level log_threshold = KV_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void kv_log_set_level(enum kv_log_level level)
{
	log_threshold = level;
}

int kv_log_parse_level(const char *text, enum kv_log_level *level)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*level = (enum kv_log_level)i;
			return 0;
		}
	}
	return KV_EINVAL;
}

void kv_log(enum kv_log_level level, const char *svc, const char *msg, const char *fields_fmt, ...)
{
	if (level < log_threshold)
		return;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof(line),
	                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=%s msg=\"%s\"",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, (long)(tv.tv_usec / 1000), level_names[level], svc, msg);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (fields_fmt != NULL && fields_fmt[0] != '\0') {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fields_fmt);
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fields_fmt, ap);
		va_end(ap);
		if (m > 0)
			n += m < (int)(sizeof(line) - (size_t)n - 1)
			         ? m
			         : (int)(sizeof(line) - (size_t)n - 2);
	}
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}
