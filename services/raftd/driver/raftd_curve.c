/*
 * raftd_curve.c - CurveZMQ on the peer port.
 *
 * With --curve-secret-key, the peer ROUTER is a Curve server and every
 * DEALER to peer i a Curve client that pins peer i's public key from the
 * address book (raftd_book.h; seeded from --peer-keys). The allow-list is
 * the book's keys, plus the --peer-keys seeds of ids the book lacks. libzmq asks the ZAP handler
 * here (a REP socket on inproc://zeromq.zap.01, polled by the loop) about every incoming handshake:
 * a client key that is not in the allow-list is refused and counted, a known one is accepted with
 * its node id as the connection's User-Id. That id, not the routing identity (which any client may
 * choose), is the sender: with Curve the DEALERs set no routing id and the ROUTER does no handover,
 * so no member can take over another's connection, and a message whose from is not its key's node
 * is dropped and counted (raftd_curve_refuse_claim): a node with a valid key cannot speak for
 * another. Loop thread only;
 * raftd_curve_configure() on the main thread before the loop starts.
 */
#include "raftd.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURVE_ZAP_ENDPOINT "inproc://zeromq.zap.01" /* fixed by ZAP (RFC 27) */
#define CURVE_ZAP_DOMAIN   "raftkv-peer"
#define CURVE_ZAP_FRAMES   7u /* version, id, domain, address, identity, mechanism, key */

/* Loads the allow-list from --peer-keys or --peer-keys-file into d->curve.keys. */
static int curve_load_keys(struct raftd *d, char *err, size_t err_len)
{
	static char text[RAFTD_CURVE_KEYS_TEXT_MAX];
	const struct raftd_opts *o = &d->opts;
	if ((o->peer_keys[0] != '\0') == (o->peer_keys_file[0] != '\0')) {
		snprintf(err, err_len,
		         "--curve-secret-key needs exactly one of --peer-keys and "
		         "--peer-keys-file");
		return KV_EINVAL;
	}
	if (o->peer_keys[0] != '\0')
		return raftd_curve_keys_parse(o->peer_keys, ',', &d->curve.keys, err, err_len);
	int rc = raftd_curve_keys_read_file(o->peer_keys_file, text, sizeof(text), err, err_len);
	if (rc != 0)
		return rc;
	char why[200];
	rc = raftd_curve_keys_parse(text, '\n', &d->curve.keys, why, sizeof(why));
	if (rc != 0)
		snprintf(err, err_len, "%s: %s", o->peer_keys_file, why);
	return rc;
}

/* Every node of --peers has a key, and this node's listed key is its own. */
static int curve_check_keys(struct raftd *d, char *err, size_t err_len)
{
	for (uint32_t i = 0; i < d->peer_list.n; i++) {
		uint64_t id = d->peer_list.peers[i].id;
		const struct raftd_peer_key *k = raftd_curve_keys_find(&d->curve.keys, id);
		if (k == NULL) {
			snprintf(err, err_len,
			         "node %" PRIu64 " of --peers has no public key in the "
			         "peer keys",
			         id);
			return KV_EINVAL;
		}
		if (id == d->opts.node_id && strcmp(k->z85, d->curve.public_z85) != 0) {
			snprintf(err, err_len,
			         "the peer keys give node %" PRIu64 " (this node) a public "
			         "key that is not the one of --curve-secret-key",
			         id);
			return KV_EINVAL;
		}
	}
	return 0;
}

int raftd_curve_configure(struct raftd *d)
{
	char err[512];
	const struct raftd_opts *o = &d->opts;
	if (o->curve_secret_key[0] == '\0') {
		if (o->peer_keys[0] != '\0' || o->peer_keys_file[0] != '\0') {
			fprintf(
			    stderr,
			    "error: --peer-keys and --peer-keys-file need --curve-secret-key\n");
			return 2;
		}
		if (!o->insecure && !raftd_curve_endpoint_is_loopback(o->listen)) {
			fprintf(
			    stderr,
			    "error: --listen %s is not a loopback address and peers are not "
			    "authenticated: anyone who reaches that port could forge Raft messages "
			    "and take over the log. Give --curve-secret-key and "
			    "--peer-keys(-file), "
			    "bind 127.0.0.1, or pass --insecure (RAFTKV_INSECURE=1) to accept "
			    "the risk\n",
			    o->listen);
			return 2;
		}
		return 0;
	}
	if (!zmq_has("curve")) {
		fprintf(stderr, "error: this libzmq was built without CURVE support (libsodium)\n");
		return 2;
	}
	int rc = raftd_curve_keys_read_secret(o->curve_secret_key, d->curve.secret_z85, err,
	                                      sizeof(err));
	if (rc == 0 && zmq_curve_public(d->curve.public_z85, d->curve.secret_z85) != 0) {
		snprintf(err, sizeof(err), "cannot derive the public key of %s",
		         o->curve_secret_key);
		rc = KV_EINVAL;
	}
	if (rc == 0)
		rc = curve_load_keys(d, err, sizeof(err));
	if (rc == 0)
		rc = curve_check_keys(d, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "error: %s\n", err);
		return 2;
	}
	d->curve.on = 1;
	return 0;
}

