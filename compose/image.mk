# compose/image.mk - `make image`: the raftkv image, built from this machine
# alone (no registry): tools/image-rootfs.sh + compose/Dockerfile (FROM scratch).

RAFTKV_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_BINS = $(BUILD)/raftd $(BUILD)/storaged $(BUILD)/gatewayd $(BUILD)/raftkvctl
IMAGE_CTX = $(BUILD)/image

.PHONY: image
image: build
	tools/image-rootfs.sh $(IMAGE_CTX)/rootfs $(IMAGE_BINS)
	cp compose/Dockerfile $(IMAGE_CTX)/Dockerfile
	docker build -q -t raftkv:$(RAFTKV_VERSION) -t raftkv:latest $(IMAGE_CTX)
	@docker image ls raftkv:latest --format 'image: {{.Repository}}:{{.Tag}} {{.Size}}'
