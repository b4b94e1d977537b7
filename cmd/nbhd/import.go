package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"nbhd/data/ingest"
	"nbhd/data/sample"
)

// parseWithArgs parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseWithArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return pos, parse(fs, nil)
}

// specFlags binds the import options shared by every kind.
func specFlags(fs *flag.FlagSet, s *ingest.Spec, d *ingest.Dataset) {
	fs.StringVar(&s.Key, "key", "", "dataset key; re-importing the same kind and key replaces it")
	fs.StringVar(&s.Level, "level", "", "boundaries: lsoa, msoa, ward or custom")
	fs.IntVar(&s.Vintage, "vintage", 0, "boundaries: LSOA vintage, 2011 or 2021 (read from the code field name when it says)")
	fs.StringVar(&s.Set, "set", "", "boundaries, neighbourhoods: neighbourhood set id (e.g. ward)")
	fs.StringVar(&s.SetTitle, "set-title", "", "boundaries: neighbourhood set title")
	fs.StringVar(&s.CodeField, "code-field", "", "property holding the area code (found automatically when ONS-named)")
	fs.StringVar(&s.NameField, "name-field", "", "property holding the name (found automatically when usual)")
	fs.StringVar(&s.Lookup, "lookup", "", "boundaries: best-fit lookup CSV giving each small area's neighbourhood; imd: ONS LSOA 2011 to 2021 lookup")
	fs.StringVar(&s.Period, "period", "", "population: period of the estimate (e.g. mid-2021)")
	fs.BoolVar(&s.ActiveOnly, "active-only", false, "gp-practices: keep active practices only")
	fs.StringVar(&s.Category, "category", "", "assets: category of every feature (e.g. library)")
	fs.IntVar(&s.MergeWithin, "merge-within", 0, "assets: merge same-named features within this many metres")
	fs.StringVar(&s.LA, "la", "", "keep rows of this local authority only (e.g. E08000010; gias also takes a DfE LA code such as 359)")
	fs.BoolVar(&s.IncludeClosed, "include-closed", false, "gias: keep closed schools; epraccur: keep closed and dormant practices; onspd: keep terminated postcodes")
	fs.StringVar(&s.Encoding, "encoding", "", "CSV text encoding: utf-8 or windows-1252 (default: UTF-8 when the file is valid UTF-8, else Windows-1252)")
	fs.StringVar(&s.Categories, "categories", "", "osm: tag -> category mapping, JSON or CSV (tag,value,category); default: the built-in one")
	fs.BoolVar(&s.AllowGaps, "allow-gaps", false, "neighbourhoods: accept a list that leaves loaded small areas out (they are reported)")
	fs.StringVar(&d.Title, "title", "", "dataset title (default: the file name)")
	fs.StringVar(&d.Source, "source", "", "who published the data")
	fs.StringVar(&d.SourceURL, "source-url", "", "where it was published")
	fs.StringVar(&d.Licence, "licence", "", "licence name, e.g. Open Government Licence v3.0")
	fs.StringVar(&d.LicenceURL, "licence-url", "", "licence URL")
	fs.StringVar(&d.Attribution, "attribution", "", "attribution text users must show")
	fs.StringVar(&d.Vintage, "data-vintage", "", "date or period the data describes")
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("import", stderr)
	url := databaseFlag(fs)
	wait := waitFlag(fs, stderr)
	var job ingest.Job
	specFlags(fs, &job.Spec, &job.Dataset)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: nbhd import KIND FILE [flags]\n\nkinds:")
		kinds := ingest.Kinds()
		names := make([]string, 0, len(kinds))
		for k := range kinds {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(stderr, "  %-15s %s\n", k, kinds[k])
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	pos, err := parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return usageError{"need KIND and FILE"}
	}
	job.Kind, job.File = pos[0], pos[1]
	job.Open = func(p string) (io.ReadCloser, error) { return os.Open(p) }
	if _, ok := ingest.Kinds()[job.Kind]; !ok {
		fs.Usage()
		return usageError{fmt.Sprintf("unknown import kind %q", job.Kind)}
	}
	f, err := os.Open(job.File)
	if err != nil {
		return err
	}
	defer f.Close()
	if job.Dataset.Licence == "" && ingest.Provenance(job.Kind).Licence == "" {
		fmt.Fprintln(stderr, "warning: no --licence given; the layer will show no licence")
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	db, err := connect(ctx, *url, "import")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	job.Lock = *wait
	bar := newBar(stderr, size, job.File)
	res, err := ingest.Run(ctx, db, job, bar.wrap(f))
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d rows from %s as dataset %d\n", res.Rows, job.File, res.DatasetID)
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "  %s\n", n)
	}
	return nil
}

func cmdLoadSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flags("load-sample", stderr)
	url := databaseFlag(fl)
	dir := fl.String("dir", "", "load this directory (with a manifest.json) instead of the bundled sample")
	ifEmpty := fl.Bool("if-empty", false, "do nothing when any dataset is already loaded")
	wait := waitFlag(fl, stderr)
	if err := parse(fl, args); err != nil {
		return err
	}
	db, err := connect(ctx, *url, "load-sample")
	if err != nil {
		return err
	}
	defer db.Close(ctx)
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

// bar shows a byte progress bar on a terminal and nothing otherwise.
type bar struct{ pb *progressbar.ProgressBar }

func newBar(w io.Writer, size int64, label string) *bar {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || size <= 0 {
		return &bar{}
	}
	return &bar{pb: progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(true), progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100_000_000))}
}

func (b *bar) wrap(r io.Reader) io.Reader {
	if b == nil || b.pb == nil {
		return r
	}
	pr := progressbar.NewReader(r, b.pb)
	return &pr
}

func (b *bar) finish() {
	if b != nil && b.pb != nil {
		_ = b.pb.Finish()
	}
}
