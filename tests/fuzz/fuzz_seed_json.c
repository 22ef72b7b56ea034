/*
 * fuzz_seed_json.c - libFuzzer target for the seed routes' JSON
 * (services/gatewayd/seeds/gw_seed_json.c), which reads request bodies from
 * any client. Beyond not crashing, it checks what must hold for any input:
 * a body accepted as an object is also one JSON value; a string member
 * decodes to valid UTF-8 no longer than 3x its text; and any bytes written
 * by gw_seed_json_go_str read back through gw_seed_json_string, unchanged
 * when they were valid UTF-8.
 */
#include "gw_json.h"
#include "kv_err.h"
#include "seeds/gw_seed_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Decodes a string member and checks its output. */
static void fuzz_member(const char *s, const struct gw_seed_member *m)
{
	size_t cap = m->len * 3, len = 0;
	uint8_t *out = malloc(cap + 1);
	check(out != NULL);
	if (gw_seed_json_string(s + m->at, m->len, out, cap, &len) == 0)
		check(len <= cap && gw_json_utf8_valid(out, len));
	free(out);
}

/* Writes data as a Go string and reads it back. */
static void fuzz_roundtrip(const uint8_t *data, size_t size)
{
	struct gw_json j;
	gw_json_init(&j, size * 6 + 16);
	gw_seed_json_go_str(&j, data, size);
	check(!j.overflow);
	size_t cap = j.len * 3 + 1, len = 0;
	uint8_t *back = malloc(cap);
	check(back != NULL);
	check(gw_seed_json_string(j.buf, j.len, back, cap, &len) == 0);
	if (gw_json_utf8_valid(data, size))
		check(len == size && memcmp(back, data, size) == 0);
	free(back);
	gw_json_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct gw_seed_member want[] = {{.name = "key"}, {.name = "value"}, {.name = "action"}};
	if (gw_seed_json_object(s, size, want, 3) == 0) {
		check(gw_seed_json_is_value(s, size));
		for (size_t i = 0; i < 3; i++)
			if (want[i].found && want[i].is_string)
				fuzz_member(s, &want[i]);
	}
	fuzz_roundtrip(data, size);
	return 0;
}
