package world

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Bisect splits items (indices into pos) into k groups by recursive
// half-plane cuts across the longer side of each group, at a share of the
// items jittered by ±jitter, so groups are compact and contiguous like
// districts and their sizes vary. The groups come out in a stable order.
func Bisect(r *rand.Rand, items []int, pos []Point, k int, jitter float64) [][]int {
	if k <= 1 || len(items) <= 1 {
		return [][]int{items}
	}
	if k > len(items) {
		k = len(items)
	}
	lo, hi := Point{X: math.Inf(1), Y: math.Inf(1)}, Point{X: math.Inf(-1), Y: math.Inf(-1)}
	for _, i := range items {
		p := pos[i]
		lo.X, lo.Y = math.Min(lo.X, p.X), math.Min(lo.Y, p.Y)
		hi.X, hi.Y = math.Max(hi.X, p.X), math.Max(hi.Y, p.Y)
	}
	angle := (r.Float64() - 0.5) * math.Pi / 3 // within 30° of the long axis
	if hi.Y-lo.Y > hi.X-lo.X {
		angle += math.Pi / 2
	}
	ux, uy := math.Cos(angle), math.Sin(angle)
	sorted := append([]int(nil), items...)
	key := make(map[int]float64, len(items))
	for _, i := range items {
		key[i] = pos[i].X*ux + pos[i].Y*uy
	}
	sort.SliceStable(sorted, func(a, b int) bool {
		ka, kb := key[sorted[a]], key[sorted[b]]
		if ka != kb {
			return ka < kb
		}
		return sorted[a] < sorted[b]
	})
	k1 := k / 2
	share := float64(k1) / float64(k) * (1 + (r.Float64()*2-1)*jitter)
	cut := int(math.Round(share * float64(len(sorted))))
	cut = max(k1, min(len(sorted)-(k-k1), cut))
	left := Bisect(r, sorted[:cut], pos, k1, jitter)
	right := Bisect(r, sorted[cut:], pos, k-k1, jitter)
	return append(left, right...)
}
