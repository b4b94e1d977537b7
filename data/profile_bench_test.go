package data

import (
	"context"
	"os"
	"testing"
)

// BenchmarkProfileFigures reads a data version's profile figures (where
// every neighbourhood is, every borough's comparators, counts and
// settings), as the warmer does after each change, on a loaded database:
//
//	NBHD_BENCH_DATABASE_URL="$(NBHD_PG_DB=nbhd_england13 scripts/pg.sh url)" \
//	  go test -run '^$' -bench ProfileFigures -benchtime 12x ./data
func BenchmarkProfileFigures(b *testing.B) {
	url := os.Getenv("NBHD_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("NBHD_BENCH_DATABASE_URL names no loaded database to measure")
	}
	ctx := context.Background()
	s, err := Open(ctx, Config{URL: url, MaxConns: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, err := s.loadProfileScopes(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
