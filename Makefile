# Meridian: federated query planner and data-lake governance.
# Two commands for a newcomer: `make run` and `make test`.

GO        ?= go
BIN       := bin
# Fuzz budgets are counts of inputs, not durations: a -fuzztime duration can
# end a run with a spurious "context deadline exceeded" on Go 1.26
# (golang/go#75804). FUZZTIME, when given (e.g. 5m), sets both.
FUZZ_PARSE ?= $(or $(FUZZTIME),200000x)
FUZZ_PLAN  ?= $(or $(FUZZTIME),40000x)
DEMO_DIR  ?= .meridian
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(CURDIR)/.cache/versitygw-$(VERSITYGW_VERSION)/versitygw
export GOTOOLCHAIN := local

.PHONY: all build test unit fuzz bench run lint clean tools e2e-js

all: build

## build: compile the binaries into bin/
build:
	$(GO) build -o $(BIN)/meridian ./cmd/meridian
	$(GO) build -o $(BIN)/meridian-engine ./cmd/meridian-engine

## test: lint, every test, and short fuzz runs of the SQL parser and of the policy plan against OPA's evaluator
test: lint unit fuzz

unit: tools e2e-js
	MERIDIAN_VERSITYGW=$(VERSITYGW) $(GO) test -count=1 ./...
	@# The summary lines of the corpus and policy-pack tests (go test hides them without -v).
	@$(GO) test -count=1 -v -run '^(TestCorpus|TestDefaultPackTests)$$' ./planner ./policy | grep -E '^(corpus|policy pack):'


## e2e-js: install the npm trino-client the end-to-end tests drive (internal/e2e/js, from its lock file)
E2E_JS := internal/e2e/js
e2e-js: $(E2E_JS)/node_modules/.package-lock.json
$(E2E_JS)/node_modules/.package-lock.json: $(E2E_JS)/package.json $(E2E_JS)/package-lock.json
	@if command -v npm >/dev/null; then cd $(E2E_JS) && npm ci --no-audit --no-fund; \
	else echo 'npm not found: the npm trino-client end-to-end tests will be skipped (install nodejs and npm)'; fi

## tools: install the local S3 server (versitygw) and PostgreSQL the integration tests start
tools: $(VERSITYGW)
	@set -- /usr/lib/postgresql/*/bin/initdb; if [ ! -x "$$1" ]; then \
	  echo 'PostgreSQL server not found in /usr/lib/postgresql: installing it (internal/pgtest starts it)'; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

# The version is in the path, so changing it installs the new one.
$(VERSITYGW):
	GOBIN=$(dir $(VERSITYGW)) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_PARSE) ./planner/sql
	$(GO) test -run '^$$' -fuzz '^FuzzPlanEquivalence$$' -fuzztime $(FUZZ_PLAN) ./policy

## bench: benchmarks with allocations (parse + analysis over the corpus; Meridian against the engines, end to end)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./planner/... ./catalog/... ./policy/... ./engine/... ./lifecycle/... ./internal/e2e/...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## run: build, create the demo lake if missing, and start engines for eu, us and apac and
## Meridian on 127.0.0.1:8080 (development mode) and 127.0.0.1:8443 (TLS, passwords); Ctrl-C stops
run: build
	@test -f $(DEMO_DIR)/catalog.db || $(BIN)/meridian demo init --dir $(DEMO_DIR)
	$(BIN)/meridian demo up --dir $(DEMO_DIR)

clean:
	rm -rf $(BIN)
