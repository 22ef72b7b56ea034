# common/module.mk - what common/'s own unit tests link besides libcommon.a
# (the Makefile builds libcommon.a from every common/*.c).

# The HTTP client's test runs a server thread and links OpenSSL through kv_http_conn.c.
TEST_LIBS_test_kv_http_client := $(BUILD)/libcommon.a -lssl -lcrypto -lpthread
