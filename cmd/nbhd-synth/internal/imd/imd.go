// Package imd invents English Indices of Deprivation for synthetic small
// areas: a spatially correlated score (deprived inner cities and former
// industrial towns, with noise), ranked 1 (most deprived) to N with deciles
// consistent with the ranks, for the IMD and its seven domains.
package imd

import (
	"math"
	"math/rand/v2"
	"sort"

	"nbhd/cmd/nbhd-synth/internal/tess"
)

// Domains are the IoD's columns in their published order: the IMD, then
// income, employment, education, health, crime, barriers, living
// environment.
var Domains = []string{
	"Index of Multiple Deprivation (IMD)", "Income", "Employment", "Education, Skills and Training",
	"Health Deprivation and Disability", "Crime", "Barriers to Housing and Services", "Living Environment",
}

// Scored is one area's scores, ranks and deciles per domain.
type Scored struct {
	Score  [8]float64
	Rank   [8]int
	Decile [8]int
}

// Field is a smooth random surface over the plane.
type Field struct {
	bumps []bump
}

type bump struct {
	at       tess.Point
	sigma, a float64
}

// NewField scatters n bumps over the box lo..hi.
func NewField(r *rand.Rand, lo, hi tess.Point, n int) *Field {
	f := &Field{}
	for i := 0; i < n; i++ {
		f.bumps = append(f.bumps, bump{
			at:    tess.Point{X: lo.X + r.Float64()*(hi.X-lo.X), Y: lo.Y + r.Float64()*(hi.Y-lo.Y)},
			sigma: 5000 + r.Float64()*35000, a: r.NormFloat64(),
		})
	}
	return f
}

// At is the field's value at p.
func (f *Field) At(p tess.Point) float64 {
	var v float64
	for _, b := range f.bumps {
		dx, dy := p.X-b.at.X, p.Y-b.at.Y
		v += b.a * math.Exp(-(dx*dx+dy*dy)/(2*b.sigma*b.sigma))
	}
	return v
}

// Score makes the scores of areas whose base deprivation is given (higher
// is more deprived), then ranks them within the set: rank = 1 + the number
// of areas more deprived, ties broken by order.
func Score(r *rand.Rand, base []float64) []Scored {
	out := make([]Scored, len(base))
	for i, b := range base {
		imd := b + 0.35*r.NormFloat64()
		out[i].Score[0] = imd
		for d := 1; d < 8; d++ {
			w := []float64{0, 0.9, 0.85, 0.7, 0.75, 0.55, 0.3, 0.4}[d]
			out[i].Score[d] = w*imd + (1-w)*r.NormFloat64()
		}
	}
	idx := make([]int, len(base))
	for d := 0; d < 8; d++ {
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return out[idx[a]].Score[d] > out[idx[b]].Score[d] })
		for rank, i := range idx {
			out[i].Rank[d] = rank + 1
			out[i].Decile[d] = rank*10/len(base) + 1
		}
	}
	return out
}

// Published turns a score into a number shaped like the IoD's (IMD score
// 0..90, income and employment rates, the rest about zero), for files that
// carry scores.
func Published(d int, s float64) float64 {
	switch d {
	case 0:
		return math.Max(0.5, 21+13*s)
	case 1, 2:
		return math.Max(0.005, 0.13+0.08*s)
	case 3:
		return math.Max(0.1, 21+17*s)
	default:
		return 0.8 * s
	}
}
