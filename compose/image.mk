# compose/image.mk - `make image`: the raftkv image, built from this machine
# alone (no registry): tools/image-rootfs.sh + compose/Dockerfile (FROM scratch).
# Several `make test` runs in one checkout may build it at once (compose-test,
# k8s-test): flock keeps them from assembling the same directory together.

RAFTKV_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_BINS = $(BUILD)/raftd $(BUILD)/storaged $(BUILD)/gatewayd $(BUILD)/raftkvctl \
	$(BUILD)/raftkv-pod
IMAGE_CTX = $(BUILD)/image

.PHONY: image
image: build
	@mkdir -p $(IMAGE_CTX)
	flock $(IMAGE_CTX).lock sh -c '\
		tools/image-rootfs.sh $(IMAGE_CTX)/rootfs $(IMAGE_BINS) && \
		cp compose/Dockerfile $(IMAGE_CTX)/Dockerfile && \
		docker build -q -t raftkv:$(RAFTKV_VERSION) -t raftkv:latest $(IMAGE_CTX)'
	@docker image ls raftkv:latest --format 'image: {{.Repository}}:{{.Tag}} {{.Size}}'
