# claude-pool — see README.md. `make run` runs the pool in the foreground; `make test` runs the tests.
SHELL := /bin/bash
NPM_STAMP := node_modules/.install-stamp
TESTS ?= dist/test/*.test.js
# The host protocol's version, as src/host/protocol.ts says it.
HOST_PROTOCOL := $(shell sed -n 's/^export const protocolVersion = \([0-9]*\);/\1/p' src/host/protocol.ts)

.PHONY: all build run test test-systemd check bench install-user deb rpm test-packages test-container clean

all: build

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The session host: C, with libvterm and jansson linked in (Debian: libvterm-dev libjansson-dev).
HOST_SOURCES := $(addprefix native/,host.c feeder.c vterm-screen.c spec.c pty.c log.c buf.c utf8.c)
HOST_CFLAGS := -std=gnu11 -pthread -O2 -g -Wall -Wextra -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HOST_LDFLAGS := -pthread -pie -Wl,-z,relro,-z,now
dist/native/claude-pool-host: $(HOST_SOURCES) $(wildcard native/*.h) src/host/protocol.ts
	@mkdir -p dist/native
	$(CC) $(HOST_CFLAGS) $(CFLAGS) -DPROTOCOL_VERSION=$(HOST_PROTOCOL) -o $@ $(HOST_SOURCES) \
		$(HOST_LDFLAGS) $(LDFLAGS) -Wl,-Bstatic -lvterm -ljansson -Wl,-Bdynamic

build: $(NPM_STAMP) dist/native/claude-pool-host
	npx tsc -p tsconfig.json
	npx vite build --config web/vite.config.ts
	chmod +x dist/src/bin/*.js dist/test/fake-claude.js
	node dist/packaging/docs.js dist/docs

run: build
	dist/src/bin/claude-pool.js start

check: $(NPM_STAMP)
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p web/tsconfig.json
	npx eslint .
	npx prettier --check .

# Every temp dir of the run is under one root (TMPDIR), removed at the end. After the node tests
# and after the systemd tests, check-leftovers fails the run if a process of it still works in or
# points into that root; other runs on the machine have roots of their own.
test: build
	@root=$$(mktemp -d /tmp/claude-pool-run.XXXXXX) || exit; \
	trap 'rm -rf "$$root"' EXIT; \
	export TMPDIR=$$root; \
	echo "node --test $(TESTS) (temp dirs under $$root)"; \
	node --test --test-concurrency=1 --test-reporter=spec $(TESTS); rc=$$?; \
	node dist/test/check-leftovers.js "$$root" || rc=1; \
	[ $$rc = 0 ] || exit $$rc; \
	if [ "$$(id -u)" = 0 ] && [ -e /usr/lib/systemd/user/dbus.socket ]; then \
		test/run-systemd-tests; rc=$$?; \
		node dist/test/check-leftovers.js "$$root" || rc=1; \
		exit $$rc; \
	else \
		echo "systemd tests skipped: they need root and dbus-user-session (test/run-systemd-tests)"; \
	fi

test-systemd: build
	test/run-systemd-tests

install-user: build
	packaging/install-user.sh

deb: build
	packaging/deb/build.sh

rpm: build
	packaging/rpm/build.sh

test-packages:
	test/package-test

test-container: build
	test/container-test

bench: build
	node dist/bench/spawn.js
	node dist/bench/control.js
	node dist/bench/channel.js
	node --expose-gc dist/bench/scrollback.js
	node dist/bench/ledger.js
	node dist/bench/turn.js
	node dist/bench/hooks.js
	node dist/bench/host.js
	node dist/bench/dashboard.js
	node dist/bench/remotes.js
	@if [ "$$(id -u)" = 0 ] && [ -e /usr/lib/systemd/user/dbus.socket ]; then \
		test/systemd-sandbox node dist/bench/systemd.js; \
	else \
		echo "systemd benchmark skipped: test/systemd-sandbox needs root and dbus-user-session"; \
	fi

clean:
	rm -rf dist
