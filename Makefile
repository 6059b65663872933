# Meridian: federated query planner and data-lake governance.
# Two commands for a newcomer: `make run` and `make test`.

GO        ?= go
BIN       := bin
FUZZTIME  ?= 15s
DEMO_DIR  ?= .meridian
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(CURDIR)/.cache/versitygw-$(VERSITYGW_VERSION)/versitygw
export GOTOOLCHAIN := local

.PHONY: all build test unit fuzz bench run lint clean tools

all: build

## build: compile the binaries into bin/
build:
	$(GO) build -o $(BIN)/meridian ./cmd/meridian
	$(GO) build -o $(BIN)/meridian-engine ./cmd/meridian-engine

## test: lint, every test, and a short fuzz run of the SQL parser
test: lint unit fuzz

unit: tools
	MERIDIAN_VERSITYGW=$(VERSITYGW) $(GO) test -count=1 ./...
	@# The summary lines of the corpus and policy-pack tests (go test hides them without -v).
	@$(GO) test -count=1 -v -run '^(TestCorpus|TestDefaultPackTests)$$' ./planner ./policy | grep -E '^(corpus|policy pack):'


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
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./planner/sql

## bench: benchmarks with allocations (parse + analysis over the corpus)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./planner/... ./catalog/... ./policy/... ./engine/... ./lifecycle/...

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## run: build Meridian, create the demo lake if missing, and show what Meridian sees
## (the Trino-protocol proxy and regional engines arrive with `serve`)
run: build
	@test -f $(DEMO_DIR)/catalog.db || $(BIN)/meridian demo init --dir $(DEMO_DIR)
	@echo '--- The demo lake (meridian catalog ls eu; describe eu.bookings):'
	@MERIDIAN_DIR=$(DEMO_DIR) $(BIN)/meridian catalog ls eu
	@MERIDIAN_DIR=$(DEMO_DIR) $(BIN)/meridian catalog describe eu.bookings
	@echo '--- What Meridian reads from a statement before deciding where it may run:'
	$(BIN)/meridian plan --catalog iceberg --schema eu \
	  "SELECT country, count(*) AS guests FROM guests WHERE created_at >= TIMESTAMP '2024-01-01 00:00:00' GROUP BY country"
	@echo '--- A statement it cannot parse is read conservatively and reported as a Trino error:'
	@$(BIN)/meridian plan --catalog iceberg --schema eu "SELECT email FROM guests WHERE" \
	  || echo "(exit status $$?: the statement did not parse, as intended here)"

clean:
	rm -rf $(BIN)
