package ingest

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
)

// Dataset is the provenance recorded with an import.
type Dataset struct {
	Title       string `json:"title"`
	Source      string `json:"source"`
	SourceURL   string `json:"source_url,omitempty"`
	Licence     string `json:"licence"`
	LicenceURL  string `json:"licence_url,omitempty"`
	Attribution string `json:"attribution"`
	Vintage     string `json:"vintage,omitempty"`
}

// Job is one file to import.
type Job struct {
	Kind    string
	File    string // path, for messages; only its base name is recorded
	Options Options
	Dataset Dataset
	// Open reopens the file; importers that read a second file (a lookup)
	// resolve it relative to the first.
	Open func(path string) (io.ReadCloser, error)
	// DeferRefresh leaves the derived statistics for the caller to refresh
	// (with data.Refresh) after a batch of imports in one transaction.
	DeferRefresh bool
	// Lock says how long to wait for another change to the data, and how
	// to say so (data.LockData).
	Lock data.LockWait
}

// Result describes a finished import.
type Result struct {
	DatasetID int64
	Rows      int
	Notes     []string
	// Key, when an importer sets it, replaces the dataset key ident gave:
	// some files say which dataset they are only in their header (IoD2019
	// File 2 or File 5) or rows (a list-size extract's date).
	Key string
}

// importer is one kind of import: what it reads, the options it accepts,
// and how it writes a dataset.
type importer struct {
	summary string    // one line, for `nbhd import --help`
	formats string    // the files it reads, for `nbhd import KIND --help`
	example string    // a command line
	options []accepts // every option it takes besides --allow-empty
	// refuses says why a kind does not take an option a user may expect
	// it to (--la of an OpenStreetMap export).
	refuses map[string]string
	// ident names the dataset a job writes: its kind (which layers draw on
	// it) and its key within the kind.
	ident func(Job) (kind, key string, err error)
	run   func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error)
	// provenance fills what the user did not give (OpenStreetMap's ODbL
	// licence and attribution, which every use of the data must show).
	provenance Dataset
}

var importers = map[string]*importer{}

func register(name string, im *importer) { importers[name] = im }

// KindInfo describes an import kind for help text.
type KindInfo struct {
	Name, Summary, Formats, Example string
	Options                         []OptionInfo // the kind's own, then --allow-empty
	// Provenance is what the kind records when the user gives nothing
	// (the ODbL licence of OpenStreetMap data); empty for most kinds.
	Provenance Dataset
}

// Kinds lists the import kinds by name.
func Kinds() []KindInfo {
	names := make([]string, 0, len(importers))
	for n := range importers {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]KindInfo, len(names))
	for i, n := range names {
		out[i], _ = Kind(n)
	}
	return out
}

// Kind describes one import kind; ok is false for an unknown name.
func Kind(name string) (KindInfo, bool) {
	im, ok := importers[name]
	if !ok {
		return KindInfo{}, false
	}
	k := KindInfo{Name: name, Summary: im.summary, Formats: im.formats, Example: im.example, Provenance: im.provenance}
	for _, a := range append(im.options, accepts{opt: optAllowEmpty}) {
		help := a.help
		if help == "" {
			help = a.opt.help
		}
		k.Options = append(k.Options, OptionInfo{Name: a.opt.name, Arg: a.opt.arg, Help: help})
	}
	return k, true
}

// CheckOptions refuses options that kind does not take, naming both, and
// values of the wrong form, as Run does before it reads anything.
func CheckOptions(kind string, opts Options) error {
	im, ok := importers[kind]
	if !ok {
		return &OptionError{Kind: kind, Err: fmt.Errorf("unknown import kind %q", kind)}
	}
	return im.checkOptions(kind, opts)
}

