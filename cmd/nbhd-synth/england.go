package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"nbhd/cmd/nbhd-synth/internal/england"
)

func cmdEngland(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("nbhd-synth england", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "random seed: the same seed and flags give the same bytes")
	out := fs.String("out", "", "output directory (created)")
	scale := fs.Float64("scale", 1, "size relative to England (1: 33,755 LSOAs; 0.01: 338)")
	postcodes := fs.Int("postcodes", 0, "number of postcodes (default 1,700,000 × scale)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" {
		return usageError{"--out is required"}
	}
	if *scale <= 0 || *scale > 4 {
		return usageError{fmt.Sprintf("--scale must be in (0, 4], got %g", *scale)}
	}
	s, err := england.Generate(*out, england.Options{Seed: *seed, Scale: *scale, Postcodes: *postcodes}, stderr)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(map[string]any{"counts": s.Counts, "vertices": s.Vertices}, "", "  ")
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}
