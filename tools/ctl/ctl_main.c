/*
 * ctl_main.c - raftkvctl, the command-line client for raftkv's HTTP API:
 *
 *   raftkvctl [OPTIONS] COMMAND [ARGS]      (raftkvctl --help lists both)
 *
 * It reads the global options (and their RAFTKV_* environment variables),
 * finds the command's row in ctl_table.c and runs it. It needs only libc,
 * OpenSSL (https) and libzmq (keygen), so it is also the health probe inside
 * the container image, which has no shell and no curl.
 */
#include "ctl.h"

#include "ctl_endpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_DEFAULT_ENDPOINT "http://127.0.0.1:4001"

static const char ctl_options_help[] =
    "options (each also read from the environment variable in brackets):\n"
    "  --endpoints URL,URL,...  gateways to try in order, http:// or https:// "
    "[RAFTKV_ENDPOINTS]\n"
    "                           (default " CTL_DEFAULT_ENDPOINT ")\n"
    "  --url URL                one gateway, as --endpoints URL [RAFTKV_URL]\n"
    "  --token TOKEN            sent as Authorization: Bearer [RAFTKV_TOKEN]\n"
    "  --token-file FILE        the token from FILE's first line [RAFTKV_TOKEN_FILE]\n"
    "  --cacert FILE            CAs that sign the gateways' certificates (default: the\n"
    "                           system's) [RAFTKV_CACERT]\n"
    "  --cert FILE, --key FILE  a client certificate and its key [RAFTKV_CERT, RAFTKV_KEY]\n"
    "  --output human|json      how answers are printed (default human) [RAFTKV_OUTPUT]\n"
    "  --timeout-ms N           per connection step, 1..600000 (default 5000)\n"
    "exit codes: 0 done, 1 refused (not found, condition failed, 401/403),\n"
    "            2 bad usage, 3 no endpoint answered or all were unavailable (503)\n";

int ctl_cmd_usage(const struct ctl_cmd *cmd)
{
	fprintf(stderr, "usage: raftkvctl [OPTIONS] %s%s%s\n", cmd->name, cmd->usage[0] ? " " : "",
	        cmd->usage);
	return CTL_EXIT_USAGE;
}

static void ctl_help_all(FILE *f)
{
	fprintf(f, "usage: raftkvctl [OPTIONS] COMMAND [ARGS]   (raftkvctl COMMAND --help)\n"
	           "commands:\n");
	for (const struct ctl_cmd *c = ctl_cmds; c->name != NULL; c++)
		fprintf(f, c->usage[0] ? "  %-7s %s\n" : "  %s%s\n", c->name, c->usage);
	fputs(ctl_options_help, f);
}

static void ctl_help_cmd(const struct ctl_cmd *cmd)
{
	printf("usage: raftkvctl [OPTIONS] %s %s\n\n%s\n\n%s", cmd->name, cmd->usage, cmd->help,
	       ctl_options_help);
}

/* Reads the token from the first line of path into ctx->token; -1 (message) on failure. */
static int ctl_read_token_file(const char *path, struct ctl_ctx *ctx)
{
	char why[KV_HTTP_WHY_BYTES + 4096];
	if (kv_http_token_read_file(path, ctx->token, sizeof(ctx->token), why, sizeof(why)) != 0) {
		fprintf(stderr, "raftkvctl: %s\n", why);
		return -1;
	}
	return 0;
}

static int ctl_set_token(const char *token, struct ctl_ctx *ctx)
{
	size_t len = strlen(token);
	if (len == 0 || len >= sizeof(ctx->token) || strpbrk(token, "\r\n") != NULL) {
		fprintf(stderr, "raftkvctl: the token is empty, too long or has a line break\n");
		return -1;
	}
	memcpy(ctx->token, token, len + 1);
	return 0;
}

static int ctl_set_output(const char *v, struct ctl_ctx *ctx)
{
	if (strcmp(v, "json") == 0)
		ctx->output = CTL_OUTPUT_JSON;
	else if (strcmp(v, "human") == 0)
		ctx->output = CTL_OUTPUT_HUMAN;
	else
		return -1;
	return 0;
}

