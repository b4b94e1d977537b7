package tess

import "math"

func abs(v float64) float64  { return math.Abs(v) }
func sqrt(v float64) float64 { return math.Sqrt(v) }
