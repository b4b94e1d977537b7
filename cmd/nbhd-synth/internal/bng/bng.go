// Package bng converts WGS84 longitude/latitude to British National Grid
// eastings and northings (EPSG:27700) the way PROJ does without the OSTN15
// grid: a seven-parameter Helmert shift to OSGB36 and the Transverse
// Mercator projection on the Airy 1830 ellipsoid. Files that publish
// eastings and northings (Code-Point Open, GIAS) are written with it, and
// PostGIS turns them back into the same place to within centimetres.
package bng

import "math"

const (
	wgsA, wgsF   = 6378137.0, 1 / 298.257223563
	airyA, airyB = 6377563.396, 6356256.909
	f0           = 0.9996012717
	e0, n0       = 400000.0, -100000.0
)

var (
	phi0 = 49 * math.Pi / 180
	lam0 = -2 * math.Pi / 180
)

// FromLonLat returns the easting and northing of a WGS84 position.
func FromLonLat(lon, lat float64) (e, n float64) {
	x, y, z := toECEF(lon, lat, wgsA, wgsF)
	// WGS84 -> OSGB36, the inverse of EPSG:27700's towgs84 parameters.
	const (
		tx, ty, tz = -446.448, 125.157, -542.060
		s          = 20.4894e-6
	)
	sec := math.Pi / (180 * 3600)
	rx, ry, rz := -0.1502*sec, -0.2470*sec, -0.8421*sec
	x2 := tx + (1+s)*x - rz*y + ry*z
	y2 := ty + rz*x + (1+s)*y - rx*z
	z2 := tz - ry*x + rx*y + (1+s)*z
	phi, lam := fromECEF(x2, y2, z2, airyA, 1-airyB/airyA)
	return project(phi, lam)
}

func toECEF(lon, lat, a, f float64) (x, y, z float64) {
	phi, lam := lat*math.Pi/180, lon*math.Pi/180
	e2 := f * (2 - f)
	nu := a / math.Sqrt(1-e2*math.Sin(phi)*math.Sin(phi))
	return nu * math.Cos(phi) * math.Cos(lam), nu * math.Cos(phi) * math.Sin(lam), nu * (1 - e2) * math.Sin(phi)
}

func fromECEF(x, y, z, a, f float64) (phi, lam float64) {
	e2 := f * (2 - f)
	p := math.Hypot(x, y)
	phi = math.Atan2(z, p*(1-e2))
	for i := 0; i < 10; i++ {
		nu := a / math.Sqrt(1-e2*math.Sin(phi)*math.Sin(phi))
		phi = math.Atan2(z+e2*nu*math.Sin(phi), p)
	}
	return phi, math.Atan2(y, x)
}

// project is the Ordnance Survey's Transverse Mercator formulae.
func project(phi, lam float64) (float64, float64) {
	a, b := airyA, airyB
	e2 := 1 - b*b/(a*a)
	n := (a - b) / (a + b)
	sin, cos := math.Sin(phi), math.Cos(phi)
	nu := a * f0 / math.Sqrt(1-e2*sin*sin)
	rho := a * f0 * (1 - e2) / math.Pow(1-e2*sin*sin, 1.5)
	eta2 := nu/rho - 1
	dp, sp := phi-phi0, phi+phi0
	m := b * f0 * ((1+n+1.25*n*n+1.25*n*n*n)*dp -
		(3*n+3*n*n+21.0/8*n*n*n)*math.Sin(dp)*math.Cos(sp) +
		(15.0/8*n*n+15.0/8*n*n*n)*math.Sin(2*dp)*math.Cos(2*sp) -
		35.0/24*n*n*n*math.Sin(3*dp)*math.Cos(3*sp))
	tan := math.Tan(phi)
	i := m + n0
	ii := nu / 2 * sin * cos
	iii := nu / 24 * sin * cos * cos * cos * (5 - tan*tan + 9*eta2)
	iiia := nu / 720 * sin * math.Pow(cos, 5) * (61 - 58*tan*tan + math.Pow(tan, 4))
	iv := nu * cos
	v := nu / 6 * cos * cos * cos * (nu/rho - tan*tan)
	vi := nu / 120 * math.Pow(cos, 5) * (5 - 18*tan*tan + math.Pow(tan, 4) + 14*eta2 - 58*tan*tan*eta2)
	dl := lam - lam0
	north := i + ii*dl*dl + iii*math.Pow(dl, 4) + iiia*math.Pow(dl, 6)
	east := e0 + iv*dl + v*dl*dl*dl + vi*math.Pow(dl, 5)
	return east, north
}
