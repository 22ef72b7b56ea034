/*
 * raftd_book.c - the address book in memory, its encodings and its file
 * (raftd_book.h). No struct raftd here: raftd_addresses.c feeds a running
 * raftd's book. Pure apart from raftd_book_save / raftd_book_load; loop
 * thread, the main thread at boot, and the unit tests.
 */
#include "raftd_book.h"

#include "kv_assert.h"
#include "kv_crc32c.h"
#include "kv_err.h"
#include "kv_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BOOK_FILE       "members"
#define BOOK_MAGIC_LEN  8u
#define BOOK_FILE_BYTES (BOOK_MAGIC_LEN + RAFTD_BOOK_BYTES_MAX + 4u)

/* The file's first bytes: "RKVBOOK1", format 1. */
static const uint8_t book_magic[BOOK_MAGIC_LEN] = {'R', 'K', 'V', 'B', 'O', 'O', 'K', '1'};

/* ---- Validation ----------------------------------------------------------------- */

static int book_url_ok(const char *url, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (url[i] <= ' ' || url[i] > '~')
			return 0;
	return 1;
}

static int book_key_ok(const char *key, size_t len)
{
	char z85[RAFTD_CURVE_Z85_LEN + 1];
	uint8_t bin[RAFTD_CURVE_KEY_BYTES];

	return len == 0 ||
	       (len == RAFTD_CURVE_Z85_LEN && raftd_curve_keys_parse_one(key, z85, bin) == 0);
}

int raftd_book_entry_check(const struct raftd_book_entry *e)
{
	struct raftd_peer_addr a;
	size_t addr_len = strnlen(e->peer_address, sizeof(e->peer_address));
	size_t url_len = strnlen(e->url, sizeof(e->url));
	size_t key_len = strnlen(e->curve_key, sizeof(e->curve_key));

	if (e->id == 0 || e->id > RAFTD_NODE_ID_MAX || addr_len == sizeof(e->peer_address) ||
	    url_len == sizeof(e->url) || key_len == sizeof(e->curve_key))
		return KV_EINVAL;
	if (raftd_peerlist_parse_addr(e->peer_address, addr_len, &a) != 0)
		return KV_EINVAL;
	if (!book_url_ok(e->url, url_len) || !book_key_ok(e->curve_key, key_len))
		return KV_EINVAL;
	return 0;
}

/* ---- The book in memory ----------------------------------------------------------- */

const struct raftd_book_entry *raftd_book_get(const struct raftd_book *b, uint64_t id)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (b->entries[i].id == id)
			return &b->entries[i];
	return NULL;
}

static int book_in_config(const struct raft_config *c, uint64_t id)
{
	for (uint32_t i = 0; c != NULL && i < c->n; i++)
		if (c->members[i].id == id)
			return 1;
	return 0;
}

/* The slot e goes to: its id's, a free one, or a stale one; NULL when all are members. */
static struct raftd_book_entry *book_slot(struct raftd_book *b, uint64_t id,
                                          const struct raft_config *keep)
{
	struct raftd_book_entry *same = (struct raftd_book_entry *)raftd_book_get(b, id);

	if (same != NULL)
		return same;
	if (b->n < RAFTD_BOOK_MAX)
		return &b->entries[b->n++];
	for (uint32_t i = 0; i < b->n; i++)
		if (!book_in_config(keep, b->entries[i].id))
			return &b->entries[i];
	return NULL;
}

int raftd_book_put(struct raftd_book *b, const struct raftd_book_entry *e,
                   const struct raft_config *keep)
{
	if (raftd_book_entry_check(e) != 0)
		return KV_EINVAL;
	const struct raftd_book_entry *old = raftd_book_get(b, e->id);
	if (old != NULL && strcmp(old->peer_address, e->peer_address) == 0 &&
	    strcmp(old->url, e->url) == 0 && strcmp(old->curve_key, e->curve_key) == 0)
		return 0;
	struct raftd_book_entry *slot = book_slot(b, e->id, keep);
	if (slot == NULL)
		return KV_EFULL;
	/* a clean copy: bytes after each NUL are zero, so equal entries compare equal */
	memset(slot, 0, sizeof(*slot));
	slot->id = e->id;
	memcpy(slot->peer_address, e->peer_address, strlen(e->peer_address));
	memcpy(slot->url, e->url, strlen(e->url));
	memcpy(slot->curve_key, e->curve_key, strlen(e->curve_key));
	return 1;
}

/* ---- Codecs ------------------------------------------------------------------------ */

