# recruitment-tracking: the commands of SPEC §7.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The Node.js every target runs on: the machine's own when it is 22 or later, else Node 24
# fetched from the npm registry into the stack cache, the exact version pinned in
# infra/scripts/node.sh and checked against its integrity hash (NODE_MAJOR=22 asks for 22).
NODE_DIR := $(shell bash infra/scripts/node.sh)
export PATH := $(if $(NODE_DIR),$(NODE_DIR):)$(PATH)

NODE_DEPS := node_modules/.package-lock.json
TSX := node --import tsx

.PHONY: help install dashboard chromium up down run demo test check typecheck lint types unit bench ingest-worker aggregator-worker query-service rebuild

help:
	@echo "make up       start the local stack (Kafka, schema registry, Postgres, Redis) and provision it"
	@echo "make down     stop what 'make up' started"
	@echo "make demo     the stack, the services and sample traffic; prints URLs and a token per role"
	@echo "make run      the stack and the three services in the foreground (Ctrl-C stops them)"
	@echo "make test     type-check, lint and run every test against the real stack (starts it if needed)"
	@echo "make bench    the five-part performance bench, ~25-30 min (README Performance; BENCH_SCALE=0.01 for a smoke)"
	@echo "make ingest-worker      run the ingest worker in the foreground"
	@echo "make aggregator-worker  run the aggregator worker in the foreground"
	@echo "make query-service      run the query service in the foreground"
	@echo "make rebuild            recompute the funnel tables from the ingest facts and swap them in"

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The dashboard page (dashboard/), bundled into dashboard/dist for the query service to serve
# at /dashboard/; rebuilt when its sources or the API's schemas change.
DASHBOARD := dashboard/dist/index.html
$(DASHBOARD): $(NODE_DEPS) dashboard/index.html dashboard/vite.config.ts $(shell find dashboard/src -type f 2>/dev/null) services/query-service/schemas.ts
	npx vite build dashboard

# The services as they run: services/, libs/ and infra/ compiled to JavaScript in build/
# (tsconfig.build.json; incremental, so a rebuild compiles what changed). Every target that
# starts a service or the CLI runs this output with plain node, not the TypeScript through tsx.
BUILD := build/.tsbuildinfo
$(BUILD): $(NODE_DEPS) tsconfig.json tsconfig.build.json bench/lib/timing-probe.ts bench/lib/consumer-timing.ts $(shell find services libs infra -name '*.ts' -not -name '*.test.ts' 2>/dev/null)
	npx tsc -p tsconfig.build.json
	@touch $@

install: $(NODE_DEPS) $(DASHBOARD) $(BUILD)
	bash infra/scripts/jemalloc.sh

dashboard: $(NODE_DEPS)
	npx vite build dashboard

# Debian's Chromium for the browser tests (installed as root when missing).
chromium:
	bash infra/scripts/chromium.sh

up: install
	bash infra/scripts/up.sh

down:
	bash infra/scripts/down.sh

types: install
	$(TSX) libs/events/generate-types.ts

typecheck: install
	npx tsc --noEmit -p .
	npx tsc --noEmit -p dashboard
	npx tsc --noEmit -p test/browser

lint: install
	npx eslint --max-warnings=0 .

check: typecheck lint

# Type-check, lint and the unit tests: what CI also runs on Node 22 (NODE_MAJOR=22 make unit).
unit: check
	@echo "node $$(node --version)"
	npx vitest run --project unit

# The suite proper, the dashboard in a real browser, then the stack restart test, which stops and starts the stack and so runs
# alone after everything else.
test: check up chromium
	@echo "node $$(node --version)"
	npx vitest run --project unit --project integration
	npx vitest run --project browser
	npx vitest run --project stack

# The ingest worker in the foreground against the local stack (environment of SPEC §6 passes through),
# under the supervisor of make run, which gives it its Node flags and allocator (libs/runtime/supervisor.ts).
ingest-worker: up
	node build/infra/run.js ingest

# The stack, then the three services in the foreground under one supervisor (SPEC §7).
run: up
	node build/infra/run.js

# Everything plus realistic sample traffic; DEMO_CHECK=1 (set under CI) checks every role and exits.
demo: up
	DEMO_CHECK=$${DEMO_CHECK:-$${CI:+1}} node build/infra/demo.js

# The query service in the foreground against the local stack.
query-service: up
	node build/infra/run.js query

# The aggregator worker in the foreground against the local stack.
aggregator-worker: up
	node build/infra/run.js aggregator

# Recomputes the funnel tables from the ingest facts; safe while the workers run.
rebuild: up
	node bin/recruitment.mjs rebuild

# The performance bench (README "Performance"): prints a table per part and writes
# bench/results/latest.json. BENCH_SCALE shrinks every size (make test runs it at 0.01).
bench: up
	$(TSX) bench/run.ts
