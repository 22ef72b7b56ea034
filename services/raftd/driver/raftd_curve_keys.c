/*
 * raftd_curve_keys.c - parsing of Curve key files and of the peer key
 * allow-list (raftd_curve_keys.h). Main thread and unit tests.
 */
#include "raftd_curve_keys.h"

#include "kv_err.h"
#include "raftd_peerlist.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

int raftd_curve_keys_parse_one(const char *text, char *z85, uint8_t *bin)
{
	char tmp[RAFTD_CURVE_Z85_LEN + 1];
	uint8_t scratch[RAFTD_CURVE_KEY_BYTES] = {0};
	while (isspace((unsigned char)*text))
		text++;
	size_t len = 0;
	while (text[len] != '\0' && !isspace((unsigned char)text[len]))
		len++;
	for (size_t i = len; text[i] != '\0'; i++)
		if (!isspace((unsigned char)text[i]))
			return KV_EINVAL; /* a second word */
	if (len != RAFTD_CURVE_Z85_LEN)
		return KV_EINVAL;
	memcpy(tmp, text, len);
	tmp[len] = '\0';
	if (zmq_z85_decode(bin != NULL ? bin : scratch, tmp) == NULL)
		return KV_EINVAL;
	if (z85 != NULL)
		memcpy(z85, tmp, len + 1);
	return 0;
}

const struct raftd_peer_key *raftd_curve_keys_find(const struct raftd_peer_keys *k, uint64_t id)
{
	for (uint32_t i = 0; i < k->n; i++)
		if (k->keys[i].id == id)
			return &k->keys[i];
	return NULL;
}

uint64_t raftd_curve_keys_lookup(const struct raftd_peer_keys *k, const uint8_t *pub)
{
	for (uint32_t i = 0; i < k->n; i++)
		if (memcmp(k->keys[i].bin, pub, RAFTD_CURVE_KEY_BYTES) == 0)
			return k->keys[i].id;
	return 0;
}

/* Parses one "ID=Z85" or "ID Z85" item (item is NUL-terminated, trimmed) and appends it. */
static int keys_add(struct raftd_peer_keys *out, char *item, char *err, size_t err_len)
{
	char *end = NULL;
	if (!isdigit((unsigned char)item[0])) {
		snprintf(err, err_len, "peer key \"%.60s\" does not start with a node id", item);
		return KV_EINVAL;
	}
	errno = 0;
	unsigned long long id = strtoull(item, &end, 10);
	if (errno != 0 || id == 0 || id > RAFTD_NODE_ID_MAX ||
	    (*end != '=' && *end != ' ' && *end != '\t')) {
		snprintf(err, err_len,
		         "peer key \"%.60s\": the id must be 1..%u followed by '=' or a space",
		         item, RAFTD_NODE_ID_MAX);
		return KV_EINVAL;
	}
	if (out->n >= RAFT_NODES_MAX) {
		snprintf(err, err_len, "more than %u peer keys", (unsigned)RAFT_NODES_MAX);
		return KV_ETOOLARGE;
	}
	struct raftd_peer_key *k = &out->keys[out->n];
	k->id = id;
	if (raftd_curve_keys_parse_one(end + 1, k->z85, k->bin) != 0) {
		snprintf(err, err_len, "peer key of node %llu is not a %u-character Z85 public key",
		         id, RAFTD_CURVE_Z85_LEN);
		return KV_EINVAL;
	}
	for (uint32_t i = 0; i < out->n; i++) {
		if (out->keys[i].id == id ||
		    memcmp(out->keys[i].bin, k->bin, RAFTD_CURVE_KEY_BYTES) == 0) {
			snprintf(err, err_len,
			         "node %llu: its id or its key appears twice in the peer keys", id);
			return KV_EINVAL;
		}
	}
	out->n++;
	return 0;
}

/* Trims white space around s in place; returns the first non-space character. */
static char *keys_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

