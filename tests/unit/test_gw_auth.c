/*
 * test_gw_auth.c - the --auth-file parser and the permission check
 * (services/gatewayd/gw_auth.c): good files, every startup error (bad role,
 * short token, duplicate, empty, too many fields, too many tokens, too
 * large), the Bearer header, roles against route permissions, and prefixes
 * on single keys and on lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_auth.h"
#include "kv_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_ADMIN "admin-token-0123456789"
#define T_WRITE "write-token-0123456789"
#define T_READ  "read-token-01234567890"
#define T_APP   "app-token-012345678901"

static const char good[] =
    "# comment\n\n" T_ADMIN " admin\n" T_WRITE "\twrite\n" T_READ " read\r\n" T_APP " write app/\n";

static int parse(const char *text, struct gw_auth *a, char *why)
{
	return gw_auth_parse(text, strlen(text), a, why, 200);
}

static const struct gw_auth_token *who(const struct gw_auth *a, const char *header)
{
	return gw_auth_who(a, header, header != NULL ? strlen(header) : 0);
}

static void test_parse_good(void **state)
{
	(void)state;
	struct gw_auth a;
	char why[200];
	assert_int_equal(parse(good, &a, why), 0);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.tokens[0].role, GW_PERM_ADMIN);
	assert_int_equal(a.tokens[1].role, GW_PERM_WRITE);
	assert_int_equal(a.tokens[2].role, GW_PERM_READ);
	assert_int_equal(a.tokens[3].prefix_len, 4);
	assert_memory_equal(a.tokens[3].prefix, "app/", 4);
	gw_auth_free(&a);
	gw_auth_free(&a); /* safe twice */
}

static void expect_bad(const char *text, int err, const char *in_why)
{
	struct gw_auth a;
	char why[200] = "";
	assert_int_equal(parse(text, &a, why), err);
	if (strstr(why, in_why) == NULL)
		print_error("why: %s\n", why);
	assert_non_null(strstr(why, in_why));
	assert_null(a.tokens);
	assert_null(strstr(why, "0123456789")); /* never the token */
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_bad("", KV_EINVAL, "no tokens");
	expect_bad("# only a comment\n\n", KV_EINVAL, "no tokens");
	expect_bad(T_ADMIN " root\n", KV_EINVAL, "line 1: role 'root'");
	expect_bad(T_ADMIN "\n", KV_EINVAL, "line 1: expected TOKEN ROLE");
	expect_bad("short admin\n", KV_EINVAL, "line 1: a token is 16");
	expect_bad(T_ADMIN " admin\n" T_ADMIN " read\n", KV_EINVAL, "line 2: the same token");
	expect_bad(T_ADMIN " admin a b\n", KV_EINVAL, "line 1: more than");
}

static void test_parse_limits(void **state)
{
	(void)state;
	size_t cap = (GW_AUTH_TOKENS_MAX + 1) * 40;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = 0;
	for (unsigned i = 0; i <= GW_AUTH_TOKENS_MAX; i++)
		len += (size_t)snprintf(text + len, cap - len, "token-%020u read\n", i);
	struct gw_auth a;
	char why[200];
	assert_int_equal(gw_auth_parse(text, len, &a, why, sizeof(why)), KV_ETOOLARGE);
	assert_non_null(strstr(why, "tokens"));
	assert_int_equal(gw_auth_parse(text, GW_AUTH_FILE_BYTES_MAX + 1, &a, why, sizeof(why)),
	                 KV_ETOOLARGE);
	free(text);
	char prefix[600];
	memset(prefix, 'p', sizeof(prefix));
	int n = snprintf(text = malloc(800), 800, T_READ " read %.*s\n", 512, prefix);
	assert_int_equal(gw_auth_parse(text, (size_t)n, &a, why, sizeof(why)), KV_EINVAL);
	assert_non_null(strstr(why, "prefix"));
	free(text);
}

