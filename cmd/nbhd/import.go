package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"nbhd/data/ingest"
)

// optionValue binds one import option to a flag. Every option of every kind
// is a flag of nbhd import, so that a kind that does not take one can say so
// by name (ingest.Run does) rather than "flag provided but not defined".
type optionValue struct {
	opts     ingest.Options
	name     string
	isSwitch bool
}

func (v *optionValue) String() string {
	if v == nil || v.opts == nil {
		return ""
	}
	return v.opts[v.name]
}

func (v *optionValue) Set(s string) error { v.opts[v.name] = s; return nil }
func (v *optionValue) IsBoolFlag() bool   { return v.isSwitch }

// provenanceFlags are the flags every kind takes: where the data comes from.
var provenanceFlags = []string{"title", "source", "source-url", "licence", "licence-url", "attribution", "data-vintage"}

func bindProvenance(fs *flag.FlagSet, d *ingest.Dataset) {
	fs.StringVar(&d.Title, "title", "", "dataset `title`, published with every feature (default: the file's name and the kind)")
	fs.StringVar(&d.Source, "source", "", "who published the data (a `name`, never a local path)")
	fs.StringVar(&d.SourceURL, "source-url", "", "where it was published (`URL`)")
	fs.StringVar(&d.Licence, "licence", "", "licence `name`, e.g. Open Government Licence v3.0")
	fs.StringVar(&d.LicenceURL, "licence-url", "", "licence `URL`")
	fs.StringVar(&d.Attribution, "attribution", "", "attribution `text` users must show")
	fs.StringVar(&d.Vintage, "data-vintage", "", "date or `period` the data describes")
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flags("import")
	url := databaseFlag(fs)
	wait := waitFlag(fs, stderr)
	var job ingest.Job
	bindProvenance(fs, &job.Dataset)
	job.Options = ingest.Options{}
	for _, o := range ingest.AllOptions() {
		fs.Var(&optionValue{opts: job.Options, name: o.Name, isSwitch: o.Arg == ""}, o.Name, o.Help)
	}
	common := map[string]bool{"database-url": true, "wait": true}
	for _, n := range provenanceFlags {
		common[n] = true
	}
	pos, err := parseArgs(fs, args, stdout, help{
		usageFor: func(pos []string) string {
			if len(pos) > 0 {
				if _, ok := ingest.Kind(pos[0]); ok {
					return "nbhd import " + pos[0] + " FILE [flags]"
				}
			}
			return "nbhd import KIND FILE [flags]"
		},
		more: importHelp,
		examplesFor: func(pos []string) []string {
			if len(pos) > 0 {
				if _, ok := ingest.Kind(pos[0]); ok {
					return nil // the kind's own, with its options
				}
			}
			return []string{
				"nbhd import boundaries LSOA_2021_EW_BGC.geojson --level lsoa --licence \"Open Government Licence v3.0\"",
				"nbhd import imd File_2_-_IoD2019_Domains_of_Deprivation.csv --la E08000010",
				"nbhd import gias --help",
			}
		},
		flags: func([]string) (string, map[string]bool) { return "flags of every kind", common },
	})
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError{"need KIND and FILE: nbhd import KIND FILE [flags] (nbhd import --help lists the kinds)"}
	}
	job.Kind, job.File = pos[0], pos[1]
	kind, ok := ingest.Kind(job.Kind)
	if !ok {
		return usageError{fmt.Sprintf("unknown import kind %q: the kinds are %s", job.Kind, kindNames())}
	}
	if err := ingest.CheckOptions(job.Kind, job.Options); err != nil {
		return usageError{fmt.Sprintf("%v (nbhd import %s --help lists its options)", err, job.Kind)}
	}
	job.Open = func(p string) (io.ReadCloser, error) { return os.Open(p) }
	job.Lock = *wait
	f, err := os.Open(job.File)
	if err != nil {
		return err
	}
	defer f.Close()
	if job.Dataset.Licence == "" && kind.Provenance.Licence == "" {
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
	bar := newBar(stderr, size, job.File)
	res, err := ingest.Run(ctx, db, job, bar.wrap(f))
	bar.finish()
	var oe *ingest.OptionError
	if errors.As(err, &oe) {
		return usageError{fmt.Sprintf("%v (nbhd import %s --help lists its options)", err, job.Kind)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d rows from %s as dataset %d\n", res.Rows, job.File, res.DatasetID)
	for _, n := range res.Notes {
		fmt.Fprintf(stdout, "  %s\n", n)
	}
	return nil
}

func kindNames() string {
	var names []string
	for _, k := range ingest.Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

// importHelp explains nbhd import and lists the kinds one line each, or,
// after a kind (nbhd import gias --help), explains that kind and its
// options.
func importHelp(w io.Writer, pos []string) {
	if len(pos) > 0 {
		if k, ok := ingest.Kind(pos[0]); ok {
			fmt.Fprintf(w, "\n%s.\n\n%s\n\noptions of %s:\n", k.Summary, k.Formats, k.Name)
			for _, o := range k.Options {
				arg := ""
				if o.Arg != "" {
					arg = " " + o.Arg
				}
				fmt.Fprintf(w, "  --%s%s\n      %s\n", o.Name, arg, o.Help)
			}
			fmt.Fprintf(w, "\nexample:\n  %s\n", k.Example)
			return
		}
	}
	fmt.Fprintln(w, `
Imports one file as its publisher made it, in one transaction, as a dataset with its provenance
(nbhd datasets lists them). Importing the same kind and key again replaces that dataset. A bad
file changes nothing and the error names the file, the line or feature, and the field. A file
with no rows to import, or none left after --la, is refused unless --allow-empty. Only one change
to the data runs at a time: another waits (--wait) and says for whom.

kinds:`)
	for _, k := range ingest.Kinds() {
		fmt.Fprintf(w, "  %-15s %s\n", k.Name, k.Summary)
	}
	fmt.Fprintln(w, "\nnbhd import KIND --help shows a kind's formats, options and an example.")
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
