/*
 * kv_opts.h - command-line flags with matching environment variables.
 *
 * Each daemon declares one table of struct kv_opt. kv_opts_parse() fills the
 * targets from defaults, then the environment (RAFTKV_NODE_ID for
 * "node-id"), then argv (--node-id 1 or --node-id=1), so a flag beats the
 * environment. --help prints the table. A bad value prints a clear message
 * naming the flag and makes the caller exit with status 2.
 */
#ifndef RAFTKV_KV_OPTS_H
#define RAFTKV_KV_OPTS_H

#include <stdint.h>

enum kv_opt_type { KV_OPT_STR = 1, KV_OPT_U64 = 2, KV_OPT_BOOL = 3 };

struct kv_opt {
	const char *name; /* flag without "--": "node-id" */
	enum kv_opt_type type;
	void *target;              /* const char ** for STR, uint64_t * for U64, int * for BOOL */
	const char *default_value; /* text parsed like a flag value; NULL: no default */
	uint64_t min, max;         /* U64 bounds, inclusive */
	int required;              /* 1: error if still unset after env and argv */
	const char *help;          /* one line */
};

enum kv_opts_result { KV_OPTS_OK = 0, KV_OPTS_HELP = 1, KV_OPTS_BAD = 2 };

/*
 * Parses defaults, environment and argv into the targets of opts[0..n).
 * STR targets point into argv, environ or the static defaults (borrowed for
 * the process lifetime). Returns KV_OPTS_OK; KV_OPTS_HELP after printing
 * help to stdout (exit 0); KV_OPTS_BAD after printing the error to stderr
 * (exit 2). prog and summary head the help text.
 */
enum kv_opts_result kv_opts_parse(const struct kv_opt *opts, int n, int argc, char **argv,
                                  const char *prog, const char *summary);

/* The environment variable for a flag: RAFTKV_ + upper case, '-' -> '_'. */
void kv_opts_env_name(const char *flag, char *out, int out_len);

#endif
