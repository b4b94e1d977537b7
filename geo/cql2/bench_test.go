package cql2

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// BenchmarkParseQGISPolygon reads the kind of filter QGIS sends for a
// drawn area: a decile test and a 1,000-vertex polygon (about 24 KiB).
func BenchmarkParseQGISPolygon(b *testing.B) {
	var pts []string
	for i := range 1000 {
		a := 2 * math.Pi * float64(i) / 1000
		pts = append(pts, fmt.Sprintf("%.6f %.6f", -2.63+0.05*math.Cos(a), 53.54+0.03*math.Sin(a)))
	}
	pts = append(pts, pts[0])
	filter := "imd_decile <= 2 AND S_INTERSECTS(geometry, POLYGON((" + strings.Join(pts, ", ") + ")))"
	b.SetBytes(int64(len(filter)))
	for b.Loop() {
		if _, err := ParseText(filter); err != nil {
			b.Fatal(err)
		}
	}
}
