# tfgrid — build, run and test the grid. `make help` lists the targets.
GO       ?= go
BUILDDIR ?= $(CURDIR)/build

.PHONY: help build build-agent localnet demo test test-unit test-e2e proto-gen proto-check ts-gen bench-chain lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build tfgridd into ./build
	$(GO) build -o $(BUILDDIR)/tfgridd ./cmd/tfgridd

localnet: build build-rmb build-agent ## start a fresh chain, an RMB relay and (as root) a node agent under .localnet (RESUME=1 keeps its state)
	TFGRIDD=$(BUILDDIR)/tfgridd RMB_RELAY=$(BUILDDIR)/rmb-relay ZOS_AGENT=$(BUILDDIR)/zos-agent ./scripts/localnet.sh

demo: build ## with localnet running (root): deploy examples/webserver.json on a public IP, reach it from the internet namespace, show the bill, cancel (KEEP=1 keeps it)
	TFGRIDD=$(BUILDDIR)/tfgridd ./scripts/demo.sh

test: build build-agent build-rmb ## run every test: unit, integration and end-to-end (uses ./build/tfgridd, zos-agent and rmb-relay)
	TFGRIDD_BIN=$(BUILDDIR)/tfgridd ZOS_AGENT_BIN=$(BUILDDIR)/zos-agent RMB_RELAY_BIN=$(BUILDDIR)/rmb-relay $(GO) test -count=1 -timeout 40m ./...

build-agent: ## build the node agent zos-agent into ./build
	$(GO) build -o $(BUILDDIR)/zos-agent ./cmd/zos-agent

proto-gen: ## regenerate Go code and the OpenAPI document from proto/ (offline)
	./scripts/protocgen.sh

proto-check: ## fail if the committed generated code (Go, OpenAPI, ts-client) is stale (PROTOCHECK_TS=0: without node, skip ts-client)
	./scripts/protocheck.sh

ts-gen: ## regenerate the TypeScript client's code (ts-client/src/generated) from proto/ (needs node; runs npm ci when needed)
	./ts-client/scripts/gen.sh

bench-chain: build ## measure committed tx/s of registry txs and node contracts against bank sends
	TFGRIDD=$(BUILDDIR)/tfgridd ./scripts/bench-chain.sh

clean: ## remove build outputs
	rm -rf $(BUILDDIR)

# --- RMB (relay, peer SDK) ---------------------------------------------------------------------
.PHONY: build-rmb bench-rmb fuzz-rmb redis-server
FUZZTIME ?= 30s
# A new input is minimized within this; the default (60 s) can outlast a short run, which then
# ends with "context deadline exceeded" although nothing failed.
FUZZMINIMIZE ?= 2s

build-rmb: ## build rmb-relay into ./build
	$(GO) build -o $(BUILDDIR)/rmb-relay ./cmd/rmb-relay

bench-rmb: build build-rmb ## RMB on loopback: relay throughput, round-trip latency and CPU split
	TFGRIDD=$(BUILDDIR)/tfgridd RMB_RELAY=$(BUILDDIR)/rmb-relay ./scripts/bench-rmb.sh

fuzz-rmb: ## fuzz the RMB envelope decoder and token parser for FUZZTIME each (default 30s)
	$(GO) test ./rmb/ -run '^$$' -fuzz '^FuzzScanEnvelope$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE)
	$(GO) test ./rmb/ -run '^$$' -fuzz '^FuzzParseToken$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE)

redis-server: ## install Debian's redis-server when missing (the Redis tests also do it themselves)
	@command -v redis-server >/dev/null || apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)

# --- billing benchmark -------------------------------------------------------------------------
.PHONY: bench-billing

bench-billing: ## billing EndBlock time and settlements/s on 10k, 100k and 1M live contracts (SIZES=..., PROFILE=1)
	./scripts/bench-billing.sh

# --- node agent benchmark -----------------------------------------------------------------------
.PHONY: bench-agent

bench-agent: build build-agent build-rmb ## deploy latency RMB request → ok (containers, with a public IP, TCG VMs to first answer), public-IP path throughput (root)
	./scripts/bench-agent.sh
