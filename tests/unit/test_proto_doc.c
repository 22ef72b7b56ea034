/*
 * test_proto_doc.c - docs/protocol.md is what proto_doc_write() makes of
 * proto_messages.h today: a message or field changed without `make
 * proto-doc` fails here. Runs from the repository root (as `make unit-test`
 * does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_DOC_PATH "docs/protocol.md"

/* The whole file, NUL-terminated, in *out (the caller frees it); its length in *len. */
static void t_read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	*out = malloc((size_t)n + 1);
	assert_non_null(*out);
	assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
	(*out)[n] = '\0';
	*len = (size_t)n;
	fclose(f);
}

static void test_doc_is_generated(void **state)
{
	char *want = NULL, *have = NULL;
	size_t want_len = 0, have_len = 0;
	FILE *f = open_memstream(&want, &want_len);

	assert_non_null(f);
	proto_doc_write(f);
	assert_int_equal(fclose(f), 0);
	t_read_file(T_DOC_PATH, &have, &have_len);
	if (have_len != want_len || memcmp(have, want, want_len) != 0)
		fail_msg(T_DOC_PATH " differs from proto_messages.h: run `make proto-doc`");
	print_message(T_DOC_PATH " (%zu bytes) matches proto_messages.h\n", have_len);
	free(want);
	free(have);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doc_is_generated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
