/*
 * kv_opts.c - flags and environment variables into typed targets.
 * Runs once at start, on the main thread.
 */
#include "kv_opts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTS_SET_MAX 64

void kv_opts_env_name(const char *flag, char *out, int out_len)
{
	int n = snprintf(out, (size_t)out_len, "RAFTKV_");
	for (const char *p = flag; *p != '\0' && n < out_len - 1; p++)
		out[n++] = (*p == '-') ? '_' : (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
	out[n] = '\0';
}

static int opts_parse_u64(const char *text, uint64_t *out)
{
	if (text[0] == '\0' || text[0] == '-')
		return -1;
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int opts_parse_bool(const char *text, int *out)
{
	if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0 || strcmp(text, "yes") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0 || strcmp(text, "no") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

/* Stores text into o's target; prints why not and returns -1 on a bad value. */
static int opts_set(const struct kv_opt *o, const char *text, const char *source)
{
	uint64_t v = 0;
	switch (o->type) {
	case KV_OPT_STR:
		*(const char **)o->target = text;
		return 0;
	case KV_OPT_BOOL:
		if (opts_parse_bool(text, (int *)o->target) == 0)
			return 0;
		fprintf(stderr, "error: %s --%s: \"%s\" is not a boolean (true or false)\n", source,
		        o->name, text);
		return -1;
	case KV_OPT_U64:
		if (opts_parse_u64(text, &v) != 0) {
			fprintf(stderr, "error: %s --%s: \"%s\" is not a whole number\n", source,
			        o->name, text);
			return -1;
		}
		if (v < o->min || v > o->max) {
			fprintf(stderr,
			        "error: %s --%s: %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64
			        "]\n",
			        source, o->name, v, o->min, o->max);
			return -1;
		}
		*(uint64_t *)o->target = v;
		return 0;
	}
	return -1;
}

static void opts_print_help(const struct kv_opt *opts, int n, const char *prog, const char *summary)
{
	printf("usage: %s [flags]\n%s\n\nflags (each also read from its environment variable):\n",
	       prog, summary);
	for (int i = 0; i < n; i++) {
		char env[96];
		kv_opts_env_name(opts[i].name, env, (int)sizeof(env));
		printf("  --%-22s %s\n  %-24s env %s", opts[i].name, opts[i].help, "", env);
		if (opts[i].default_value != NULL)
			printf(", default %s",
			       opts[i].default_value[0] ? opts[i].default_value : "\"\"");
		if (opts[i].required)
			printf(", required");
		printf("\n");
	}
	printf("  --%-22s print this help and exit\n", "help");
}

static int opts_find(const struct kv_opt *opts, int n, const char *name, size_t name_len)
{
	for (int i = 0; i < n; i++)
		if (strlen(opts[i].name) == name_len && strncmp(opts[i].name, name, name_len) == 0)
			return i;
	return -1;
}

static int opts_apply_env(const struct kv_opt *opts, int n, int *set)
{
	for (int i = 0; i < n; i++) {
		char env[96];
		kv_opts_env_name(opts[i].name, env, (int)sizeof(env));
		const char *v = getenv(env);
		if (v == NULL)
			continue;
		char source[128];
		snprintf(source, sizeof(source), "environment %s for", env);
		if (opts_set(&opts[i], v, source) != 0)
			return -1;
		set[i] = 1;
	}
	return 0;
}

static int opts_apply_argv(const struct kv_opt *opts, int n, int argc, char **argv, int *set)
{
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a];
		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "error: unexpected argument \"%s\" (flags start with --)\n",
			        arg);
			return -1;
		}
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
		int i = opts_find(opts, n, name, name_len);
		if (i < 0) {
			fprintf(stderr, "error: unknown flag \"%s\" (see --help)\n", arg);
			return -1;
		}
		const char *value = eq ? eq + 1 : NULL;
		if (value == NULL && opts[i].type == KV_OPT_BOOL)
			value = "true";
		if (value == NULL) {
			if (a + 1 >= argc) {
				fprintf(stderr, "error: flag --%s needs a value\n", opts[i].name);
				return -1;
			}
			value = argv[++a];
		}
		if (opts_set(&opts[i], value, "flag") != 0)
			return -1;
		set[i] = 1;
	}
	return 0;
}

enum kv_opts_result kv_opts_parse(const struct kv_opt *opts, int n, int argc, char **argv,
                                  const char *prog, const char *summary)
{
	int set[OPTS_SET_MAX] = {0};
	if (n > OPTS_SET_MAX)
		return KV_OPTS_BAD;
	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
			opts_print_help(opts, n, prog, summary);
			return KV_OPTS_HELP;
		}
	}
	for (int i = 0; i < n; i++) {
		if (opts[i].default_value != NULL &&
		    opts_set(&opts[i], opts[i].default_value, "default of") != 0)
			return KV_OPTS_BAD;
		set[i] = opts[i].default_value != NULL;
	}
	if (opts_apply_env(opts, n, set) != 0 || opts_apply_argv(opts, n, argc, argv, set) != 0)
		return KV_OPTS_BAD;
	for (int i = 0; i < n; i++) {
		if (opts[i].required && !set[i]) {
			char env[96];
			kv_opts_env_name(opts[i].name, env, (int)sizeof(env));
			fprintf(stderr, "error: --%s (or %s) is required: %s\n", opts[i].name, env,
			        opts[i].help);
			return KV_OPTS_BAD;
		}
	}
	return KV_OPTS_OK;
}
