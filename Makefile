# ghillie-run — build, test, benchmark.
#
#   make build   debug build of ghillie-run
#   make release release build (.build/release/ghillie-run)
#   make install the release build copied to $(PREFIX)/bin (PREFIX=/usr/local; DESTDIR honoured)
#   make test    every test, against SQLite and a real PostgreSQL started on 127.0.0.1
#   make demo    the whole pipeline offline on a generated estate, with a kill and a resume
#   make bench   benchmarks (release build); numbers go into docs/benchmarks.md
#   make format  formats the Swift sources as .swift-format says (`make test` checks it)
#
# Missing Debian packages are installed with apt-get; SwiftPM fetches the Swift packages
# Package.swift names, and `make test` the Python helpers it names from PyPI; nothing else.

SWIFT ?= swift
# Release builds link the Swift runtime in, as the container image does: each process starts
# ~15–20 ms sooner (no symbol lookups into the runtime's shared libraries).
RELEASE := -c release --static-swift-stdlib
APT_PACKAGES := libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev pkgconf postgresql sqlite3 git
# `make test` also renders the estate HTML page in headless Chromium, and puts a private CA
# (made with openssl) in front of the fake GitHub.
TEST_PACKAGES := chromium openssl ca-certificates

.PHONY: deps build release install test demo bench format clean

PREFIX ?= /usr/local

deps:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c "import jsonschema, yaml, graphql, kubernetes_validate, helm_python, cmarkgfm" 2>/dev/null || python3 -m pip install -q jsonschema pyyaml graphql-core kubernetes-validate helm-python-sdk cmarkgfm

build: deps
	$(SWIFT) build --product ghillie-run

release: deps
	$(SWIFT) build $(RELEASE) --product ghillie-run

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/ghillie-run $(DESTDIR)$(PREFIX)/bin/ghillie-run

test: EXTRA_PACKAGES = $(TEST_PACKAGES)
test: deps
	scripts/test

demo: deps
	scripts/demo

bench: deps
	$(SWIFT) build $(RELEASE) --product ghillie-run
	$(SWIFT) build $(RELEASE) --product ghillie-run-teststages
	$(SWIFT) build $(RELEASE) --product Bench
	scripts/bench

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build .demo out/demo
