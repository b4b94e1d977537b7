package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"

	"nbhd/cmd/nbhd-synth/internal/borough"
	"nbhd/data/sample"
)

func cmdBorough(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("nbhd-synth borough", flag.ContinueOnError)
	fl.SetOutput(stderr)
	opt := borough.Options{}
	fl.Uint64Var(&opt.Seed, "seed", 1, "random seed: the same seed and flags give the same bytes")
	out := fl.String("out", "", "output directory (created)")
	fl.StringVar(&opt.LAD, "lad", "", "the borough's local authority district code (e.g. E08000001)")
	fl.StringVar(&opt.Name, "name", "", "the borough's name (e.g. Bolton)")
	fl.IntVar(&opt.LSOAs, "lsoas", 150, "number of small areas")
	fl.StringVar(&opt.Postcode, "postcode-area", "BL", "postcode area of its postcodes")
	near := fl.String("near", "wigan", "place it east of this borough's polygons: wigan (the bundled sample) or WEST,SOUTH,NORTH in degrees")
	fl.BoolVar(&opt.LSOALADColumns, "lsoa-lad-columns", false, "add lad_code/lad_name to the LSOA GeoJSON (the sample's file has them; real ONS downloads do not)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	var err error
	if *near == "wigan" {
		opt.West, opt.South, opt.North, err = sampleBounds()
		if err != nil {
			return err
		}
	} else if _, err := fmt.Sscanf(*near, "%g,%g,%g", &opt.West, &opt.South, &opt.North); err != nil {
		return usageError{fmt.Sprintf("--near must be wigan or WEST,SOUTH,NORTH, got %q", *near)}
	}
	if err := opt.Check(); err != nil {
		return usageError{err.Error()}
	}
	s, err := borough.Generate(*out, opt, stderr)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(map[string]any{"counts": s.Counts, "bounds": s.Bounds, "vertices": s.Vertices}, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}

// sampleBounds is the east edge and latitude range of the bundled sample's
// small areas, read from its LSOA file.
func sampleBounds() (east, south, north float64, err error) {
	b, err := fs.ReadFile(sample.FS, sample.Dir+"/boundaries/lsoa_2021_generalised.geojson")
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read the bundled sample: %w", err)
	}
	var fc struct {
		Features []struct {
			Geometry struct {
				Coordinates [][][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return 0, 0, 0, fmt.Errorf("read the bundled sample: %w", err)
	}
	east, south, north = math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, f := range fc.Features {
		for _, poly := range f.Geometry.Coordinates {
			for _, ring := range poly {
				for _, p := range ring {
					east, south, north = math.Max(east, p[0]), math.Min(south, p[1]), math.Max(north, p[1])
				}
			}
		}
	}
	return east, south, north, nil
}
