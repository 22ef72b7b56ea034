/*
 * proto_doc.c - writes the message reference (docs/protocol.md) from the
 * lists of proto_messages.h, so the document cannot drift from the code:
 * `make proto-doc` regenerates it and tests/unit/test_proto_doc.c fails
 * when the checked-in copy differs. Not used by the daemons.
 */
#include "proto_doc.h"

#include "proto.h"
#include "proto_messages.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* One field as the list declares it: names of its bounds as written, and their values. */
struct doc_field {
	const char *kind;
	const char *name;
	const char *lo_s, *hi_s;
	uint64_t lo, hi;
	const char *doc;
};

/* "1..KV_KEY_BYTES_MAX (511)": a bound written as a name is followed by its value. */
static void doc_bound(FILE *f, const char *s, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	if (strcmp(s, num) == 0 || strcmp(s, "UINT64_MAX") == 0)
		fprintf(f, "%s", s);
	else
		fprintf(f, "%s (%" PRIu64 ")", s, v);
}

static void doc_range(FILE *f, const struct doc_field *d)
{
	if (strcmp(d->kind, "STATUS") == 0) {
		fprintf(f, "0 or a negative KV_E* code");
		return;
	}
	if (strcmp(d->kind, "CONFIG") == 0 || strcmp(d->kind, "ENTRIES") == 0 ||
	    strcmp(d->kind, "MEMBERS") == 0 || strcmp(d->kind, "ITEMS") == 0 ||
	    strcmp(d->kind, "CHUNK") == 0) {
		fprintf(f, "at most ");
		doc_bound(f, d->hi_s, d->hi);
		fprintf(f, strcmp(d->kind, "CHUNK") == 0 ? " bytes" : " elements");
		return;
	}
	if (d->lo == 0 && d->hi == UINT64_MAX) {
		fprintf(f, "any");
		return;
	}
	doc_bound(f, d->lo_s, d->lo);
	fprintf(f, "..");
	doc_bound(f, d->hi_s, d->hi);
	if (strcmp(d->kind, "BYTES") == 0)
		fprintf(f, " bytes");
}

/* Prints the table rows of n fields from wire position *pos on. */
static void doc_rows(FILE *f, const struct doc_field *d, size_t n, unsigned *pos)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "| %u | `%s` | %s | ", *pos, d[i].name, d[i].kind);
		doc_range(f, &d[i]);
		fprintf(f, " | %s |\n", d[i].doc);
		*pos += strcmp(d[i].kind, "CHUNK") == 0 ? 2 : 1;
	}
}

/* A message: its number, name, what it is, then the header's and its own fields. */
static void doc_message(FILE *f, unsigned type, const char *name, const char *what,
                        const struct doc_field *head, size_t n_head, const struct doc_field *own,
                        size_t n_own)
{
	unsigned pos = 2;

	fprintf(f, "\n### %u %s\n\n%s.\n\n", type, name, what);
	fprintf(f, "| # | field | kind | range | meaning |\n|---|---|---|---|---|\n");
	doc_rows(f, head, n_head, &pos);
	doc_rows(f, own, n_own, &pos);
}

#define DOC_FIELD(X, KIND, name, lo, hi, doc) {#KIND, #name, #lo, #hi, lo, hi, doc},
#define DOC_N(a)                              (sizeof(a) / sizeof((a)[0]))

/*
 * The field lists below are expanded into arrays with one extra, unused
 * element, so that messages without fields of their own still make a
 * valid initializer; the counts subtract it.
 */
#define DOC_NONE                                                                                   \
	{                                                                                          \
		"", "", "", "", 0, 0, ""                                                           \
	}

static void doc_local(FILE *f)
{
	static const struct doc_field head[] = {PROTO_LOCAL_HEADER(DOC_FIELD, x) DOC_NONE};
	unsigned type = 0;

	fprintf(f, "\n## Local messages (one node's gatewayd, raftd and storaged)\n");
#define DOC_LOCAL(NAME, name, what)                                                                \
	{                                                                                          \
		static const struct doc_field own[] = {PROTO_LOCAL_##NAME(DOC_FIELD, x) DOC_NONE}; \
		doc_message(f, ++type, #NAME, what, head, DOC_N(head) - 1, own, DOC_N(own) - 1);   \
	}
	PROTO_LOCAL_MESSAGES(DOC_LOCAL)
#undef DOC_LOCAL
}

static void doc_kv(FILE *f)
{
	static const struct doc_field head[] = {PROTO_KV_HEADER(DOC_FIELD, x) DOC_NONE};
	unsigned type = 0;

	fprintf(f, "\n## Key-value commands (the payload of a RAFT_ENTRY_COMMAND entry; the "
	           "type is the op)\n");
#define DOC_KV(NAME, name, what)                                                                   \
	{                                                                                          \
		static const struct doc_field own[] = {PROTO_KV_##NAME(DOC_FIELD, x) DOC_NONE};    \
		doc_message(f, ++type, #NAME, what, head, DOC_N(head) - 1, own, DOC_N(own) - 1);   \
	}
	PROTO_KV_MESSAGES(DOC_KV)
#undef DOC_KV
}

static void doc_raft(FILE *f)
{
	static const struct doc_field head[] = {PROTO_RAFT_HEADER(DOC_FIELD, x) DOC_NONE};

	fprintf(f, "\n## Peer messages (raftd to raftd; struct raft_msg: the header, then the "
	           "body of the type in u)\n");
#define DOC_RAFT(NAME, BODY, body, what)                                                           \
	{                                                                                          \
		static const struct doc_field own[] = {PROTO_RAFT_##BODY(DOC_FIELD, x) DOC_NONE};  \
		doc_message(f, RAFT_MSG_##NAME, #NAME,                                             \
		            what "; in C: struct raft_" #body " u." #body, head, DOC_N(head) - 1,  \
		            own, DOC_N(own) - 1);                                                  \
	}
	PROTO_RAFT_MESSAGES(DOC_RAFT)
#undef DOC_RAFT
}

void proto_doc_write(FILE *f)
{
	fprintf(f, "# raftkv messages\n\n"
	           "<!-- Generated from proto/proto_messages.h by `make proto-doc`; do not edit. "
	           "`make unit-test` (test_proto_doc) fails when this file differs. -->\n\n");
	fprintf(
	    f,
	    "Protocol version %u (commands, which logs keep: version %u). Every message is "
	    "one ZeroMQ frame holding one msgpack "
	    "array, `[version, type, fields...]`, with the fields of its type in the order "
	    "below and nothing else. # is the field's position in that array. Kinds: U64 "
	    "and U8 are msgpack uints, STATUS a msgpack int, BYTES a bin; ENTRIES is an "
	    "array of `[term, index, type, data]`, MEMBERS of `[id, role, addr, url]`, ITEMS of "
	    "`[key, value, create_index, mod_index]`, CONFIG of `[id, role, incarnation, "
	    "flags]`; CHUNK is a bin "
	    "followed by the CRC32C of its bytes (two positions). A decoder refuses any "
	    "value outside its range, and an encoder refuses to send one. Between the "
	    "processes of one node a ZeroMQ message may hold a batch: several whole "
	    "messages, one per frame (at most %u frames; no frame is added once it holds "
	    "%u bytes), each decoded on its own.\n",
	    PROTO_VERSION, PROTO_KV_VERSION, KV_LOCAL_BATCH_FRAMES_MAX, KV_LOCAL_BATCH_BYTES_MAX);
	doc_local(f);
	doc_kv(f);
	doc_raft(f);
}
