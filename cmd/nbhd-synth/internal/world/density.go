package world

import (
	"math"
	"math/rand/v2"
)

// Kernel is a town or city: a Gaussian bump of population.
type Kernel struct {
	Name     string
	At       Point
	Pop      float64
	SigmaM   float64
	Anchored bool // a named place the geography should carry (a LAD name)
}

// Density is people per square metre over an outline: kernels plus an even
// rural background.
type Density struct {
	Kernels    []Kernel
	Background float64 // people spread evenly over the land
	Land       Outline
	landArea   float64
	total      float64
	cum        []float64 // cumulative kernel weights, background last
	lo, hi     Point
}

// NewDensity prepares a density for sampling.
func NewDensity(land Outline, kernels []Kernel, background float64) *Density {
	d := &Density{Kernels: kernels, Background: background, Land: land, landArea: land.Area()}
	d.lo, d.hi = land.Bounds()
	for _, k := range kernels {
		d.total += k.Pop
		d.cum = append(d.cum, d.total)
	}
	d.total += background
	d.cum = append(d.cum, d.total)
	return d
}

// Total is the population the density describes.
func (d *Density) Total() float64 { return d.total }

// At is the density at p (people per m²), ignoring the coastline.
func (d *Density) At(p Point) float64 {
	v := d.Background / d.landArea
	for _, k := range d.Kernels {
		dx, dy := p.X-k.At.X, p.Y-k.At.Y
		r2 := dx*dx + dy*dy
		s2 := k.SigmaM * k.SigmaM
		if r2 > 25*s2 {
			continue
		}
		v += k.Pop / (2 * math.Pi * s2) * math.Exp(-r2/(2*s2))
	}
	return v
}

// Sample draws a land point from the density.
func (d *Density) Sample(r *rand.Rand) Point {
	for {
		u := r.Float64() * d.total
		i := 0
		for i < len(d.cum)-1 && u >= d.cum[i] {
			i++
		}
		var p Point
		if i < len(d.Kernels) {
			k := d.Kernels[i]
			p = Point{X: k.At.X + r.NormFloat64()*k.SigmaM, Y: k.At.Y + r.NormFloat64()*k.SigmaM}
		} else {
			p = Point{X: d.lo.X + r.Float64()*(d.hi.X-d.lo.X), Y: d.lo.Y + r.Float64()*(d.hi.Y-d.lo.Y)}
		}
		if d.Land.Contains(p) {
			return p
		}
	}
}
