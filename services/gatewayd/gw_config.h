/*
 * gw_config.h - gatewayd's flags, parsed once in gw_main.c and read-only
 * afterwards (handlers see them through struct gw_req's cfg).
 */
#ifndef RAFTKV_GW_CONFIG_H
#define RAFTKV_GW_CONFIG_H

#include <stdint.h>

struct gw_config {
	uint64_t node_id;
	const char *listen;   /* strings: argv's or static, for the process's life */
	const char *gateways; /* 1=http://host:port,2=... */
	const char *data_dir;
	const char *sock_dir;
	uint64_t max_value_bytes;
	uint64_t max_inflight;
	uint64_t timeout_ms; /* the default request deadline */
	const char *log_level;
};

#endif
