/*
 * gw_config.h - gatewayd's flags, parsed once in gw_main.c and read-only
 * afterwards (handlers see them through struct gw_req's cfg).
 */
#ifndef RAFTKV_GW_CONFIG_H
#define RAFTKV_GW_CONFIG_H

#include <stdint.h>

struct gw_config {
	uint64_t node_id;
	const char *listen;        /* strings: argv's or static, for the process's life */
	const char *consul_listen; /* Consul's KV API (gw_consul.h); "": off */
	const char *gateways;      /* 1=http://host:port,2=... */
	const char *data_dir;
	const char *sock_dir;
	uint64_t max_value_bytes;
	uint64_t max_inflight;
	uint64_t timeout_ms;   /* the default request deadline */
	uint64_t max_watchers; /* open /v1/watch requests at most (429 past it) */
	const char *log_level;
	/* security (gw_tls.c, gw_auth.h); "" when not given */
	const char *tls_cert;      /* PEM chain; with tls_key: HTTPS */
	const char *tls_key;       /* PEM private key */
	const char *tls_client_ca; /* PEM CAs: clients must present a certificate they signed */
	const char *peer_ca;       /* PEM CAs that signed the other gateways' certificates */
	const char *auth_file;     /* TOKEN ROLE [PREFIX] lines: every route but probes needs one */
	int insecure;              /* allow a non-loopback --listen without TLS */
	int local_reads;           /* GETs read <data_dir>/kv themselves (gw_local.h) */
	int relay_writes;          /* a follower's writes go to the leader through its raftd */
};

#endif