/* Applies one option and its value; -1 for an unknown option or a bad value. */
static int ctl_set_option(const char *name, const char *v, struct ctl_ctx *ctx)
{
	if (strcmp(name, "endpoints") == 0 || strcmp(name, "url") == 0)
		return ctl_endpoint_parse_list(v, ctx);
	if (strcmp(name, "token") == 0)
		return ctl_set_token(v, ctx);
	if (strcmp(name, "token-file") == 0)
		return ctl_read_token_file(v, ctx);
	if (strcmp(name, "cacert") == 0)
		ctx->cacert = v;
	else if (strcmp(name, "cert") == 0)
		ctx->cert = v;
	else if (strcmp(name, "key") == 0)
		ctx->key = v;
	else if (strcmp(name, "output") == 0)
		return ctl_set_output(v, ctx);
	else if (strcmp(name, "timeout-ms") == 0) {
		char *stop;
		long ms = strtol(v, &stop, 10);
		if (*stop != '\0' || ms < 1 || ms > 600000)
			return -1;
		ctx->timeout_ms = (int)ms;
	} else {
		return -1;
	}
	return 0;
}

/* The environment first (RAFTKV_URL before RAFTKV_ENDPOINTS, so the newer wins). */
static int ctl_from_env(struct ctl_ctx *ctx)
{
	static const char *const names[][2] = {
	    {"RAFTKV_URL", "url"},       {"RAFTKV_ENDPOINTS", "endpoints"},
	    {"RAFTKV_TOKEN", "token"},   {"RAFTKV_TOKEN_FILE", "token-file"},
	    {"RAFTKV_CACERT", "cacert"}, {"RAFTKV_CERT", "cert"},
	    {"RAFTKV_KEY", "key"},       {"RAFTKV_OUTPUT", "output"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i][0]);
		if (v != NULL && v[0] != '\0' && ctl_set_option(names[i][1], v, ctx) != 0) {
			fprintf(stderr, "raftkvctl: bad %s\n", names[i][0]);
			return -1;
		}
	}
	return 0;
}

/* Global options in argv[1..]; returns the index of the command word, or -1. */
static int ctl_parse_options(int argc, char **argv, struct ctl_ctx *ctx)
{
	int a = 1;
	while (a < argc && strncmp(argv[a], "--", 2) == 0 && strcmp(argv[a], "--help") != 0) {
		char name[32];
		const char *eq = strchr(argv[a], '=');
		size_t len = eq ? (size_t)(eq - argv[a] - 2) : strlen(argv[a] + 2);
		if (len >= sizeof(name))
			return -1;
		memcpy(name, argv[a] + 2, len);
		name[len] = '\0';
		const char *v = eq ? eq + 1 : (a + 1 < argc ? argv[++a] : NULL);
		if (v == NULL || ctl_set_option(name, v, ctx) != 0) {
			fprintf(stderr, "raftkvctl: bad option --%s\n", name);
			return -1;
		}
		a++;
	}
	return a;
}

static int ctl_has_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct ctl_ctx ctx = {.timeout_ms = 5000};
	/* a server that closes first (a refused client certificate under TLS 1.3) is an error
	 * value from write, not a signal that ends the process */
	signal(SIGPIPE, SIG_IGN);
	ctl_endpoint_parse_list(CTL_DEFAULT_ENDPOINT, &ctx);
	if (ctl_from_env(&ctx) != 0)
		return CTL_EXIT_USAGE;
	int a = ctl_parse_options(argc, argv, &ctx);
	if (a < 0 || a >= argc || strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
		int asked = a > 0 && a < argc;
		ctl_help_all(asked ? stdout : stderr);
		return asked ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	const struct ctl_cmd *cmd = ctl_cmds;
	while (cmd->name != NULL && strcmp(cmd->name, argv[a]) != 0)
		cmd++;
	if (cmd->name == NULL) {
		fprintf(stderr, "raftkvctl: no command '%s'\n", argv[a]);
		ctl_help_all(stderr);
		return CTL_EXIT_USAGE;
	}
	if (ctl_has_help(argc - a - 1, argv + a + 1)) {
		ctl_help_cmd(cmd);
		return CTL_EXIT_OK;
	}
	int code = cmd->run(&ctx, argc - a - 1, argv + a + 1);
	return code < 0 ? ctl_cmd_usage(cmd) : code;
}
