# nbhd: `make run` serves the sample on http://localhost:8080; `make test`
# runs every test against a real PostGIS. Both provision PostGIS themselves
# (scripts/pg.sh) unless NBHD_DATABASE_URL names your own database.
SHELL := /bin/bash
GO ?= go
GOLANGCI_LINT_VERSION ?= v2.15.0

DB_URL := $(or $(NBHD_DATABASE_URL),$(shell scripts/pg.sh url))
NBHD_ADDR ?= :8080
export NBHD_ADDR

.PHONY: run build viewer db db-stop migrate load-sample test test-deps lint fmt bench bench-features bench-tiles bench-england clean

run: db viewer build ## provision, migrate, load the sample if empty, serve on :8080
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd migrate
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd load-sample --if-empty
	NBHD_DATABASE_URL='$(DB_URL)' exec bin/nbhd serve

build: ## build bin/nbhd (with the map viewer if `make viewer` has run)
	$(GO) build -o bin/nbhd ./cmd/nbhd

viewer: ## install the map viewer's pinned MapLibre GL JS (npm) for embedding
	@scripts/viewer.sh

db: ## start the private PostGIS cluster (installs PostGIS when root)
	@scripts/pg.sh start

db-stop: ## stop the private PostGIS cluster
	@scripts/pg.sh stop

migrate: db build
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd migrate

load-sample: migrate ## (re)load the bundled sample
	NBHD_DATABASE_URL='$(DB_URL)' bin/nbhd load-sample

test: db test-deps viewer ## run every test with the race detector
	NBHD_TEST_DATABASE_URL='$(DB_URL)' $(GO) test -race -timeout 30m ./...

test-deps:
	@scripts/deps.sh test

lint: ## gofmt, go vet and golangci-lint
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

bench: bench-features bench-tiles ## both load tests (wrk on loopback, fixed durations)

bench-features: db ## wrk over the features and insight endpoints
	scripts/bench-features.sh

bench-tiles: db ## wrk over the borough's tiles, cold and warm (docs/performance-tiles.md)
	scripts/bench-tiles.sh

bench-england: db ## generate synthetic England, load it into nbhd_england, run wrk (docs/performance.md)
	scripts/bench-england.sh

clean:
	rm -rf bin
