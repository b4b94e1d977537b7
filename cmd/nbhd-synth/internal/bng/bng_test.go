package bng

import (
	"math"
	"testing"
)

// The Wigan sample's Code-Point rows give both: M28 1AA is at 371824,
// 401263 and -2.4263, 53.507293 (its lon/lat were made with PROJ's Helmert
// fallback, rounded to 6 decimals).
func TestFromLonLatMatchesSample(t *testing.T) {
	for _, c := range []struct{ lon, lat, e, n float64 }{
		{-2.4263, 53.507293, 371824, 401263},
		{-2.423242, 53.509075, 372028, 401460},
	} {
		e, n := FromLonLat(c.lon, c.lat)
		if math.Abs(e-c.e) > 1.5 || math.Abs(n-c.n) > 1.5 {
			t.Errorf("%v,%v: got %.1f,%.1f want %v,%v", c.lon, c.lat, e, n, c.e, c.n)
		}
	}
}
