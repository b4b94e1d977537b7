#!/usr/bin/env bash
# Proves that the layering rules in .golangci.yml (depguard) really fail on
# a violation. It copies the repository's files to a temporary directory,
# plants one forbidden import per rule there, runs golangci-lint on the copy
# with the repository's config, and fails unless the linter reports every
# planted import under the rule that forbids it. The copy is removed
# afterwards; the working tree is never touched. Run by `make lint`.
#
#   scripts/check-layering.sh
#   GOLANGCI_LINT="golangci-lint" scripts/check-layering.sh   # a linter on PATH
set -euo pipefail
cd "$(dirname "$0")/.."
lint=${GOLANGCI_LINT:-go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(sed -n "s/^GOLANGCI_LINT_VERSION ?= //p" Makefile)}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
	xargs -0 cp --parents -t "$tmp"

# Each violation: the file to plant, its package clause, the import, and
# the text the rule's message carries. Imports that would make an import
# cycle are planted in external test packages, where Go allows them.
violations=(
	"api/zz_layering_test.go|package api|github.com/jackc/pgx/v5|only data (and its tests) imports pgx"
	"cmd/nbhd/zz_layering.go|package main|github.com/gin-gonic/gin|only api imports gin"
	"tiles/zz_layering_test.go|package tiles_test|nbhd/data|tiles imports only geo of nbhd"
	"geo/zz_layering_test.go|package geo_test|nbhd/tiles|geo is the bottom of the graph"
	"data/zz_layering_test.go|package data_test|nbhd/api|data sits below api"
	"data/ingest/zz_layering.go|package ingest|net/http|HTTP belongs in api"
)
for v in "${violations[@]}"; do
	IFS='|' read -r file pkg imp _ <<<"$v"
	printf '%s\n\n// A deliberate layering violation (scripts/check-layering.sh).\nimport _ "%s"\n' "$pkg" "$imp" >"$tmp/$file"
done

set +e
# A cache of its own: golangci-lint's shared cache does not key depguard's
# findings on the paths the rules resolve to.
out=$(cd "$tmp" && GOLANGCI_LINT_CACHE="$tmp/.lint-cache" $lint run --enable-only depguard ./... 2>&1)
code=$?
[[ -n ${CHECK_LAYERING_VERBOSE:-} ]] && printf "%s\n" "$out"
set -e
bad=0
if ((code == 0)); then
	echo "check-layering: golangci-lint passed a tree with layering violations" >&2
	bad=1
fi
for v in "${violations[@]}"; do
	IFS='|' read -r file _ imp msg <<<"$v"
	if ! grep -F "$file" <<<"$out" | grep -qF "$msg"; then
		echo "check-layering: importing $imp in $file was not reported (want \"$msg\")" >&2
		bad=1
	fi
done
if ((bad)); then
	printf 'golangci-lint said:\n%s\n' "$out" >&2
	exit 1
fi
echo "check-layering: depguard refuses all ${#violations[@]} planted layering violations"
