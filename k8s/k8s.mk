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
			$(DEPLOY_GO) test -count=1 -v -timeout 4m -run 'TestPodsInDocker' ./...; \
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
