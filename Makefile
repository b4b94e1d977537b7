# nbhd: `make run` serves the sample on http://localhost:8080; `make test`
# runs every test against a real PostGIS. Both provision PostGIS themselves
# (scripts/pg.sh) unless NBHD_DATABASE_URL names your own database.
SHELL := /bin/bash
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.15.0

DB_URL := $(or $(NBHD_DATABASE_URL),$(shell scripts/pg.sh url))
NBHD_ADDR ?= :8080
export NBHD_ADDR

.PHONY: run run-replicated build install viewer db db-replica db-stop migrate load-sample test test-chaos test-scale test-deps lint fmt bench bench-features bench-tiles bench-england bench-imports bench-peers clean

run: db viewer build ## provision, migrate, load the sample if empty, serve on :8080
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd migrate
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd load-sample --if-empty
	NBHD_DATABASE_URL='$(DB_URL)' exec bin/nbhd serve

# docs/deploy.md: the primary, a streaming hot standby of it, two nbhd
# servers reading from the standby and nginx in front on :8080.
run-replicated: db db-replica viewer build ## nginx on :8080 over two servers reading from a hot standby (installs nginx when root)
	scripts/replicated.sh

build: ## build bin/nbhd (with the map viewer if `make viewer` has run)
	$(GO) build -o bin/nbhd ./cmd/nbhd

install: ## go install nbhd into $GOBIN (default $(go env GOPATH)/bin): `nbhd` on your PATH
	$(GO) install ./cmd/nbhd
	@dir=$$($(GO) env GOBIN); dir=$${dir:-$$($(GO) env GOPATH)/bin}; echo "installed $$dir/nbhd"; \
	case ":$$PATH:" in *":$$dir:"*) ;; *) echo "add $$dir to your PATH to run it as nbhd";; esac

viewer: ## install the map viewer's pinned MapLibre GL JS (npm) for embedding
	@scripts/viewer.sh

db: ## start the private PostGIS cluster (installs PostGIS when root)
	@scripts/pg.sh start

db-replica: ## a streaming hot standby of the private cluster, on $$NBHD_PG_PORT+1
	@scripts/pg.sh replica

db-stop: ## stop the private PostGIS cluster (and its standby)
	@scripts/pg.sh stop

migrate: db build
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd migrate

load-sample: migrate ## (re)load the bundled sample
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd load-sample

test: db test-deps viewer ## run every test with the race detector
	NBHD_TEST_DATABASE_URL='$(DB_URL)' $(GO) test -race -timeout 30m ./...

# The chaos tests of issue 11 (api/chaos_test.go): a seeded sweep of 10,200
# bad requests, slow clients, a frozen and a restarted database (clusters of
# their own), a hang-up storm on the composite tile query. About three
# minutes; without the race detector, as they measure behaviour in time.
test-chaos: db test-deps viewer ## the chaos and fault tests (minutes; run by .ci/run after make test)
	@scripts/deps.sh postgis
	NBHD_CHAOS=1 NBHD_TEST_DATABASE_URL='$(DB_URL)' $(GO) test -count=1 -timeout 10m -run '^TestChaos' -v ./api/

# The scale-out tests of issue 15 (cmd/nbhd/scale_test.go): a primary and
# streaming standby of their own, nbhd processes reading from it, nginx in
# front under load with a server killed, the map from a PMTiles archive in
# Chromium, replica lag in /readyz. About two minutes; run by .ci/run.
test-scale: db test-deps viewer ## the scale-out tests: replicas, nginx, PMTiles (minutes; run by .ci/run)
	@scripts/deps.sh scale
	NBHD_SCALE=1 NBHD_TEST_DATABASE_URL='$(DB_URL)' $(GO) test -count=1 -timeout 10m -run '^TestScale' -v ./cmd/nbhd/

test-deps:
	@scripts/deps.sh test

lint: ## no binaries or big files in git, gofmt, go vet, golangci-lint (with the layering rules) and proof the rules bite
	@scripts/check-files.sh --self-test
	@scripts/check-files.sh
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...
	@GOLANGCI_LINT="$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)" scripts/check-layering.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: bench-features bench-tiles ## both load tests (wrk on loopback, fixed durations)

bench-features: db ## wrk over the features and insight endpoints
	scripts/bench-features.sh

bench-tiles: db ## wrk over the borough's tiles, cold and warm (docs/performance-tiles.md)
	scripts/bench-tiles.sh

bench-england: db ## generate synthetic England, load it into nbhd_england, run wrk (docs/performance.md)
	scripts/bench-england.sh

bench-imports: db build ## time a one-row import and a borough's assets re-imported on nbhd_england (docs/performance.md)
	scripts/bench-imports.sh

bench-peers: db ## nbhd beside pg_tileserv and pg_featureserv on nbhd_england (PG_TILESERV=, PG_FEATURESERV=: their binaries; docs/performance.md)
	scripts/bench-peers.sh

clean:
	rm -rf bin
