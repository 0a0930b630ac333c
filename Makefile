# tfgrid — build, run and test the grid. `make help` lists the targets.
GO       ?= go
BUILDDIR ?= $(CURDIR)/build

.PHONY: help build localnet test test-unit test-e2e proto-gen proto-check bench-chain lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build tfgridd into ./build
	$(GO) build -o $(BUILDDIR)/tfgridd ./cmd/tfgridd

localnet: build ## start a fresh single-validator chain under .localnet (RESUME=1 keeps its state)
	TFGRIDD=$(BUILDDIR)/tfgridd ./scripts/localnet.sh

test: build ## run every test: unit, integration and end-to-end (uses ./build/tfgridd)
	TFGRIDD_BIN=$(BUILDDIR)/tfgridd $(GO) test -count=1 -timeout 40m ./...

proto-gen: ## regenerate Go code and the OpenAPI document from proto/ (offline)
	./scripts/protocgen.sh

proto-check: ## fail if the committed generated code is stale
	./scripts/protocheck.sh

bench-chain: build ## measure committed tx/s of registry transactions against bank sends
	TFGRIDD=$(BUILDDIR)/tfgridd ./scripts/bench-chain.sh

clean: ## remove build outputs
	rm -rf $(BUILDDIR)