int raftd_curve_keys_parse(const char *text, char sep, struct raftd_peer_keys *out, char *err,
                           size_t err_len)
{
	char buf[RAFTD_CURVE_KEYS_TEXT_MAX];
	if (err_len > 0)
		err[0] = '\0';
	out->n = 0;
	size_t len = strlen(text);
	if (len >= sizeof(buf)) {
		snprintf(err, err_len, "peer keys longer than %u bytes",
		         RAFTD_CURVE_KEYS_TEXT_MAX - 1);
		return KV_ETOOLARGE;
	}
	memcpy(buf, text, len + 1);
	char *save = NULL;
	char delim[2] = {sep, '\0'};
	for (char *item = strtok_r(buf, delim, &save); item != NULL;
	     item = strtok_r(NULL, delim, &save)) {
		item = keys_trim(item);
		/* a comment is a whole line: '#' is a Z85 digit, so never cut a line at it */
		if (item[0] == '\0' || (sep == '\n' && item[0] == '#'))
			continue;
		int rc = keys_add(out, item, err, err_len);
		if (rc != 0)
			return rc;
	}
	if (out->n == 0) {
		snprintf(err, err_len, "the peer keys list no node");
		return KV_EINVAL;
	}
	return 0;
}

int raftd_curve_keys_read_file(const char *path, char *buf, size_t cap, char *err, size_t err_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
		return kv_err_from_errno(errno);
	}
	ssize_t n = read(fd, buf, cap);
	int rc = 0;
	if (n < 0) {
		snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
		rc = kv_err_from_errno(errno);
	} else if ((size_t)n >= cap) {
		snprintf(err, err_len, "%s is longer than %zu bytes", path, cap - 1);
		rc = KV_ETOOLARGE;
	} else {
		buf[n] = '\0';
	}
	close(fd);
	return rc;
}

/*
 * Who may read a secret key file: its owner only (0600, 0400); or, for a file
 * owned by root, also raftd's own group, read-only (0640, 0440). The second is
 * what a Kubernetes Secret volume with fsGroup gives (root:fsGroup, mode
 * defaultMode | 0440) and what `make certs` writes for the compose project
 * (root:10001), where the file cannot belong to raftd's user. Nobody else ever.
 */
static int curve_keys_secret_mode_ok(const struct stat *st)
{
	mode_t group = st->st_mode & 070, other = st->st_mode & 007;
	if (other != 0)
		return 0;
#ifdef RAFTD_BUG_CURVE_KEY_ANY_GROUP
	return 1; /* planted (make raftd-bugs): any group may read and write the key */
#endif
	if (group == 0)
		return 1;
	return group == 040 && st->st_uid == 0 && st->st_gid == getegid();
}

int raftd_curve_keys_read_secret(const char *path, char *z85, char *err, size_t err_len)
{
	char buf[RAFTD_CURVE_KEYS_TEXT_MAX];
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(err, err_len, "cannot stat secret key file %s: %s", path, strerror(errno));
		return kv_err_from_errno(errno);
	}
	if (!S_ISREG(st.st_mode) || !curve_keys_secret_mode_ok(&st)) {
		snprintf(err, err_len,
		         "secret key file %s must be a regular file readable by its owner only, or "
		         "owned by root and readable by raftd's own group only "
		         "(mode %04o; run chmod 600 %s)",
		         path, (unsigned)(st.st_mode & 07777), path);
		return KV_EINVAL;
	}
	int rc = raftd_curve_keys_read_file(path, buf, sizeof(buf), err, err_len);
	if (rc == 0 && raftd_curve_keys_parse_one(buf, z85, NULL) != 0) {
		snprintf(err, err_len, "%s does not hold one %u-character Z85 secret key", path,
		         RAFTD_CURVE_Z85_LEN);
		rc = KV_EINVAL;
	}
	explicit_bzero(buf, sizeof(buf)); /* no copy of the secret left on the stack */
	return rc;
}

int raftd_curve_endpoint_is_loopback(const char *endpoint)
{
	const char *prefix = "tcp://";
	if (strncmp(endpoint, prefix, strlen(prefix)) != 0)
		return 0;
	const char *host = endpoint + strlen(prefix);
	const char *colon = strrchr(host, ':');
	if (colon == NULL)
		return 0;
	size_t len = (size_t)(colon - host);
	if ((len == 9 && strncmp(host, "localhost", 9) == 0) ||
	    (len == 5 && strncmp(host, "[::1]", 5) == 0))
		return 1;
	if (len < 9 || len > 15 || strncmp(host, "127.", 4) != 0)
		return 0;
	for (size_t i = 4; i < len; i++)
		if (!isdigit((unsigned char)host[i]) && host[i] != '.')
			return 0;
	return 1;
}