// Beginner is a connection or transaction: Run opens its transaction (or a
// savepoint) on it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Run imports r as job in one transaction on db, after any other change to
// the data has finished (job.Lock). On any error nothing is changed: an
// *OptionError is an option the kind does not take, an *InputError bad
// input (or an import of no rows without --allow-empty).
func Run(ctx context.Context, db Beginner, job Job, r io.Reader) (Result, error) {
	im, ok := importers[job.Kind]
	if !ok {
		return Result{}, &OptionError{Kind: job.Kind, Err: fmt.Errorf("unknown import kind %q", job.Kind)}
	}
	if err := im.checkOptions(job.Kind, job.Options); err != nil {
		return Result{}, err
	}
	kind, key, err := im.ident(job)
	if err != nil {
		return Result{}, &InputError{File: job.File, Err: err}
	}
	if job.Dataset, err = provenance(job, im.provenance); err != nil {
		return Result{}, err
	}
	var res Result
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := data.LockData(ctx, tx, fmt.Sprintf("import of %s %s", job.Kind, key), job.Lock); err != nil {
			return err
		}
		ds, err := startDataset(ctx, tx, kind, key, job)
		if err != nil {
			return err
		}
		res, err = im.run(ctx, tx, job, ds, r)
		if err != nil {
			return err
		}
		res.DatasetID = ds
		if res.Key != "" && res.Key != key {
			if err := rekey(ctx, tx, ds, res.Key); err != nil {
				return err
			}
			key = res.Key
		}
		if res.Rows == 0 && !job.Options.flag(optAllowEmpty) {
			return emptyImport(job, kind, key, res)
		}
		if err := finishDataset(ctx, tx, ds, res.Rows); err != nil {
			return err
		}
		if job.DeferRefresh {
			return nil
		}
		return data.Refresh(ctx, tx)
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// emptyImport refuses an import that found nothing to load: it would replace
// the dataset with nothing, which is what a mistyped --la or the wrong file
// looks like.
func emptyImport(job Job, kind, key string, res Result) error {
	what := "no rows to import"
	if la := job.Options.list(optLA); len(la) > 0 {
		what = fmt.Sprintf("no rows to import after --la %s: check the local authority code", strings.Join(la, ","))
	}
	if len(res.Notes) > 0 {
		what += " (" + strings.Join(res.Notes, "; ") + ")"
	}
	return &InputError{File: job.File, Err: fmt.Errorf("%s; the dataset %s %s is unchanged (--allow-empty replaces it with nothing)", what, kind, key)}
}

// localPath matches text that names a file on this machine, which must
// never be published as a dataset's title or source.
var localPath = regexp.MustCompile(`^(/|~|\.{1,2}[/\\]|[A-Za-z]:[/\\]|\\\\|file:)`)

// provenance fills the dataset's title (the file's base name and the kind)
// and the kind's defaults, and refuses a title or source that is a local
// path: those are published with every feature.
func provenance(job Job, def Dataset) (Dataset, error) {
	d := job.Dataset
	if d.Title == "" {
		d.Title = fmt.Sprintf("%s (%s)", baseName(job.File), job.Kind)
	}
	for _, f := range []struct{ flag, v string }{{"title", d.Title}, {"source", d.Source}} {
		if localPath.MatchString(f.v) || (f.v == job.File && strings.ContainsAny(f.v, `/\`)) {
			return d, &OptionError{Kind: job.Kind, Option: f.flag,
				Err: fmt.Errorf("--%s %q is a local path, which would be published with every feature: name the publisher or dataset instead", f.flag, f.v)}
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&d.Source, def.Source}, {&d.SourceURL, def.SourceURL}, {&d.Licence, def.Licence},
		{&d.LicenceURL, def.LicenceURL}, {&d.Attribution, def.Attribution},
	} {
		if *f.dst == "" {
			*f.dst = f.v
		}
	}
	return d, nil
}

func rekey(ctx context.Context, tx pgx.Tx, ds int64, key string) error {
	if _, err := tx.Exec(ctx, "UPDATE nbhd.datasets SET key = $2 WHERE id = $1", ds, key); err != nil {
		return fmt.Errorf("record dataset key: %w", err)
	}
	return nil
}

func startDataset(ctx context.Context, tx pgx.Tx, kind, key string, job Job) (int64, error) {
	d := job.Dataset
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO nbhd.datasets
		(kind, key, title, source, source_url, licence, licence_url, attribution, vintage, file_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		kind, key, d.Title, d.Source, d.SourceURL, d.Licence, d.LicenceURL, d.Attribution, d.Vintage, baseName(job.File)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record dataset: %w", err)
	}
	return id, nil
}

// finishDataset records the import's row count and replaces the earlier
// imports of the same dataset in the boroughs the new one describes: their
// rows there that the new import did not take over go, and an earlier
// import left with no rows goes (logic.replace_earlier). Boroughs the new
// import does not describe keep their rows.
func finishDataset(ctx context.Context, tx pgx.Tx, id int64, rows int) error {
	if _, err := tx.Exec(ctx, "UPDATE nbhd.datasets SET rows = $2 WHERE id = $1", id, rows); err != nil {
		return fmt.Errorf("record row count: %w", err)
	}
	if _, err := tx.Exec(ctx, "SELECT logic.replace_earlier($1)", id); err != nil {
		return fmt.Errorf("replace earlier dataset: %w", err)
	}
	return nil
}
