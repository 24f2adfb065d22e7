# Gatehouse — see README.md. `make run` starts a demo gateway, `make test` runs every test.
DOTNET ?= dotnet
CONFIG ?= Release

.PHONY: all build run test test-fast tools pouchdb-suite browser-test bench bench-micro bench-alloc publish publish-aot startup-time soak clean

all: build

build:
	$(DOTNET) build Gatehouse.slnx -c $(CONFIG) -nologo -v minimal

# Node packages used by the integration tests (pouchdb-server, pouchdb, ws, puppeteer-core), pinned by
# tools/package-lock.json. PUPPETEER_SKIP_DOWNLOAD=1: never a browser download; the browser test drives
# Debian's /usr/bin/chromium.
# Installs only when the lockfile changed since the last install (the stamp holds its hash): npm ci
# wipes and reinstalls everything, about a minute, on every `make test` otherwise.
tools:
	@if [ -f tools/package-lock.json ]; then \
	    want=$$(sha256sum tools/package-lock.json | cut -d' ' -f1); \
	    if [ "$$(cat tools/node_modules/.gatehouse-lock 2>/dev/null)" != "$$want" ]; then \
	        echo "tools: installing the Node packages (pouchdb-server, pouchdb, ws, puppeteer-core) into tools/node_modules"; \
	        PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix tools --no-audit --no-fund --loglevel=error && echo "$$want" > tools/node_modules/.gatehouse-lock; \
	    fi; \
	fi

run:
	bash scripts/run-demo.sh

test: tools
	bash scripts/test.sh

# The fast loop while working on a layer: the layer projects' tests (Wire, Http1, Proxy, Files,
# WebSockets), no process, Node or browser tests. About a minute on 2 cores once built.
FAST_TESTS = Wire Http1 Proxy Files WebSockets
test-fast:
	@set -e; for p in $(FAST_TESTS); do $(DOTNET) test tests/$$p.Tests -c Debug -nologo -v quiet --logger "console;verbosity=minimal"; done

# PouchDB's own integration suite through the gateway's CouchDB mount vs straight at pouchdb-server
# (issue 23; also part of `make test`). POUCHDB_SUITE_FILES=get,changes picks files.
pouchdb-suite: tools
	bash scripts/pouchdb-suite/run.sh

# Jupyter Notebook through the gateway in Debian's headless chromium, with a client certificate and as
# a friend with a password (issue 19; also part of `make test`). Needs root and
# apt-get install -y chromium libnss3-tools jupyter-notebook, else SKIPPED. Screenshots: .run/browser/.
browser-test: tools
	bash scripts/browser/run.sh

# A self-contained single-file binary in out/publish/gatehouse (no .NET install needed to run it).
publish:
	$(DOTNET) publish src/Gatehouse -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -p:DebugType=none -o out/publish -nologo -v minimal

# The same as a NativeAOT binary in out/publish-aot/gatehouse: no JIT, starts faster. Needs clang and
# zlib headers (Debian: apt-get install -y clang zlib1g-dev); trim/AOT warnings are errors like any other.
publish-aot:
	@command -v clang >/dev/null || { echo "publish-aot needs clang and zlib1g-dev: apt-get install -y clang zlib1g-dev"; exit 1; }
	$(DOTNET) publish src/Gatehouse -c Release -r linux-x64 -p:PublishAot=true -p:DebugType=none -o out/publish-aot -nologo -v minimal

# Spawn to ready line, 10 runs each, for whichever of the published binaries exist (scripts/startup-time.py).
startup-time:
	@for b in out/publish/gatehouse out/publish-aot/gatehouse; do [ -x $$b ] && python3 scripts/startup-time.py $$b 10 || true; done

# Mixed traffic and reloads against the real executable; SOAK_SECONDS (default 600). Not part of CI.
soak:
	python3 bench/soak/soak.py

bench-micro:
	$(DOTNET) run -c Release --project bench/Micro -- --filter '*'

# Bytes allocated per keep-alive proxied GET, whole process (issue 9); --by-type samples the types.
bench-alloc:
	$(DOTNET) run -c Release --project bench/Micro -- --allocations $(if $(BY_TYPE),--by-type,)

bench:
	bash bench/compare/run.sh

clean:
	$(DOTNET) clean Gatehouse.slnx -nologo -v quiet
	rm -rf .run TestResults

# Coverage-guided fuzzing of the HTTP/1.1 parser (not in CI): SharpFuzz-instrumented Gatehouse.Http1 under
# AFL++ (apt-get install -y afl++), each target (head, target, chunk, body) for FUZZ_SECONDS; see fuzz/run.sh.
FUZZ_SECONDS ?= 300
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) DOTNET=$(DOTNET) bash fuzz/run.sh