int raftd_curve_zap_open(struct raftd *d)
{
	if (!d->curve.on)
		return 0;
	d->curve.zap = zmq_socket(d->zctx, ZMQ_REP);
	if (d->curve.zap == NULL || zmq_bind(d->curve.zap, CURVE_ZAP_ENDPOINT) != 0) {
		KV_LOG_ERROR(RAFTD_SVC, "cannot bind the ZAP handler", "err=\"%s\"",
		             zmq_strerror(zmq_errno()));
		return KV_EIO;
	}
	int linger = 0;
	zmq_setsockopt(d->curve.zap, ZMQ_LINGER, &linger, sizeof(linger));
	return 0;
}

void raftd_curve_server(struct raftd *d, void *router)
{
	if (!d->curve.on)
		return;
	int server = 1;
	zmq_setsockopt(router, ZMQ_CURVE_SERVER, &server, sizeof(server));
	zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, d->curve.secret_z85, RAFTD_CURVE_Z85_LEN);
	zmq_setsockopt(router, ZMQ_ZAP_DOMAIN, CURVE_ZAP_DOMAIN, strlen(CURVE_ZAP_DOMAIN));
	/*
	 * libzmq 4.3 accepts any Curve client when no ZAP handler is bound
	 * (ZMQ_ZAP_ENFORCE_DOMAIN is a draft option): raftd_curve_zap_open()
	 * binds it before this socket binds, and it is closed after.
	 */
}

void raftd_curve_client(struct raftd *d, void *dealer, const char *server_z85)
{
	if (!d->curve.on)
		return;
	KV_ASSERT(strlen(server_z85) == RAFTD_CURVE_Z85_LEN); /* raftd_peers.c: no key, no peer */
	zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server_z85, RAFTD_CURVE_Z85_LEN);
	zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, d->curve.public_z85, RAFTD_CURVE_Z85_LEN);
	zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, d->curve.secret_z85, RAFTD_CURVE_Z85_LEN);
}

/*
 * Receives one ZAP request's frames into f[0..cap) (the caller closes the
 * *n_out stored ones); frames past cap are dropped and make it malformed.
 * Returns 1 for a well-formed request, 0 for none pending, -1 malformed.
 */
static int curve_zap_recv(void *zap, zmq_msg_t *f, uint32_t cap, uint32_t *n_out)
{
	uint32_t n = 0;
	int more = 1, extra = 0;
	zmq_msg_t scratch; /* frames past cap: received and dropped */
	zmq_msg_init(&scratch);
	while (more) {
		zmq_msg_t *m = n < cap ? &f[n] : &scratch;
		if (m != &scratch)
			zmq_msg_init(m);
		if (zmq_msg_recv(m, zap, ZMQ_DONTWAIT) < 0) {
			if (m != &scratch)
				zmq_msg_close(m);
			break;
		}
		more = zmq_msg_more(m);
		if (m == &scratch)
			extra = 1;
		else
			n++;
	}
	zmq_msg_close(&scratch);
	*n_out = n;
	if (n == 0)
		return 0;
	return extra || more || n != cap ? -1 : 1;
}

/* 1 for the 1st, 2nd, 4th, 8th... event: a flood of refusals does not flood the log. */
static int curve_log_due(uint64_t count)
{
	return (count & (count - 1)) == 0;
}

/* Sends the six-frame ZAP reply. */
static void curve_zap_reply(void *zap, zmq_msg_t *request_id, const char *status, const char *text,
                            const char *user_id)
{
	zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
	zmq_send(zap, zmq_msg_data(request_id), zmq_msg_size(request_id), ZMQ_SNDMORE);
	zmq_send(zap, status, strlen(status), ZMQ_SNDMORE);
	zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(zap, user_id, strlen(user_id), ZMQ_SNDMORE);
	zmq_send(zap, "", 0, 0); /* no metadata */
}

