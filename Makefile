# swrunc — build, demo, test, conformance, bench. Run as root on Debian 12.
SHELL := /bin/bash
SWIFT ?= swift
RELEASE_FLAGS := -c release --static-swift-stdlib -Xlinker --strip-all
BIN := $(CURDIR)/.build/release/swrunc
# Debian packages the build and the tests need (installed only when missing).
DEPS := busybox-static libseccomp-dev libcap-dev libselinux1-dev pkg-config jq runc crun hyperfine time \
	golang-github-containers-common

.PHONY: all deps build demo test bench clean

all: build

deps:
	@missing=""; for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

demo: build
	@scripts/demo.sh $(BIN)

# Every test: unit tests and integration tests that run real containers against the release binary.
test: build
	SWRUNC_BIN=$(BIN) $(SWIFT) test

# swrunc, runc and crun side by side; writes bench/RESULTS.md.
bench: build
	bench/run.sh

clean:
	rm -rf .build
