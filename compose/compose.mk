# compose/compose.mk - `make compose-test`: compose/docker-compose.yml on a real
# Docker engine (tests/deploy/compose_test.sh). Where no engine answers it says
# so and is skipped, never silently. The image comes from `make image`
# (compose/image.mk).

.PHONY: compose-test
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

TEST_STEPS += compose-test