static void test_who(void **state)
{
	(void)state;
	struct gw_auth a;
	char why[200];
	assert_int_equal(parse(good, &a, why), 0);
	assert_ptr_equal(who(&a, "Bearer " T_ADMIN), &a.tokens[0]);
	assert_ptr_equal(who(&a, "bearer " T_READ), &a.tokens[2]); /* the scheme is case-blind */
	assert_null(who(&a, NULL));
	assert_null(who(&a, ""));
	assert_null(who(&a, T_ADMIN));                         /* no scheme */
	assert_null(who(&a, "Basic " T_ADMIN));                /* another scheme */
	assert_null(who(&a, "Bearer " T_ADMIN "x"));           /* one byte longer */
	assert_null(who(&a, "Bearer admin-token-012345678X")); /* the last byte differs */
	assert_null(who(&a, "Bearer  " T_ADMIN));              /* a second space */
	assert_null(who(&a, "Bearer "));
	gw_auth_free(&a);
}

static void test_allow_roles(void **state)
{
	(void)state;
	struct gw_auth a;
	char why[200];
	assert_int_equal(parse(good, &a, why), 0);
	const struct gw_auth_token *admin = &a.tokens[0], *wr = &a.tokens[1], *rd = &a.tokens[2];
	const uint8_t *k = (const uint8_t *)"k";
	assert_int_equal(gw_auth_allow(NULL, GW_PERM_OPEN, 0, NULL, 0), 0);
	assert_int_equal(gw_auth_allow(NULL, GW_PERM_READ, 0, NULL, 0), KV_EFORBIDDEN);
	assert_int_equal(gw_auth_allow(rd, GW_PERM_READ, 1, k, 1), 0);
	assert_int_equal(gw_auth_allow(rd, GW_PERM_WRITE, 1, k, 1), KV_EFORBIDDEN);
	assert_int_equal(gw_auth_allow(rd, GW_PERM_ADMIN, 0, NULL, 0), KV_EFORBIDDEN);
	assert_int_equal(gw_auth_allow(wr, GW_PERM_READ, 1, k, 1), 0);
	assert_int_equal(gw_auth_allow(wr, GW_PERM_WRITE, 1, k, 1), 0);
	assert_int_equal(gw_auth_allow(wr, GW_PERM_ADMIN, 0, NULL, 0), KV_EFORBIDDEN);
	assert_int_equal(gw_auth_allow(admin, GW_PERM_ADMIN, 0, NULL, 0), 0);
	assert_int_equal(gw_auth_allow(admin, GW_PERM_WRITE, 1, k, 1), 0);
	gw_auth_free(&a);
}

static void test_allow_prefix(void **state)
{
	(void)state;
	struct gw_auth a;
	char why[200];
	assert_int_equal(parse(good, &a, why), 0);
	const struct gw_auth_token *app = &a.tokens[3];
	const uint8_t *in = (const uint8_t *)"app/x", *out = (const uint8_t *)"other/x";
	assert_int_equal(gw_auth_allow(app, GW_PERM_WRITE, 1, in, 5), 0);
	assert_int_equal(gw_auth_allow(app, GW_PERM_WRITE, 1, in, 4), 0); /* the prefix itself */
	assert_int_equal(gw_auth_allow(app, GW_PERM_WRITE, 1, in, 3), KV_EFORBIDDEN); /* "app" */
	assert_int_equal(gw_auth_allow(app, GW_PERM_WRITE, 1, out, 7), KV_EFORBIDDEN);
	assert_int_equal(gw_auth_allow(app, GW_PERM_READ, 1, out, 0), KV_EFORBIDDEN); /* list all */
	assert_int_equal(gw_auth_allow(app, GW_PERM_READ, 0, NULL, 0), 0); /* no keys: status */
	assert_int_equal(gw_auth_allow(app, GW_PERM_ADMIN, 0, NULL, 0), KV_EFORBIDDEN);
	gw_auth_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_good),   cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_limits), cmocka_unit_test(test_who),
	    cmocka_unit_test(test_allow_roles),  cmocka_unit_test(test_allow_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
