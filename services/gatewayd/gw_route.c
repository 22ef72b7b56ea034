/*
 * gw_route.c - what is derived from a route table: matching, the Allow
 * header, metric slots and labels, the table's own checks; and method names.
 * Pure; runs on the loop thread and in unit tests.
 */
#include "gw_route.h"

#include "kv_err.h"

#include <string.h>

static const char *const method_names[GW_M_COUNT] = {"other", "GET",    "HEAD",
                                                     "PUT",   "DELETE", "POST"};

static int route_is(const char *path, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(path, want, len) == 0;
}

/* 1 when path matches pattern; *key_at: where a {key} starts (0 for exact patterns). */
static int route_path_matches(const char *pattern, const char *path, size_t len, size_t *key_at)
{
	size_t plen = strlen(pattern), slen = strlen(GW_ROUTE_KEY_SUFFIX);
	*key_at = 0;
	if (plen >= slen && strcmp(pattern + plen - slen, GW_ROUTE_KEY_SUFFIX) == 0) {
		size_t prefix = plen - slen;
		if (len < prefix || memcmp(path, pattern, prefix) != 0)
			return 0;
		*key_at = prefix;
		return 1;
	}
	return route_is(path, len, pattern);
}

void gw_route_find(const struct gw_route *table, size_t n, const char *path, size_t len,
                   enum gw_method m, struct gw_route_hit *hit)
{
	memset(hit, 0, sizeof(*hit));
	hit->path = -1;
	for (size_t i = 0; i < n && hit->path < 0; i++)
		if (route_path_matches(table[i].path, path, len, &hit->key_at))
			hit->path = (int)i;
	if (hit->path < 0)
		return;
	const char *pattern = table[hit->path].path;
	for (size_t i = (size_t)hit->path; i < n; i++) {
		if (strcmp(table[i].path, pattern) != 0)
			continue;
		hit->allow |= table[i].methods;
		if (hit->row == NULL && m != GW_M_OTHER && (table[i].methods & GW_MBIT(m)))
			hit->row = &table[i];
	}
}

unsigned gw_route_slot(const struct gw_route_hit *hit)
{
	return hit->path < 0 ? 0 : (unsigned)hit->path + 1;
}

const char *gw_route_label(const struct gw_route *table, size_t n, unsigned slot)
{
	return slot == 0 || slot > n ? "none" : table[slot - 1].label;
}

size_t gw_route_allow(unsigned methods, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int m = GW_M_GET; m < GW_M_COUNT; m++) {
		if (!(methods & GW_MBIT(m)))
			continue;
		const char *sep = len > 0 ? ", " : "";
		size_t need = strlen(sep) + strlen(method_names[m]);
		if (len + need >= cap)
			break;
		memcpy(buf + len, sep, strlen(sep));
		memcpy(buf + len + strlen(sep), method_names[m], strlen(method_names[m]) + 1);
		len += need;
	}
	return len;
}

/* Why row i cannot follow table[0..i), or NULL when it can. */
static const char *route_check_row(const struct gw_route *table, size_t i)
{
	const struct gw_route *r = &table[i];
	if (r->methods == 0 || (r->methods & ~GW_MS_KNOWN) != 0)
		return "a row's methods are empty or unknown";
	if (r->path == NULL || r->path[0] != '/')
		return "a row's path does not start with '/'";
	if (r->handle == NULL)
		return "a row has no handler";
	if (r->label == NULL || r->label[0] == '\0' || strcmp(r->label, "none") == 0)
		return "a row has no metric label";
	if (r->perm >= GW_PERM_COUNT)
		return "a row's permission is unknown";
	for (size_t j = 0; j < i; j++) {
		int same_path = strcmp(table[j].path, r->path) == 0;
		int same_label = strcmp(table[j].label, r->label) == 0;
		if (same_path && !same_label)
			return "rows of one path have different labels";
		if (!same_path && same_label)
			return "two paths have the same label";
		if (same_path && (table[j].methods & r->methods) != 0)
			return "two rows of one path serve the same method";
	}
	return NULL;
}

int gw_route_check(const struct gw_route *table, size_t n, const char **why, size_t *row)
{
	*why = NULL;
	*row = 0;
	if (n > GW_ROUTES_MAX) {
		*why = "more rows than GW_ROUTES_MAX";
		return KV_EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		*why = route_check_row(table, i);
		if (*why != NULL) {
			*row = i;
			return KV_EINVAL;
		}
	}
	return 0;
}

enum gw_method gw_route_method(const char *method, size_t len)
{
	for (int m = GW_M_GET; m < GW_M_COUNT; m++)
		if (route_is(method, len, method_names[m]))
			return (enum gw_method)m;
	return GW_M_OTHER;
}

const char *gw_route_method_name(enum gw_method m)
{
	return (unsigned)m < GW_M_COUNT ? method_names[m] : "other";
}
