package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"

	"nbhd/data/ingest"
	"nbhd/data/sample"
)

func cmdLoadSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flags("load-sample")
	url := databaseFlag(fl)
	dir := fl.String("dir", "", "load this `directory` (with a manifest.json) instead of the bundled sample")
	ifEmpty := fl.Bool("if-empty", false, "do nothing when any dataset is already loaded")
	wait := waitFlag(fl, stderr)
	pos, err := parseArgs(fl, args, stdout, help{
		usage: "nbhd load-sample [flags]",
		about: `Loads the bundled sample borough (Wigan, real open data) in one transaction: every file of its
manifest.json, in order, or nothing. Loading again replaces it; nothing is duplicated. --dir loads
another borough laid out the same way, with its own manifest.json (docs/importing.md documents it;
it is checked whole before anything is imported), whose "spec" members are the options of nbhd
import (set_title for --set-title). Loading a second borough adds it beside the first: a dataset
is replaced only in the boroughs its new rows describe. The database's migrations are applied
first if it has none, or older ones.`,
		examples: []string{"nbhd load-sample --if-empty", "nbhd load-sample --dir /srv/data/bolton"},
	})
	if err != nil {
		return err
	}
	if err := noArgs(fl, pos); err != nil {
		return err
	}
	db, err := connect(ctx, *url, "load-sample")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	// A database without nbhd's schema (or with an older one) gets it first.
	if _, err := migrate(ctx, db, stdout); err != nil {
		return err
	}
	if *ifEmpty {
		has, err := db.HasData(ctx)
		if err != nil {
			return err
		}
		if has {
			fmt.Fprintln(stdout, "data already loaded; skipping the sample")
			return nil
		}
	}
	var fsys fs.FS = sample.FS
	root := sample.Dir
	if *dir != "" {
		fsys, root = os.DirFS(*dir), "."
	}
	var bar *bar
	wrap := func(e ingest.Entry, r io.Reader, size int64) io.Reader {
		bar = newBar(stderr, size, e.File)
		return bar.wrap(r)
	}
	report := func(e ingest.Entry, res ingest.Result) {
		bar.finish()
		fmt.Fprintf(stdout, "%-13s %-58s %5d rows\n", e.Kind, e.File, res.Rows)
		for _, n := range res.Notes {
			fmt.Fprintf(stdout, "  %s\n", n)
		}
	}
	if err := ingest.LoadSample(ctx, db, fsys, root, *wait, wrap, report); err != nil {
		if bar != nil {
			bar.finish()
		}
		return fmt.Errorf("nothing was loaded: %w", err)
	}
	fmt.Fprintln(stdout, "sample loaded")
	return nil
}