/* Appends [len (width bytes, BE)][s]; the new position or 0 when past cap. */
static size_t book_put_str(uint8_t *out, size_t pos, size_t cap, const char *s, unsigned width)
{
	size_t len = strnlen(s, cap);

	KV_ASSERT(len < (1u << (8 * width))); /* raftd_book_entry_check bounds every field */
	if (pos + width + len > cap)
		return 0;
	if (width == 2)
		out[pos++] = (uint8_t)(len >> 8);
	out[pos++] = (uint8_t)len;
	memcpy(out + pos, s, len);
	return pos + len;
}

/* Reads [len][bytes] into s[cap] (NUL-terminated); len must be <= max. 0 or KV_EPROTO. */
static int book_get_str(const uint8_t *in, size_t len, size_t *pos, unsigned width, size_t max,
                        char *s)
{
	if (*pos + width > len)
		return KV_EPROTO;
	size_t n = width == 2 ? ((size_t)in[*pos] << 8) | in[*pos + 1] : in[*pos];
	*pos += width;
	if (n > max || n > len - *pos || memchr(in + *pos, '\0', n) != NULL)
		return KV_EPROTO;
	memcpy(s, in + *pos, n);
	s[n] = '\0';
	*pos += n;
	return 0;
}

static int book_entry_encode(const struct raftd_book_entry *e, uint8_t *out, size_t cap)
{
	size_t pos = book_put_str(out, 0, cap, e->peer_address, 2);
	if (pos != 0)
		pos = book_put_str(out, pos, cap, e->url, 2);
	if (pos != 0)
		pos = book_put_str(out, pos, cap, e->curve_key, 1);
	if (pos == 0)
		return KV_ETOOLARGE;
	KV_ASSERT(pos <= RAFTD_BOOK_ENTRY_BYTES_MAX);
	return (int)pos;
}

/* Reads one entry's fields at *pos (e->id already set) and checks it. 0 or KV_EPROTO. */
static int book_entry_decode(const uint8_t *in, size_t len, size_t *pos, struct raftd_book_entry *e)
{
	if (book_get_str(in, len, pos, 2, RAFTD_BOOK_ADDR_MAX, e->peer_address) ||
	    book_get_str(in, len, pos, 2, PROTO_URL_BYTES_MAX, e->url) ||
	    book_get_str(in, len, pos, 1, RAFTD_CURVE_Z85_LEN, e->curve_key))
		return KV_EPROTO;
	return raftd_book_entry_check(e) == 0 ? 0 : KV_EPROTO;
}

int raftd_book_config_encode(const struct raftd_book_entry *e, uint8_t *out, size_t cap)
{
	if (raftd_book_entry_check(e) != 0)
		return KV_EINVAL;
	return book_entry_encode(e, out, cap);
}

int raftd_book_config_decode(const uint8_t *data, uint32_t len, struct raftd_book_entry *out)
{
	struct raft_config_change ch;
	size_t pos = RAFT_CONFIG_CHANGE_BYTES;

	memset(out, 0, sizeof(*out));
	if (raft_config_change_decode(data, len, &ch) != 0)
		return KV_EPROTO;
	if (len == RAFT_CONFIG_CHANGE_BYTES)
		return KV_ENOTFOUND;
	/* only an add names an address; anything after another op is junk */
	if (ch.op != RAFT_CONFIG_ADD_LEARNER)
		return KV_EPROTO;
	out->id = ch.node;
	if (book_entry_decode(data, len, &pos, out) != 0 || pos != len) {
		memset(out, 0, sizeof(*out));
		return KV_EPROTO;
	}
	return 0;
}

int raftd_book_encode(const struct raftd_book *b, uint8_t *out, size_t cap)
{
	size_t pos = 1;

	KV_ASSERT(b->n <= RAFTD_BOOK_MAX);
	if (cap < 1)
		return KV_ETOOLARGE;
	out[0] = (uint8_t)b->n;
	for (uint32_t i = 0; i < b->n; i++) {
		if (pos + 8 > cap)
			return KV_ETOOLARGE;
		for (unsigned k = 0; k < 8; k++)
			out[pos++] = (uint8_t)(b->entries[i].id >> (56 - 8 * k));
		int n = book_entry_encode(&b->entries[i], out + pos, cap - pos);
		if (n < 0)
			return n;
		pos += (size_t)n;
	}
	return (int)pos;
}

