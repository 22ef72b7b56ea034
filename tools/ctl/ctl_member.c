/*
 * ctl_member.c - `raftkvctl member list | remove ID`: GET /v1/members (the
 * leader's view: role, peer address, URL, match index, caught up) and
 * DELETE /v1/members/ID (a leader hands over first). Adding and promoting
 * have no endpoint yet (docs/api.md).
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
	static const char *const fields[] = {"id",  "role",        "peer_address",
	                                     "url", "match_index", "caught_up"};
	struct ctl_json_span members, m;
	const char *cursor = NULL;

	fputs("leader ", stdout);
	ctl_out_field(root, "leader");
	fputs(", commit ", stdout);
	ctl_out_field(root, "commit_index");
	fputs("\nmembers (id role peer-address url match caught-up):\n", stdout);
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

static int member_remove(const struct ctl_ctx *ctx, const char *id_text)
{
	char path[64], *end = NULL;
	unsigned long id = strtoul(id_text, &end, 10);
	struct ctl_http_resp resp;

	if (id_text[0] < '1' || id_text[0] > '9' || *end != '\0' || id > CTL_MEMBER_ID_MAX)
		return -1;
	snprintf(path, sizeof(path), "/v1/members/%lu", id);
	struct ctl_http_req req = {.method = "DELETE", .path = path};
	int code = ctl_out_outcome(ctx, ctl_http_do(ctx, &req, &resp), &resp);
	if (code == CTL_EXIT_OK) {
		if (ctx->output == CTL_OUTPUT_JSON)
			ctl_out_body(&resp);
		else
			printf("member %lu removed\n", id);
	}
	ctl_http_resp_free(&resp);
	return code;
}

int ctl_member(const struct ctl_ctx *ctx, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return ctl_out_get_json(ctx, "/v1/members", member_print_list);
	if (argc == 2 && strcmp(argv[0], "remove") == 0)
		return member_remove(ctx, argv[1]);
	return -1;
}