/*
 * The node whose key is pub: the book's entry with that key, or else a
 * --peer-keys seed for an id the book does not know (a key the book replaced
 * is not accepted any more). 0 when none.
 */
static uint64_t curve_key_owner(struct raftd *d, const uint8_t *pub)
{
	uint8_t bin[RAFTD_CURVE_KEY_BYTES];
	for (uint32_t i = 0; i < d->book.n; i++) {
		const struct raftd_book_entry *e = &d->book.entries[i];
		if (e->curve_key[0] != '\0' && zmq_z85_decode(bin, e->curve_key) != NULL &&
		    memcmp(bin, pub, sizeof(bin)) == 0)
			return e->id;
	}
	uint64_t id = raftd_curve_keys_lookup(&d->curve.keys, pub);
	return id != 0 && raftd_book_find(d, id) == NULL ? id : 0;
}

/* Decides one well-formed ZAP request: the node id its key belongs to, or 0. */
static uint64_t curve_zap_decide(struct raftd *d, zmq_msg_t *f)
{
	if (zmq_msg_size(&f[5]) != 5 || memcmp(zmq_msg_data(&f[5]), "CURVE", 5) != 0 ||
	    zmq_msg_size(&f[6]) != RAFTD_CURVE_KEY_BYTES)
		return 0;
	return curve_key_owner(d, zmq_msg_data(&f[6]));
}

/* Answers one ZAP request of n frames (ok: well-formed). */
static void curve_zap_answer(struct raftd *d, zmq_msg_t *f, uint32_t n, int ok)
{
	uint64_t id = ok ? curve_zap_decide(d, f) : 0;
	char user_id[24], address[64] = "?";
	snprintf(user_id, sizeof(user_id), "%" PRIu64, id);
	if (n >= 4)
		snprintf(address, sizeof(address), "%.*s", (int)zmq_msg_size(&f[3]),
		         (const char *)zmq_msg_data(&f[3]));
	if (id != 0) {
		curve_zap_reply(d->curve.zap, &f[1], "200", "OK", user_id);
		KV_LOG_DEBUG(RAFTD_SVC, "peer authenticated", "peer=%" PRIu64 " address=%s", id,
		             address);
		return;
	}
	d->curve.denied++;
	d->peer_msgs_dropped++;
	if (n >= 2) /* REP must answer before it can receive again */
		curve_zap_reply(d->curve.zap, &f[1], "400", "key not allowed", "");
	if (curve_log_due(d->curve.denied))
		KV_LOG_WARN(RAFTD_SVC, "peer refused: public key not in the allow-list",
		            "address=%s refused=%" PRIu64, address, d->curve.denied);
}

uint32_t raftd_curve_zap_drain(struct raftd *d, uint32_t budget)
{
	uint32_t done = 0;
	while (d->curve.zap != NULL && done < budget) {
		zmq_msg_t f[CURVE_ZAP_FRAMES];
		uint32_t n = 0;
		int rc = curve_zap_recv(d->curve.zap, f, CURVE_ZAP_FRAMES, &n);
		if (rc == 0)
			break;
		done++;
		curve_zap_answer(d, f, n, rc == 1);
		for (uint32_t i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
	}
	return done;
}

uint64_t raftd_curve_sender(struct raftd *d, zmq_msg_t *msg, uint64_t identity_id)
{
	if (!d->curve.on)
		return identity_id;
	const char *user_id = zmq_msg_gets(msg, "User-Id"); /* set by curve_zap_answer */
	if (user_id == NULL || user_id[0] < '1' || user_id[0] > '9')
		return 0;
	char *end = NULL;
	unsigned long long id = strtoull(user_id, &end, 10);
	return *end == '\0' && id <= RAFTD_NODE_ID_MAX ? (uint64_t)id : 0;
}

void raftd_curve_refuse_claim(struct raftd *d, uint64_t key_id, uint64_t claimed)
{
	d->curve.id_mismatch++;
	if (curve_log_due(d->curve.id_mismatch))
		KV_LOG_WARN(RAFTD_SVC, "peer message refused: its key belongs to another node",
		            "claimed=%" PRIu64 " key_of=%" PRIu64 " refused=%" PRIu64, claimed,
		            key_id, d->curve.id_mismatch);
}

void raftd_curve_close(struct raftd *d)
{
	if (d->curve.zap != NULL)
		zmq_close(d->curve.zap);
	d->curve.zap = NULL;
}
