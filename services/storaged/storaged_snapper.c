/*
 * storaged_snapper.c - the snapshot thread. An image copy takes as long as
 * the data is big, so it runs here while the loop keeps applying; the two
 * talk over an inproc:// PAIR: the loop sends a struct storaged_snap_cmd,
 * 'S' (an image for raftd), 'B' (a backup for the gateway) or 'Q' (quit),
 * and the thread answers each 'S' and 'B' with a struct
 * storaged_snap_report. The thread only reads the environment
 * (sm_snap_write, sm_snap_write_backup); one copy at a time.
 */
#include "storaged.h"

#include "kv_assert.h"
#include "kv_err.h"
#include "kv_log.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <zmq.h>

struct storaged_snap_cmd {
	char cmd;
	uint64_t tag; /* 'B': names the backup file */
};

struct storaged_snap_report {
	int status;
	struct sm_snap_info info;
};

static void *storaged_snapper_main(void *arg)
{
	struct storaged *sd = arg;
	/* SIGTERM and SIGINT are the loop's to handle; the copy's writes are not interrupted. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	void *pair = zmq_socket(sd->zctx, ZMQ_PAIR);
	int linger = 0;
	if (pair == NULL || zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_connect(pair, "inproc://storaged-snap") != 0)
		goto out_close_pair;
	for (;;) {
		struct storaged_snap_cmd cmd;
		int n = zmq_recv(pair, &cmd, sizeof(cmd), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (int)sizeof(cmd) || (cmd.cmd != 'S' && cmd.cmd != 'B'))
			break;
		struct storaged_snap_report rep;
		memset(&rep, 0, sizeof(rep));
		if (cmd.cmd == 'S')
			rep.status = sm_snap_write(sd->sm, sd->snap_dir, &rep.info);
		else
			rep.status = sm_snap_write_backup(sd->sm, sd->snap_dir, cmd.tag, &rep.info);
		while (zmq_send(pair, &rep, sizeof(rep), 0) < 0 && errno == EINTR)
			;
	}
out_close_pair:
	if (pair != NULL)
		zmq_close(pair);
	return NULL;
}

int storaged_snapper_start(struct storaged *sd)
{
	int rc = pthread_create(&sd->snap_thread, NULL, storaged_snapper_main, sd);
	if (rc != 0)
		return kv_err_from_errno(rc);
	sd->snap_thread_started = 1;
	return 0;
}

int storaged_snapper_request(struct storaged *sd, void *sock, const struct storaged_envelope *env,
                             uint64_t req_id, int backup)
{
	if (sd->snap_busy)
		return KV_EBUSY;
	struct storaged_snap_cmd cmd = {.cmd = backup ? 'B' : 'S', .tag = ++sd->snap_tag};
	if (zmq_send(sd->snap_pair, &cmd, sizeof(cmd), ZMQ_DONTWAIT) != (int)sizeof(cmd))
		return KV_EUNAVAIL;
	sd->snap_busy = 1;
	sd->snap_sock = sock;
	sd->snap_env = *env;
	sd->snap_req_id = req_id;
	return 0;
}

int storaged_snapper_collect(struct storaged *sd, int wait)
{
	struct storaged_snap_report rep;
	int n;
	do
		n = zmq_recv(sd->snap_pair, &rep, sizeof(rep), wait ? 0 : ZMQ_DONTWAIT);
	while (n < 0 && errno == EINTR && wait);
	if (n < 0)
		return KV_EBUSY;
	if (n != (int)sizeof(rep)) {
		KV_LOG_ERROR("storaged", "bad report from the snapshot thread", "bytes=%d", n);
		return KV_EIO;
	}
	sd->snap_busy = 0;
	storaged_apply_snapshot_done(sd, rep.status, &rep.info);
	return 0;
}

void storaged_snapper_stop(struct storaged *sd)
{
	if (!sd->snap_thread_started)
		return;
	struct storaged_snap_cmd cmd = {.cmd = 'Q'};
	if (sd->snap_busy)
		storaged_snapper_collect(sd, 1); /* let the copy finish: the env closes next */
	while (zmq_send(sd->snap_pair, &cmd, sizeof(cmd), 0) < 0 && errno == EINTR)
		;
	pthread_join(sd->snap_thread, NULL);
	sd->snap_thread_started = 0;
}
