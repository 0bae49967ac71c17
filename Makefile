# swrunc — build, demo, test, conformance, bench. Run as root on Debian 12.
SHELL := /bin/bash
SWIFT ?= swift
RELEASE_FLAGS := -c release --static-swift-stdlib -Xlinker --strip-all
BIN := $(CURDIR)/.build/release/swrunc
# Debian packages the build and the tests need (installed only when missing).
DEPS := busybox-static libseccomp-dev libcap-dev libselinux1-dev pkg-config jq runc crun hyperfine time \
	golang-github-containers-common libjansson-dev python3 util-linux
VALIDATOR := conformance/build/validator
RUNTIME ?= $(BIN)

.PHONY: all deps build demo test bench clean conformance conformance-compare conformance-selftest

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

# Every test: unit and integration tests against the release binary, then the conformance suite
# against swrunc (deliberate deviations listed in conformance/known-deviations.txt) and its self-test.
test: build $(VALIDATOR)
	SWRUNC_BIN=$(BIN) $(SWIFT) test
	python3 conformance/run.py --runtime $(BIN) --known-deviations conformance/known-deviations.txt
	python3 conformance/run.py --selftest $(BIN)

# The in-container validator: static, so it runs in any rootfs.
$(VALIDATOR): conformance/validator/validator.c | deps
	mkdir -p $(dir $@)
	gcc -O2 -Wall -Wextra -static -o $@ $< -ljansson

# The OCI conformance suite against any runtime: make conformance RUNTIME=/usr/sbin/runc
conformance: build $(VALIDATOR)
	python3 conformance/run.py --runtime "$(RUNTIME)"

# swrunc, runc and crun side by side (crun through bench/wrap.sh); writes conformance/RESULTS.md.
conformance-compare: build $(VALIDATOR)
	python3 conformance/run.py --compare swrunc=$(BIN) runc=runc "crun=bench/wrap.sh crun"

conformance-selftest: build $(VALIDATOR)
	python3 conformance/run.py --selftest $(BIN)

# swrunc, runc and crun side by side; writes bench/RESULTS.md.
bench: build
	bench/run.sh

clean:
	rm -rf .build conformance/build
