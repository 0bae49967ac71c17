# swrunc — build, demo, test, conformance, bench. Run as root on Debian 12.
SHELL := /bin/bash
SWIFT ?= swift
# A static, non-PIE executable: no dynamic loader and ~39k fewer relocations per start
# (run 15.9 → 12.3 ms, RSS 12.7 → 9.1 MiB here). The -dev packages carry the static C libraries.
# One section per function, and the functions the lifecycle commands run laid out side by side
# (Linker/hot-sections.txt, from bench/hot-order.sh): a command maps the binary in 64 KiB
# windows, and fewer windows mean less page-fault work at each exec and a smaller peak RSS.
RELEASE_FLAGS := -c release -Xswiftc -static-executable -Xswiftc -Xfrontend -Xswiftc -function-sections \
	-Xlinker --section-ordering-file=$(CURDIR)/Linker/hot-sections.txt -Xlinker --strip-all
BIN := $(CURDIR)/.build/release/swrunc
# Debian packages the build and demo need, then those the tests add (installed only when missing).
DEPS := busybox-static libseccomp-dev libcap-dev libselinux1-dev libpcre2-dev pkg-config jq
# swctr: libarchive and libcrypto to build; podman's seccomp profile, its default for containers; the CNI
# plugins (dnsname runs dnsmasq), iproute2 for network namespaces, iptables for the plugins; rootless:
# uidmap (newuidmap for the user's subordinate ids) and slirp4netns (its default network).
SWCTR_DEPS := libarchive-dev libssl-dev golang-github-containers-common \
	containernetworking-plugins golang-github-containernetworking-plugin-dnsname dnsmasq-base iproute2 iptables \
	uidmap slirp4netns
TEST_DEPS := runc crun hyperfine time strace golang-github-containers-common libjansson-dev python3 util-linux \
	containerd docker.io podman curl iptables libarchive-dev libssl-dev docker-registry skopeo umoci \
	apache2-utils openssl zstd iperf3 buildah debootstrap uidmap gcc libc6-dev
VALIDATOR := conformance/build/validator
RUNTIME ?= $(BIN)

.PHONY: all deps test-deps build swctr install demo test bench bench-swctr bench-build bench-compose clean integration conformance conformance-compare conformance-selftest fuzz

all: build

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

deps:
	$(call apt_install,$(DEPS))

# The CRI test client needs grpcio + grpcio-tools for the python3 on PATH: from PyPI, or Debian's
# packages when that python3 is Debian's own (pip refuses to install into it).
test-deps: deps
	$(call apt_install,$(TEST_DEPS))
	@python3 -c 'import grpc, grpc_tools' 2>/dev/null || python3 -m pip install -q grpcio grpcio-tools 2>/dev/null || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-grpcio python3-grpc-tools
	@python3 -c 'import grpc, grpc_tools'

build: deps
	@# SwiftPM does not recompile when only -Xfrontend flags change: start the release build over.
	@[ "$$(cat .build/release.flags 2>/dev/null)" = '$(RELEASE_FLAGS)' ] || \
		{ rm -rf .build/x86_64-unknown-linux-gnu/release; mkdir -p .build; echo '$(RELEASE_FLAGS)' > .build/release.flags; }
	@# Nor does it relink for a new layout: remove the binary it would otherwise keep.
	@[ ! -e $(BIN) ] || [ ! Linker/hot-sections.txt -nt $(BIN) ] || rm -f $(BIN)
	$(SWIFT) build $(RELEASE_FLAGS) --product swrunc

# swrunc on its own, then swctr's main job: a build, a compose project up, asked, and down.
demo: build swctr
	@scripts/demo.sh $(BIN)
	@scripts/demo-swctr.sh $(BIN) $(SWCTR_BIN)/swctr

# Every test: unit and integration tests against the release binary, then the conformance suite
# against swrunc (deliberate deviations listed in conformance/known-deviations.txt) and its self-test.
test: test-deps build swctr $(VALIDATOR)
	SWRUNC_BIN=$(BIN) $(SWIFT) test
	cd swctr && $(SWIFT) test
	python3 conformance/run.py --runtime $(BIN) --known-deviations conformance/known-deviations.txt
	python3 conformance/run.py --selftest $(BIN)
	PYTHONHASHSEED=0 python3 fuzz/config_fuzz.py $(BIN) --tries 1200 --seed 20261201
	python3 integration/run.py $(BIN)

# swctr, the image manager: its own package (network and database dependencies stay out of swrunc).
swctr: deps
	$(call apt_install,$(SWCTR_DEPS))
	cd swctr && $(SWIFT) build -c release --static-swift-stdlib -Xlinker --strip-all

# swrunc, swctr and the container monitor on PATH (swctr finds the other two next to itself).
PREFIX ?= /usr/local
SWCTR_BIN := $(CURDIR)/swctr/.build/release
install: build swctr
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(SWCTR_BIN)/swctr $(SWCTR_BIN)/swctr-monitor $(DESTDIR)$(PREFIX)/bin/

# containerd (ctr and the CRI plugin), dockerd and podman as throwaway daemons running through
# swrunc, and swctr against a real registry.
integration: test-deps build swctr
	python3 integration/run.py $(BIN)

# The in-container validator: static, so it runs in any rootfs.
$(VALIDATOR): conformance/validator/validator.c | test-deps
	mkdir -p $(dir $@)
	gcc -O2 -Wall -Wextra -static -o $@ $< -ljansson

# The OCI conformance suite against any runtime: make conformance RUNTIME=/usr/sbin/runc
conformance: test-deps build $(VALIDATOR)
	python3 conformance/run.py --runtime "$(RUNTIME)"

# swrunc, runc and crun side by side (crun through bench/wrap.sh); writes conformance/RESULTS.md.
conformance-compare: test-deps build $(VALIDATOR)
	python3 conformance/run.py --compare swrunc=$(BIN) runc=runc "crun=bench/wrap.sh crun"

conformance-selftest: test-deps build $(VALIDATOR)
	python3 conformance/run.py --selftest $(BIN)

# Mutated config.json files against swrunc (a new random seed each time; `make test` runs a fixed one).
fuzz: build
	python3 fuzz/config_fuzz.py $(BIN) --tries $(or $(TRIES),2000)

# swrunc, runc and crun side by side; writes bench/RESULTS.md.
bench: test-deps build
	bench/run.sh

# swctr next to podman (conmon with runc and with crun); writes bench/RESULTS-swctr.md.
bench-swctr: test-deps build swctr
	bench/swctr.sh

# swctr build next to buildah; writes bench/RESULTS-build.md.
bench-build: test-deps build swctr
	bench/build.sh

# swctr compose next to docker-compose (a throwaway dockerd) and podman-compose; writes bench/RESULTS-compose.md.
bench-compose: test-deps build swctr
	$(call apt_install,docker-compose podman-compose)
	bench/compose.sh

clean:
	rm -rf .build conformance/build swctr/.build
