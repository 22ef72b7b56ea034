/*
 * ctl_member.c - `raftkvctl member list | add | promote | remove`: GET
 * /v1/members (the leader's view: role, peer address, URL, match index,
 * caught up), POST /v1/members (a learner, promoted by the leader once
 * caught up unless --learner), POST /v1/members/ID/promote and DELETE
 * /v1/members/ID (a leader hands over first; --force: ?force=true, past the
 * would_lose_quorum refusal). Each change is answered once
 * committed (docs/api.md "Membership").
 */
#include "ctl_member.h"

#include "ctl_http.h"
#include "ctl_json.h"
#include "ctl_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_MEMBER_ID_MAX 65535ul

static void member_print_list(struct ctl_json_span root)
{
	static const char *const fields[] = {"id",          "role",      "peer_address", "url",
	                                     "match_index", "caught_up", "live"};
	struct ctl_json_span members, m;
	const char *cursor = NULL;

	fputs("leader ", stdout);
	ctl_out_field(root, "leader");
	fputs(", commit ", stdout);
	ctl_out_field(root, "commit_index");
	fputs("\nmembers (id role peer-address url match caught-up live):\n", stdout);
	if (ctl_json_member(root, "members", &members) != 0)
		return;
	while (ctl_json_next(members, &cursor, &m) == 1) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			fputs(i == 0 ? "  " : " ", stdout);
			ctl_out_field(m, fields[i]);
		}
		putchar('\n');
	}
}

/* ID as a member id 1..65535 into *id; -1 when it is not one (bad usage). */
static int member_id(const char *text, unsigned long *id)
{
	char *end = NULL;

	*id = strtoul(text, &end, 10);
	if (text[0] < '1' || text[0] > '9' || *end != '\0' || *id > CTL_MEMBER_ID_MAX)
		return -1;
	return 0;
}

/* Sends a change and prints "what" (or the answer with --output json). */
static int member_change(const struct ctl_ctx *ctx, struct ctl_http_req *req, const char *what)
{
	struct ctl_http_resp resp;
	int code = ctl_out_outcome(ctx, ctl_http_do(ctx, req, &resp), &resp);

	if (code == CTL_EXIT_OK) {
		if (ctx->output == CTL_OUTPUT_JSON)
			ctl_out_body(&resp);
		else
			printf("%s\n", what);
	}
	ctl_http_resp_free(&resp);
	return code;
}

/* `remove ID [--force]`: --force removes even if too few live voters would remain. */
static int member_remove(const struct ctl_ctx *ctx, int argc, char **argv)
{
	char path[64], what[64];
	const char *id_text = NULL;
	int force = 0;
	unsigned long id;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (argv[i][0] == '-' || id_text != NULL)
			return -1;
		else
			id_text = argv[i];
	}
	if (id_text == NULL || member_id(id_text, &id) != 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/members/%lu%s", id, force ? "?force=true" : "");
	snprintf(what, sizeof(what), "member %lu removed", id);
	struct ctl_http_req req = {.method = "DELETE", .path = path};
	return member_change(ctx, &req, what);
}

static int member_promote(const struct ctl_ctx *ctx, const char *id_text)
{
	char path[64], what[64];
	unsigned long id;

	if (member_id(id_text, &id) != 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/members/%lu/promote", id);
	snprintf(what, sizeof(what), "member %lu promoted to voter", id);
	struct ctl_http_req req = {.method = "POST", .path = path};
	return member_change(ctx, &req, what);
}

/* The words of `member add`: ID PEER URL in order, --learner and --curve-key Z85 anywhere. */
struct member_add_args {
	const char *pos[3];
	int n_pos;
	int learner;
	const char *curve_key;
};

static int member_add_parse(int argc, char **argv, struct member_add_args *a)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--learner") == 0)
			a->learner = 1;
		else if (strcmp(argv[i], "--curve-key") == 0 && i + 1 < argc)
			a->curve_key = argv[++i];
		else if (argv[i][0] == '-' || a->n_pos == 3)
			return -1;
		else
			a->pos[a->n_pos++] = argv[i];
	}
	return a->n_pos == 3 ? 0 : -1;
}

/* The JSON body of POST /v1/members into *body (malloc'd); 0 or -1. */
static int member_add_body(const struct member_add_args *a, unsigned long id, char **body,
                           size_t *len)
{
	FILE *f = open_memstream(body, len);

	if (f == NULL)
		return -1;
	fprintf(f, "{\"id\":%lu,\"peer_address\":", id);
	ctl_json_write_string(f, a->pos[1], strlen(a->pos[1]));
	fputs(",\"url\":", f);
	ctl_json_write_string(f, a->pos[2], strlen(a->pos[2]));
	if (a->curve_key != NULL) {
		fputs(",\"curve_key\":", f);
		ctl_json_write_string(f, a->curve_key, strlen(a->curve_key));
	}
	fprintf(f, ",\"promote\":%s}", a->learner ? "false" : "true");
	return fclose(f) == 0 ? 0 : -1;
}

static int member_add(const struct ctl_ctx *ctx, int argc, char **argv)
{
	struct member_add_args a = {0};
	unsigned long id;
	char *body = NULL, what[96];
	size_t len = 0;
	int code;

	if (member_add_parse(argc, argv, &a) != 0 || member_id(a.pos[0], &id) != 0)
		return -1;
	if (member_add_body(&a, id, &body, &len) != 0) {
		free(body);
		fprintf(stderr, "raftkvctl: out of memory\n");
		return CTL_EXIT_USAGE;
	}
	snprintf(what, sizeof(what), "member %lu added as a learner%s", id,
	         a.learner ? "" : " (promoted once caught up)");
	struct ctl_http_req req = {
	    .method = "POST", .path = "/v1/members", .body = body, .body_len = len};
	code = member_change(ctx, &req, what);
	free(body);
	return code;
}

int ctl_member(const struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return ctl_out_get_json(ctx, "/v1/members", member_print_list);
	if (argc >= 2 && strcmp(argv[0], "remove") == 0)
		return member_remove(ctx, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[0], "promote") == 0)
		return member_promote(ctx, argv[1]);
	if (argc >= 1 && strcmp(argv[0], "add") == 0)
		return member_add(ctx, argc - 1, argv + 1);
	return -1;
}
