package imd

import (
	"math/rand/v2"
	"testing"
)

func TestRanksArePermutationsWithConsistentDeciles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	base := make([]float64, 3377)
	for i := range base {
		base[i] = r.NormFloat64()
	}
	s := Score(r, base)
	for d := 0; d < 8; d++ {
		seen := make([]bool, len(base)+1)
		for i, x := range s {
			rk := x.Rank[d]
			if rk < 1 || rk > len(base) || seen[rk] {
				t.Fatalf("domain %d: rank %d repeated or out of range", d, rk)
			}
			seen[rk] = true
			if want := (rk-1)*10/len(base) + 1; x.Decile[d] != want {
				t.Fatalf("domain %d area %d: rank %d has decile %d, want %d", d, i, rk, x.Decile[d], want)
			}
		}
	}
	// The most deprived by score is rank 1.
	best := 0
	for i := range s {
		if s[i].Score[0] > s[best].Score[0] {
			best = i
		}
	}
	if s[best].Rank[0] != 1 {
		t.Fatalf("highest IMD score has rank %d", s[best].Rank[0])
	}
}
