/*
 * gw_metrics.c - GET /metrics in the Prometheus text format (0.0.4): HTTP
 * request counts and latencies kept here (by route: raftkv's paths and the
 * Consul API's, each with its own label), Raft, WAL and LMDB figures from
 * the cached STATUS and STATS. Loop thread only.
 */
#include "gw.h"

#include "gw_consul.h"
#include "gw_routes.h"
#include "gw_watch.h"
#include "kv_clock.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define GW_METRICS_BODY_MAX (256u << 10)

static const int metric_codes[GW_METRIC_CODES - 1] = {200, 400, 401, 403, 404, 405, 409, 412, 413,
                                                      414, 429, 431, 500, 502, 503, 504, 507};
/* upper bounds in microseconds; the last bucket is +Inf */
static const uint64_t metric_bounds_us[GW_METRIC_BUCKETS - 1] = {
    1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static int metric_code_index(int status)
{
	for (int i = 0; i < GW_METRIC_CODES - 1; i++)
		if (metric_codes[i] == status)
			return i;
	return GW_METRIC_CODES - 1; /* counted as "other" */
}

void gw_metrics_record(struct gw *gw, const struct gw_http *h, int status)
{
	struct gw_metrics *m = &gw->metrics;
	unsigned r = h->slot < GW_METRIC_SLOTS ? h->slot : 0;
	unsigned me = (unsigned)h->method < GW_M_COUNT ? (unsigned)h->method : 0;
	m->requests[r][me][metric_code_index(status)]++;
	uint64_t us = kv_clock_mono_us() - h->start_us;
	int b = 0;
	while (b < GW_METRIC_BUCKETS - 1 && us > metric_bounds_us[b])
		b++;
	m->duration_buckets[r][b]++;
	m->duration_count[r]++;
	m->duration_sum_us[r] += us;
}

const char *gw_metrics_label(unsigned slot)
{
#ifdef GW_BUG_CONSUL_METRICS_NONE
	if (slot > GW_ROUTES_MAX)
		slot = 0; /* the planted bug of make gw-bugs-consul-metrics: Consul routes are
		             "none" */
#endif
	if (slot > GW_ROUTES_MAX && slot < GW_METRIC_SLOTS)
		return gw_route_label(gw_consul_routes, gw_consul_routes_count,
		                      slot - GW_ROUTES_MAX);
	return gw_route_label(gw_routes, gw_routes_count, slot);
}

static void metrics_printf(struct gw_json *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void metrics_printf(struct gw_json *j, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		gw_json_raw(j, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void metrics_requests(struct gw *gw, struct gw_json *j)
{
	metrics_printf(j, "# HELP raftkv_http_requests_total HTTP requests answered.\n"
	                  "# TYPE raftkv_http_requests_total counter\n");
	for (unsigned r = 0; r < GW_METRIC_SLOTS; r++)
		for (int me = 0; me < GW_M_COUNT; me++)
			for (int c = 0; c < GW_METRIC_CODES; c++) {
				uint64_t v = gw->metrics.requests[r][me][c];
				if (v == 0)
					continue;
				char code[8];
				if (c < GW_METRIC_CODES - 1)
					snprintf(code, sizeof(code), "%d", metric_codes[c]);
				else
					snprintf(code, sizeof(code), "other");
				metrics_printf(
				    j,
				    "raftkv_http_requests_total{route=\"%s\",method=\"%s\","
				    "code=\"%s\"} %" PRIu64 "\n",
				    gw_metrics_label(r), gw_route_method_name(me), code, v);
			}
}

static void metrics_durations(struct gw *gw, struct gw_json *j)
{
	metrics_printf(j,
	               "# HELP raftkv_http_request_duration_seconds Time from request to answer.\n"
	               "# TYPE raftkv_http_request_duration_seconds histogram\n");
	const struct gw_metrics *m = &gw->metrics;
	for (unsigned r = 0; r < GW_METRIC_SLOTS; r++) {
		if (m->duration_count[r] == 0)
			continue;
		uint64_t cum = 0;
		for (int b = 0; b < GW_METRIC_BUCKETS; b++) {
			cum += m->duration_buckets[r][b];
			char le[24];
			if (b < GW_METRIC_BUCKETS - 1)
				snprintf(le, sizeof(le), "%g", (double)metric_bounds_us[b] / 1e6);
			else
				snprintf(le, sizeof(le), "+Inf");
			metrics_printf(j,
			               "raftkv_http_request_duration_seconds_bucket{route=\"%s\","
			               "le=\"%s\"} %" PRIu64 "\n",
			               gw_metrics_label(r), le, cum);
		}
		uint64_t us = m->duration_sum_us[r];
		metrics_printf(j,
		               "raftkv_http_request_duration_seconds_sum{route=\"%s\"} %" PRIu64
		               ".%06" PRIu64 "\n",
		               gw_metrics_label(r), us / 1000000, us % 1000000);
		metrics_printf(
		    j, "raftkv_http_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
		    gw_metrics_label(r), m->duration_count[r]);
	}
}

static void metrics_u64(struct gw_json *j, const char *name, const char *type, const char *help,
                        uint64_t v)
{
	metrics_printf(j, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type,
	               name, v);
}

/* Seconds from microseconds, exactly: no float rounding in counters. */
static void metrics_sec(struct gw_json *j, const char *name, const char *type, const char *help,
                        uint64_t us)
{
	metrics_printf(j, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 ".%06" PRIu64 "\n", name, help,
	               name, type, name, us / 1000000, us % 1000000);
}

static void metrics_node(struct gw *gw, struct gw_json *j)
{
	const struct gw_status *s = &gw->status;
	const struct gw_stats *st = &gw->stats;
	metrics_u64(j, "raftkv_raft_term", "gauge", "The current Raft term.", s->msg.term);
	metrics_u64(j, "raftkv_raft_role", "gauge",
	            "Raft role: 0 unknown, 1 follower, 2 precandidate, 3 candidate, 4 leader.",
	            s->valid ? s->msg.role : 0);
	metrics_u64(j, "raftkv_raft_commit_index", "gauge", "The commit index.",
	            s->msg.commit_index);
	metrics_u64(j, "raftkv_raft_applied_index", "gauge", "The applied index.",
	            st->valid ? st->msg.applied_index : s->msg.applied_index);
	metrics_u64(j, "raftkv_wal_fsyncs_total", "counter", "WAL fdatasync calls.",
	            s->msg.wal_fsyncs);
	metrics_sec(j, "raftkv_wal_fsync_seconds_total", "counter", "Time spent in WAL fdatasync.",
	            s->msg.wal_fsync_us_total);
	metrics_sec(j, "raftkv_wal_fsync_seconds_max", "gauge", "The slowest WAL fdatasync.",
	            s->msg.wal_fsync_us_max);
	metrics_u64(j, "raftkv_forwarded_requests_total", "counter",
	            "Writes forwarded to the leader's gateway.", gw->metrics.forwarded);
	metrics_u64(
	    j, "raftkv_relayed_writes_total", "counter",
	    "Writes proposed through this node's raftd, which relayed them to the leader's.",
	    gw->metrics.relayed);
	metrics_u64(j, "raftkv_local_reads_total", "counter",
	            "GETs answered from the node's LMDB in this process (--local-reads).",
	            gw->local.served);
	metrics_u64(j, "raftkv_local_read_fallbacks_total", "counter",
	            "GETs the local state could not serve (too old, not open), sent to storaged.",
	            gw->local.fallbacks);
	metrics_u64(j, "raftkv_local_reopens_total", "counter",
	            "Times the node's LMDB files were found replaced (a snapshot installed).",
	            gw->local.reopens);
	metrics_u64(j, "raftkv_read_index_requests_total", "counter",
	            "READ_INDEX requests sent to raftd, one per loop turn with reads waiting.",
	            gw->read_batches.sent + gw->read_batches.alone);
	metrics_u64(j, "raftkv_read_index_reads_total", "counter",
	            "Linearizable reads that waited for a READ_INDEX (their requests are fewer).",
	            gw->read_batches.joined + gw->read_batches.alone);
	metrics_u64(j, "raftkv_lmdb_map_bytes", "gauge", "The LMDB map size.", st->msg.map_bytes);
	metrics_u64(j, "raftkv_lmdb_used_bytes", "gauge", "Bytes of the LMDB map in use.",
	            st->msg.used_bytes);
	metrics_u64(j, "raftkv_data_bytes", "gauge",
	            "Keys + values + 16 bytes a key: what counts against the quota.",
	            st->msg.data_bytes);
	metrics_u64(j, "raftkv_quota_bytes", "gauge", "The data quota (--quota-bytes).",
	            st->msg.quota_bytes);
	metrics_u64(j, "raftkv_quota_alarm", "gauge", "1: data past 95% of the quota.",
	            st->msg.alarm);
	metrics_u64(j, "raftkv_inflight_requests", "gauge",
	            "Requests waiting on raftd, storaged or the leader.", gw->pending.used);
	metrics_u64(j, "raftkv_peer_messages_dropped_total", "counter",
	            "Peer messages raftd dropped (malformed, unknown sender, overflow).",
	            s->msg.peer_msgs_dropped);
	metrics_u64(j, "raftkv_watchers", "gauge",
	            "Open /v1/watch requests (--max-watchers at most).", gw_watch_open());
	metrics_u64(j, "raftkv_peer_messages_other_cluster_total", "counter",
	            "Peer messages from another cluster (another cluster id), dropped.",
	            s->msg.other_cluster_msgs);
	metrics_u64(j, "raftkv_raft_votes_granted_total", "counter",
	            "VOTE requests this node granted since raftd started.", s->msg.votes_granted);
	metrics_u64(j, "raftkv_raft_replaced", "gauge",
	            "1: the configuration holds another incarnation for this node (lost disk): "
	            "it does not vote until it rejoined.",
	            s->msg.replaced);
}

void gw_metrics_handle(struct gw_req *r)
{
	struct gw *gw = r->gw;
	struct gw_json j;
	gw_json_init(&j, GW_METRICS_BODY_MAX);
	metrics_requests(gw, &j);
	metrics_durations(gw, &j);
	metrics_node(gw, &j);
	gw_reply_send(gw, &r->http, 200, "text/plain; version=0.0.4", j.buf ? j.buf : "", j.len, 0);
	gw_json_free(&j);
}