int raftd_book_decode(const uint8_t *data, size_t len, struct raftd_book *b)
{
	size_t pos = 1;

	memset(b, 0, sizeof(*b));
	if (len < 1 || data[0] > RAFTD_BOOK_MAX)
		return KV_EPROTO;
	for (uint32_t i = 0; i < data[0]; i++) {
		struct raftd_book_entry *e = &b->entries[i];
		if (pos + 8 > len)
			goto out_bad;
		for (unsigned k = 0; k < 8; k++)
			e->id = (e->id << 8) | data[pos++];
		if (raftd_book_get(b, e->id) != NULL || book_entry_decode(data, len, &pos, e) != 0)
			goto out_bad; /* get before n++: finds an earlier entry with this id */
		b->n++;
	}
	if (pos != len)
		goto out_bad;
	return 0;
out_bad:
	memset(b, 0, sizeof(*b));
	return KV_EPROTO;
}

/* ---- The file ------------------------------------------------------------------------ */

static int book_path(const char *dir, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n > 0 && (size_t)n < cap ? 0 : KV_ETOOLARGE;
}

/* The file's bytes for b into buf[BOOK_FILE_BYTES]; their count or a KV_E* code. */
static int book_file_bytes(const struct raftd_book *b, uint8_t *buf)
{
	memcpy(buf, book_magic, BOOK_MAGIC_LEN);
	int n = raftd_book_encode(b, buf + BOOK_MAGIC_LEN, RAFTD_BOOK_BYTES_MAX);
	if (n < 0)
		return n;
	size_t len = BOOK_MAGIC_LEN + (size_t)n;
	uint32_t crc = kv_crc32c(0, buf, len);
	for (unsigned k = 0; k < 4; k++)
		buf[len++] = (uint8_t)(crc >> (24 - 8 * k));
	return (int)len;
}

int raftd_book_save(const char *dir, const struct raftd_book *b)
{
	static uint8_t buf[BOOK_FILE_BYTES];
	char path[PATH_MAX], tmp[PATH_MAX];
	int len = book_file_bytes(b, buf);

	if (len < 0)
		return len;
	if (book_path(dir, BOOK_FILE, path, sizeof(path)) ||
	    book_path(dir, BOOK_FILE ".tmp", tmp, sizeof(tmp)))
		return KV_ETOOLARGE;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kv_err_from_errno(errno);
	int rc = write(fd, buf, (size_t)len) == len ? 0 : KV_EIO;
	if (rc == 0 && fsync(fd) != 0)
		rc = kv_err_from_errno(errno);
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = kv_err_from_errno(errno);
	if (rc == 0)
		rc = kv_fs_fsync_dir(dir);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

/* Reads the whole file (at most cap bytes; one more is an error) into buf. */
static int book_read(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? KV_ENOTFOUND : kv_err_from_errno(errno);
	*len = 0;
	ssize_t n;
	while ((n = read(fd, buf + *len, cap + 1 - *len)) > 0 && *len + (size_t)n <= cap)
		*len += (size_t)n;
	close(fd);
	if (n < 0)
		return KV_EIO;
	return n > 0 ? KV_ETOOLARGE : 0;
}

int raftd_book_load(const char *dir, struct raftd_book *b, char *err, size_t err_len)
{
	static uint8_t buf[BOOK_FILE_BYTES + 1];
	char path[PATH_MAX];
	size_t len = 0;

	memset(b, 0, sizeof(*b));
	snprintf(err, err_len, "ok");
	if (book_path(dir, BOOK_FILE, path, sizeof(path)))
		return KV_ETOOLARGE;
	int rc = book_read(path, buf, BOOK_FILE_BYTES, &len);
	if (rc == KV_ENOTFOUND || (rc != 0 && rc != KV_ETOOLARGE))
		return rc;
	if (rc == KV_ETOOLARGE || len < BOOK_MAGIC_LEN + 1 + 4 ||
	    memcmp(buf, book_magic, BOOK_MAGIC_LEN) != 0) {
		snprintf(err, err_len, "%s: not an address book (%zu bytes, no RKVBOOK1 header)",
		         path, len);
		return KV_ECORRUPT;
	}
	uint32_t crc = 0;
	for (unsigned k = 0; k < 4; k++)
		crc = (crc << 8) | buf[len - 4 + k];
	if (crc != kv_crc32c(0, buf, len - 4)) {
		snprintf(err, err_len, "%s: checksum mismatch (a torn or damaged write)", path);
		return KV_ECORRUPT;
	}
	if (raftd_book_decode(buf + BOOK_MAGIC_LEN, len - BOOK_MAGIC_LEN - 4, b) != 0) {
		snprintf(err, err_len, "%s: checksum good but the entries are malformed", path);
		return KV_ECORRUPT;
	}
	return 0;
}
