// Package borough generates one synthetic borough in exactly the layout of
// nbhd's bundled Wigan sample (the same file names, columns and manifest),
// with its own codes (E01990001..., which no real area has), placed beside
// another borough without overlapping it: the second borough that tests of
// several boroughs in one database load next to the sample.
package borough

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"

	"nbhd/cmd/nbhd-synth/internal/geog"
	"nbhd/cmd/nbhd-synth/internal/world"
)

// Options describe the borough.
type Options struct {
	Seed  uint64
	LAD   string // e.g. E08000001
	Name  string // e.g. Bolton
	LSOAs int    // about 150
	// West, South, North bound the borough: it is placed east of West
	// (longitude), between South and North (latitude), e.g. beside the
	// bounding box of the borough it must not overlap.
	West, South, North float64
	// Postcode is the postcode area its postcodes use (e.g. BL).
	Postcode string
	// LSOALADColumns adds lad_code and lad_name to the LSOA GeoJSON.
	LSOALADColumns bool
}

var ladCode = regexp.MustCompile(`^E0[6-9]\d{6}$`)

// Check validates the options.
func (o Options) Check() error {
	switch {
	case !ladCode.MatchString(o.LAD):
		return fmt.Errorf("--lad must be an English district code such as E08000001, got %q", o.LAD)
	case o.Name == "":
		return errors.New("--name is required")
	case o.LSOAs < 20 || o.LSOAs > 2000:
		return fmt.Errorf("--lsoas must be 20..2000, got %d", o.LSOAs)
	case !regexp.MustCompile(`^[A-Z]{1,2}$`).MatchString(o.Postcode):
		return fmt.Errorf("--postcode-area must be one or two capital letters, got %q", o.Postcode)
	}
	return nil
}

// model is the borough's geography and labels.
type model struct {
	opt  Options
	g    *geog.Geo
	area float64 // km²
}

// blob is an irregular, roughly round outline of radius r metres.
func blob(r *rand.Rand, radius float64) world.Outline {
	ph := [3]float64{r.Float64() * 6.3, r.Float64() * 6.3, r.Float64() * 6.3}
	var o world.Outline
	for i := 0; i < 64; i++ {
		a := float64(i) / 64 * 2 * math.Pi
		k := 1 + 0.14*math.Sin(2*a+ph[0]) + 0.08*math.Sin(3*a+ph[1]) + 0.04*math.Sin(5*a+ph[2])
		o = append(o, world.Point{X: radius * k * math.Cos(a), Y: radius * k * math.Sin(a)})
	}
	return o
}

func build(opt Options) (*model, error) {
	r := rand.New(rand.NewPCG(opt.Seed, 200))
	// About 0.9 km² per LSOA, as in a metropolitan borough.
	radius := math.Sqrt(float64(opt.LSOAs)*0.9e6/math.Pi) * 1.0
	lat := (opt.South + opt.North) / 2
	// Centre it 2 km plus its widest reach east of West.
	plane0 := world.NewPlane(opt.West, lat)
	centre := plane0.Forward(opt.West, lat)
	centre.X += 2000 + radius*1.3
	lon, _ := plane0.Inverse(centre)
	plane := world.NewPlane(lon, lat)
	land := blob(r, radius)
	kernels := []world.Kernel{{Name: opt.Name, At: world.Point{}, Pop: 130000, SigmaM: radius * 0.25}}
	for i := 0; i < 3; i++ {
		a := r.Float64() * 2 * math.Pi
		kernels = append(kernels, world.Kernel{At: world.Point{X: 0.55 * radius * math.Cos(a), Y: 0.55 * radius * math.Sin(a)},
			Pop: 30000 + 20000*r.Float64(), SigmaM: radius * 0.12})
	}
	dens := world.NewDensity(land, kernels, 60000)
	g, err := geog.Build(geog.Spec{
		Seed: opt.Seed, Plane: plane, Density: dens, LSOAs: opt.LSOAs,
		Regions:  []geog.Region{{Code: "E12000002", Name: "North West", LADs: 1}},
		RegionOf: func(world.Point) int { return 0 },
		PerMSOA:  5, PerWard: 7.5, LADJitter: 0, Spacing: spacing,
	})
	if err != nil {
		return nil, err
	}
	g.LADs[0].Code, g.LADs[0].Name = opt.LAD, opt.Name
	g.NameSmallAreas()
	for i, c := range g.Order {
		g.LSOAs[c].Code = fmt.Sprintf("E01%06d", 990001+i)
		g.LSOAs[c].FirstOA = 990001 + (g.LSOAs[c].FirstOA - 1)
	}
	names := world.NewNames(rand.New(rand.NewPCG(opt.Seed, 201)), opt.Name)
	for i := range g.MSOAs {
		g.MSOAs[i].Code = fmt.Sprintf("E02%06d", 990001+i)
	}
	for i := range g.Wards {
		g.Wards[i].Code = fmt.Sprintf("E05%06d", 990001+i)
		g.Wards[i].Name = names.Next()
	}
	return &model{opt: opt, g: g, area: land.Area() / 1e6}, nil
}

// spacing gives borough boundaries the vertex density of Wigan's
// generalised LSOAs (a vertex every 100 m or so).
func spacing(area float64, ghost bool, r float64) float64 {
	s := math.Max(40, math.Min(160, 30+0.08*math.Sqrt(area)))
	f := 0.6 + 0.8*r
	if ghost {
		f *= 0.7
	}
	return s * f
}
