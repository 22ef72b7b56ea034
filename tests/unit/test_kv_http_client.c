/*
 * test_kv_http_client.c - the one HTTP client (common/kv_http_client.c)
 * against a real TCP server on 127.0.0.1 run by a thread of this test: a
 * Content-Length body, a chunked body, the bearer token and Host sent, a
 * body cut short, a malformed chunk, an answer over the size limit, a server
 * that never answers (the total timeout), garbage instead of HTTP, nobody
 * listening, a bad CA file; and the token file reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kv_clock.h"
#include "kv_err.h"
#include "kv_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One canned answer per connection; the request's head is kept for checks. */
struct canned {
	int listen_fd;
	const char *answer; /* NULL: hold the connection open without answering */
	size_t answer_len;
	int hold_ms;
	char request[4096];
};

static void *server_run(void *arg)
{
	struct canned *c = arg;
	int fd = accept(c->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	size_t got = 0;
	while (got + 1 < sizeof(c->request)) {
		ssize_t r = recv(fd, c->request + got, sizeof(c->request) - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		c->request[got] = '\0';
		const char *end = strstr(c->request, "\r\n\r\n");
		const char *cl = strstr(c->request, "Content-Length: ");
		/* the whole request, body included: closing on unread bytes would reset */
		if (end != NULL && (cl == NULL || got >= (size_t)(end + 4 - c->request) +
		                                             strtoul(cl + 16, NULL, 10)))
			break;
	}
	if (c->answer != NULL)
		send(fd, c->answer, c->answer_len, MSG_NOSIGNAL);
	else
		usleep((useconds_t)c->hold_ms * 1000);
	close(fd);
	return NULL;
}

/* Listens on 127.0.0.1 (a free port) and serves one connection with answer. */
static void serve_once(struct canned *c, const char *answer, size_t len, struct kv_url *u,
                       pthread_t *th)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	c->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->listen_fd >= 0);
	assert_int_equal(bind(c->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(c->listen_fd, 1), 0);
	assert_int_equal(getsockname(c->listen_fd, (struct sockaddr *)&a, &alen), 0);
	c->answer = answer;
	c->answer_len = len;
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	assert_int_equal(kv_url_parse(url, u), 0);
	assert_int_equal(pthread_create(th, NULL, server_run, c), 0);
}

static uint64_t ask_took_ms; /* how long the last ask's request took */

static int ask(const char *answer, size_t len, const struct kv_http_opts *o,
               struct kv_http_resp *resp, char *why, size_t why_cap, struct canned *c)
{
	struct kv_url u;
	pthread_t th;
	serve_once(c, answer, len, &u, &th);
	struct kv_http_req req = {.method = "POST",
	                          .path = "/v1/members",
	                          .body = "{}",
	                          .body_len = 2,
	                          .content_type = "application/json"};
	uint64_t t0 = kv_clock_mono_ms();
	int rc = kv_http_request(&u, o, &req, resp, why, why_cap);
	ask_took_ms = kv_clock_mono_ms() - t0;
	pthread_join(th, NULL);
	close(c->listen_fd);
	return rc;
}

static const struct kv_http_opts opts = {
    .token = "s3cret", .user_agent = "test", .step_ms = 2000, .response_bytes_max = 4096};

static void test_content_length_and_token(void **state)
{
	static struct canned c;
	struct kv_http_resp resp;
	char why[512];
	const char *a = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Raft-Leader: 2\r\n\r\n"
	                "hellojunk";
	assert_int_equal(ask(a, strlen(a), &opts, &resp, why, sizeof(why), &c), 0);
	assert_int_equal(resp.status, 201);
	assert_int_equal(resp.body_len, 5);
	assert_string_equal(resp.body, "hello");
	char v[16];
	assert_int_equal(kv_http_header(&resp, "x-raft-leader", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	assert_int_equal(kv_http_header(&resp, "x-missing", v, sizeof(v)), -1);
	assert_non_null(strstr(c.request, "POST /v1/members HTTP/1.1\r\n"));
	assert_non_null(strstr(c.request, "Authorization: Bearer s3cret\r\n"));
	assert_non_null(strstr(c.request, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(c.request, "Host: 127.0.0.1:"));
	kv_http_resp_free(&resp);
	kv_http_resp_free(&resp); /* safe twice */
}

static void test_chunked(void **state)
{
	static struct canned c;
	struct kv_http_resp resp;
	char why[512];
	const char *a = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	                "3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
	assert_int_equal(ask(a, strlen(a), &opts, &resp, why, sizeof(why), &c), 0);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body, "{\"a\":1}");
	kv_http_resp_free(&resp);
}

static void test_bad_answers(void **state)
{
	static struct canned c;
	struct kv_http_resp resp;
	char why[512];
	static const char *const bad[] = {
	    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nab\r\n0\r\n\r\n",
	    "SSH-2.0-OpenSSH\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nno end of head",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ask(bad[i], strlen(bad[i]), &opts, &resp, why, sizeof(why), &c);
		if (rc != KV_EPROTO)
			fail_msg("answer %zu: got %d, want KV_EPROTO", i, rc);
		assert_null(resp.raw);
		assert_non_null(strstr(why, "no valid HTTP answer"));
	}
	printf("checked: %zu malformed answers refused as KV_EPROTO\n",
	       sizeof(bad) / sizeof(bad[0]));
}

static void test_too_large(void **state)
{
	static struct canned c;
	struct kv_http_resp resp;
	char why[512];
	size_t n = 10000;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	memcpy(big, "HTTP/1.1 200 OK\r\n\r\n", 19);
	assert_int_equal(ask(big, n, &opts, &resp, why, sizeof(why), &c), KV_ETOOLARGE);
	assert_non_null(strstr(why, "over 4096 bytes"));
	free(big);
}

static void test_total_timeout(void **state)
{
	static struct canned c;
	struct kv_http_resp resp;
	char why[512];
	struct kv_http_opts o = opts;
	o.total_ms = 300; /* each step may take 2 s, the whole request 0.3 s */
	c.hold_ms = 1500;
	assert_int_equal(ask(NULL, 0, &o, &resp, why, sizeof(why), &c), KV_ETIMEDOUT);
	assert_true(ask_took_ms >= 250 && ask_took_ms < 1000); /* the server held it 1.5 s */
	assert_non_null(strstr(why, "timed out"));
	printf("checked: a silent server given up on after the total timeout\n");
}

static void test_unreachable_and_bad_tls(void **state)
{
	struct kv_url u;
	struct kv_http_resp resp;
	char why[512];
	struct kv_http_req req = {.method = "GET", .path = "/"};
	/* port 1 on loopback: nobody listens */
	assert_int_equal(kv_url_parse("http://127.0.0.1:1", &u), 0);
	assert_int_equal(kv_http_request(&u, &opts, &req, &resp, why, sizeof(why)), KV_EUNAVAIL);
	assert_non_null(strstr(why, "cannot connect"));
	struct kv_http_opts o = opts;
	o.tls.cacert = "/nonexistent/ca.pem";
	assert_int_equal(kv_url_parse("https://127.0.0.1:1", &u), 0);
	assert_int_equal(kv_http_request(&u, &o, &req, &resp, why, sizeof(why)), KV_EINVAL);
	assert_non_null(strstr(why, "CA certificates"));
}

static void test_url(void **state)
{
	struct kv_url u;
	assert_int_equal(kv_url_parse("https://[fe80::1]:4001/", &u), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "fe80::1");
	assert_string_equal(u.port, "4001");
	static const char *const bad[] = {"http://h:1#x", "http:///",      "http://h:99999",
	                                  "h:1",          "https://a@b:1", "http://h:1/path"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(kv_url_parse(bad[i], &u), KV_EINVAL);
}

static void token_file(const char *path, const char *content, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
}

static void test_token_file(void **state)
{
	char path[] = "/tmp/test_kv_http_tokenXXXXXX", tok[16], why[512];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	token_file(path, "abc123\nsecond line\n", 19);
	assert_int_equal(kv_http_token_read_file(path, tok, sizeof(tok), why, sizeof(why)), 0);
	assert_string_equal(tok, "abc123");
	token_file(path, "0123456789abcdefXYZ", 19); /* over 15 bytes */
	assert_int_equal(kv_http_token_read_file(path, tok, sizeof(tok), why, sizeof(why)),
	                 KV_EINVAL);
	assert_null(strstr(why, "0123456789")); /* the token is never in a message */
	token_file(path, "ab\tc\n", 5);
	assert_int_equal(kv_http_token_read_file(path, tok, sizeof(tok), why, sizeof(why)),
	                 KV_EINVAL);
	token_file(path, "\n", 1);
	assert_int_equal(kv_http_token_read_file(path, tok, sizeof(tok), why, sizeof(why)),
	                 KV_EINVAL);
	unlink(path);
	assert_int_equal(kv_http_token_read_file(path, tok, sizeof(tok), why, sizeof(why)), KV_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_length_and_token),
	    cmocka_unit_test(test_chunked),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_total_timeout),
	    cmocka_unit_test(test_unreachable_and_bad_tls),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_token_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
