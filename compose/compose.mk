# compose/compose.mk - `make compose-test`: compose/docker-compose.yml on a real
# Docker engine (tests/deploy/compose_test.sh). Where no engine answers it says
# so and is skipped, never silently. The image comes from `make image`
# (compose/image.mk). COMPOSE=docker-compose (or "docker compose") picks the
# implementation; by default the plugin when it works, else docker-compose.
#
# `make compose-test-v2`: the same test with the `docker compose` plugin (v2 or
# later) only, opt-in and in no other target: neither `make deps` nor CI builds
# the plugin (too heavy); docs/testing.md says how to build one and which
# versions were run. Skipped, saying why, where the plugin or the engine is missing.

.PHONY: compose-test compose-test-v2
compose-test:
	@if ! err=$$(docker info 2>&1 >/dev/null); then \
		echo "compose-test: SKIPPED: no Docker engine answers" \
			"(docker info: $$(echo "$$err" | tail -n 1))"; \
	elif ! command -v docker-compose >/dev/null 2>&1 && \
			! docker compose version >/dev/null 2>&1; then \
		echo "compose-test: SKIPPED: neither docker-compose nor the docker compose plugin" \
			"is installed"; \
	else \
		$(MAKE) --no-print-directory image && BIN_DIR=$(BUILD) timeout 600 tests/deploy/compose_test.sh; \
	fi

compose-test-v2:
	@if ! err=$$(docker info 2>&1 >/dev/null); then \
		echo "compose-test-v2: SKIPPED: no Docker engine answers" \
			"(docker info: $$(echo "$$err" | tail -n 1))"; \
	elif ! docker compose version >/dev/null 2>&1; then \
		echo "compose-test-v2: SKIPPED: 'docker compose' (the Compose v2+ CLI plugin) is not" \
			"installed; docs/testing.md says how to build one (make compose-test runs docker-compose)"; \
	else \
		$(MAKE) --no-print-directory image && COMPOSE="docker compose" BIN_DIR=$(BUILD) \
			timeout 600 tests/deploy/compose_test.sh; \
	fi

TEST_STEPS += compose-test
