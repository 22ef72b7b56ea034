# k8s/k8s.mk - `make k8s-test`: the Kubernetes manifests, tested without a
# Kubernetes cluster (tests/deploy/k8s, Go):
#   - always: every manifest decoded strictly into k8s.io/api types (a
#     misspelled or mistyped field fails) and the deployment's invariants;
#   - when a Docker engine answers: the StatefulSet's pods run as containers
#     with the manifest's own commands, env, volumes and security settings
#     (TLS, tokens and Curve from the Secret tools/certs.sh writes), and must
#     form a working cluster. Without Docker it says it is skipped.
# `kubectl apply -f k8s/` reads only the *.yaml files here, not this one.

DEPLOY_GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
K8S_TEST_DIR := tests/deploy/k8s
# The Secret the pods mount, made by tools/certs.sh as `make certs` makes it for a user.
K8S_TEST_SECRETS = $(abspath $(BUILD))/k8s-test

.PHONY: k8s-test k8s-test-manifests k8s-test-pods
k8s-test: k8s-test-manifests k8s-test-pods

k8s-test-manifests:
	@tools/install-go.sh
	cd $(K8S_TEST_DIR) && $(DEPLOY_GO) test -count=1 -v -timeout 2m \
		-run 'Manifests|Strict|Every|StatefulSet|Shared|NodeId|Services|Disruption|Probes|Resources|Secure|Scaling' ./...

k8s-test-pods:
	@if ! err=$$(docker info 2>&1 >/dev/null); then \
		echo "k8s-test: pods-in-Docker part SKIPPED: no Docker engine answers" \
			"(docker info: $$(echo "$$err" | tail -n 1))"; \
	else \
		$(MAKE) --no-print-directory image && \
		BASE_DIR=$(K8S_TEST_SECRETS) BIN_DIR=$(BUILD) tools/certs.sh >/dev/null && \
		cd $(K8S_TEST_DIR) && RAFTKV_K8S_DOCKER=1 \
			RAFTKV_K8S_SECRET=$(K8S_TEST_SECRETS)/secrets/k8s/raftkv-secrets.yaml \
			$(DEPLOY_GO) test -count=1 -v -timeout 9m -run 'TestPods' ./...; \
	fi

TEST_STEPS += k8s-test

# raftkv-pod (k8s/pod/): the pods' startup and stop logic, in the image beside
# the daemons (the image has no shell). Links only libcommon.
POD_SRCS := $(wildcard k8s/pod/*.c)
POD_OBJS := $(POD_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/raftkv-pod: $(POD_OBJS) $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $(POD_OBJS) $(BUILD)/libcommon.a

$(BUILD)/k8s/pod/%.o: CFLAGS += -Ik8s/pod

BINS += $(BUILD)/raftkv-pod

# make k8s-pods-bugs: each planted bug of raftkv-pod in an image of its own
# (raftkv:podbug-<bug>, the other binaries as built), run through TestPodsScale,
# which must fail. Not in make test (about 2 minutes per bug, Docker needed).
POD_BUGS := POD_BUG_KEEP_DATA POD_BUG_NO_LEAVE

$(BUILD)/podbug/%/raftkv-pod: $(POD_SRCS) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -D$* -Ik8s/pod -o $@ $(POD_SRCS) $(BUILD)/libcommon.a

.PHONY: k8s-pods-bugs
k8s-pods-bugs: build $(foreach b,$(POD_BUGS),$(BUILD)/podbug/$(b)/raftkv-pod)
	@tools/install-go.sh
	@BASE_DIR=$(K8S_TEST_SECRETS) BIN_DIR=$(BUILD) tools/certs.sh >/dev/null
	@for b in $(POD_BUGS); do \
		ctx=$(BUILD)/image-podbug-$$b; tag=raftkv:podbug-$$(echo $$b | tr A-Z_ a-z-); \
		log=$(abspath $(BUILD))/podbug-$$b.log; \
		mkdir -p $$ctx && tools/image-rootfs.sh $$ctx/rootfs $(BUILD)/raftd $(BUILD)/storaged \
			$(BUILD)/gatewayd $(BUILD)/raftkvctl $(BUILD)/podbug/$$b/raftkv-pod >/dev/null && \
		cp compose/Dockerfile $$ctx/Dockerfile && docker build -q -t $$tag $$ctx >/dev/null || exit 1; \
		(cd $(K8S_TEST_DIR) && RAFTKV_K8S_DOCKER=1 RAFTKV_K8S_IMAGE=$$tag \
			RAFTKV_K8S_SECRET=$(K8S_TEST_SECRETS)/secrets/k8s/raftkv-secrets.yaml \
			$(DEPLOY_GO) test -count=1 -v -timeout 6m -run 'TestPodsScale' ./... >$$log 2>&1); \
		docker image rm -f $$tag >/dev/null; \
		if ! grep -q -- '--- FAIL: TestPodsScale' $$log; then \
			echo "k8s-pods-bugs: $$b NOT caught (log: $$log)"; exit 1; \
		fi; \
		echo "k8s-pods-bugs: $$b caught: $$(grep -m1 -E 'scale_test.go:[0-9]+: .*(not within|did not)' \
			$$log | sed 's/^ *//')"; \
	done
