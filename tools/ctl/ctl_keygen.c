/*
 * ctl_keygen.c - `raftkvctl keygen [--out DIR]`: a CurveZMQ key pair for one
 * raftd (docs/design.md, "Peer security").
 *
 * Writes DIR/curve.key (the Z85 secret key, mode 0600) and DIR/curve.pub (the
 * Z85 public key, 0644), each one line, and prints the public key (in JSON
 * mode as {"public_key":...}). Existing
 * files are never overwritten: a node's key is its identity in every other
 * node's allow-list.
 */
#include "ctl_keygen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define KEYGEN_Z85_LEN 40

/* Creates path (must not exist) with mode and writes line + '\n' to it, synced. */
static int keygen_write(const char *path, const char *line, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		fprintf(stderr, "raftkvctl keygen: cannot create %s: %s%s\n", path, strerror(errno),
		        errno == EEXIST ? " (remove it first to make a new key)" : "");
		return 1;
	}
	char buf[KEYGEN_Z85_LEN + 2];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);
	int bad = fchmod(fd, mode) != 0 || write(fd, buf, (size_t)n) != n || fsync(fd) != 0;
	if (bad)
		fprintf(stderr, "raftkvctl keygen: cannot write %s: %s\n", path, strerror(errno));
	close(fd);
	if (bad)
		unlink(path);
	return bad;
}

int ctl_keygen(const struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *dir = ".";
	if (argc == 2 && strcmp(argv[0], "--out") == 0)
		dir = argv[1];
	else if (argc != 0)
		return -1;
	if (!zmq_has("curve")) {
		fprintf(stderr, "raftkvctl keygen: this libzmq has no CURVE support (libsodium)\n");
		return 1;
	}
	char pub[KEYGEN_Z85_LEN + 1], sec[KEYGEN_Z85_LEN + 1];
	char pub_path[PATH_MAX], sec_path[PATH_MAX];
	if (snprintf(sec_path, sizeof(sec_path), "%s/curve.key", dir) >= (int)sizeof(sec_path) ||
	    snprintf(pub_path, sizeof(pub_path), "%s/curve.pub", dir) >= (int)sizeof(pub_path)) {
		fprintf(stderr, "raftkvctl keygen: --out is too long\n");
		return 2;
	}
	if (access(pub_path, F_OK) == 0) {
		fprintf(stderr, "raftkvctl keygen: %s exists (remove it first to make a new key)\n",
		        pub_path);
		return 1;
	}
	if (zmq_curve_keypair(pub, sec) != 0) {
		fprintf(stderr, "raftkvctl keygen: %s\n", zmq_strerror(errno));
		return 1;
	}
	int rc = keygen_write(sec_path, sec, 0600);
	if (rc == 0 && keygen_write(pub_path, pub, 0644) != 0) {
		unlink(sec_path);
		rc = 1;
	}
	memset(sec, 0, sizeof(sec));
	if (rc == 0 && ctx->output == CTL_OUTPUT_JSON)
		printf("{\"public_key\":\"%s\"}\n", pub); /* Z85 needs no escaping */
	else if (rc == 0)
		printf("%s\n", pub);
	return rc;
}
