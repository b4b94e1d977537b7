package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// Spec holds the options of every kind of import; each kind reads the ones
// it needs. The CLI's flags and the sample manifest both fill it.
type Spec struct {
	Key string `json:"key,omitempty"` // dataset key; re-importing a key replaces it

	// boundaries
	Level     string `json:"level,omitempty"`   // lsoa, msoa, ward or custom
	Vintage   int    `json:"vintage,omitempty"` // small areas: 2011 or 2021
	Set       string `json:"set,omitempty"`     // neighbourhood set id
	SetTitle  string `json:"set_title,omitempty"`
	CodeField string `json:"code_field,omitempty"`
	NameField string `json:"name_field,omitempty"`
	Lookup    string `json:"lookup,omitempty"` // best-fit lookup CSV path

	// population
	Period string `json:"period,omitempty"`

	// gp practices
	ActiveOnly bool `json:"active_only,omitempty"`

	// assets
	Category    string `json:"category,omitempty"`     // one category for every feature
	MergeWithin int    `json:"merge_within,omitempty"` // metres: merge same-named buildings

	// national files
	LA string `json:"la,omitempty"` // keep rows of this local authority only

	// IncludeClosed keeps closed schools (gias), practices that are not
	// active (epraccur) and terminated postcodes (onspd).
	IncludeClosed bool `json:"include_closed,omitempty"`
	// Encoding of a CSV: "" detects UTF-8, else reads Windows-1252 (as GIAS
	// publishes); "utf-8" or "windows-1252" force one.
	Encoding string `json:"encoding,omitempty"`
	// Categories is an OpenStreetMap tag -> category mapping file (osm).
	Categories string `json:"categories,omitempty"`
	// AllowGaps accepts a neighbourhood list that leaves loaded small areas
	// out, reporting them instead of failing.
	AllowGaps bool `json:"allow_gaps,omitempty"`
}

// Job is one file to import.
type Job struct {
	Kind    string
	File    string // path, for messages and provenance
	Spec    Spec
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

type importer struct {
	// ident names the dataset a job writes: its kind (which layers draw on
	// it) and its key within the kind.
	ident func(Job) (kind, key string, err error)
	run   func(ctx context.Context, tx pgx.Tx, job Job, ds int64, r io.Reader) (Result, error)
	help  string
	// provenance fills what the user did not give (OpenStreetMap's ODbL
	// licence and attribution, which every use of the data must show).
	provenance Dataset
}

// Kinds lists the import kinds, for the CLI's help.
func Kinds() map[string]string {
	out := map[string]string{}
	for k, im := range importers {
		out[k] = im.help
	}
	return out
}

// Provenance is what a kind records when the user gives nothing (the
// ODbL licence of OpenStreetMap data); empty for most kinds.
func Provenance(kind string) Dataset { return importers[kind].provenance }

var importers = map[string]importer{}

func register(name string, im importer) { importers[name] = im }

// Beginner is a connection or transaction: Run opens its transaction (or a
// savepoint) on it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Run imports r as job in one transaction on db. On any error nothing is
// changed; an *InputError describes bad input.
func Run(ctx context.Context, db Beginner, job Job, r io.Reader) (Result, error) {
	im, ok := importers[job.Kind]
	if !ok {
		return Result{}, fmt.Errorf("unknown import kind %q", job.Kind)
	}
	kind, key, err := im.ident(job)
	if err != nil {
		return Result{}, &InputError{File: job.File, Err: err}
	}
	if job.Dataset.Title == "" {
		job.Dataset.Title = job.File
	}
	job.Dataset = withDefaults(job.Dataset, im.provenance)
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
		if err := finishDataset(ctx, tx, kind, key, ds, res.Rows); err != nil {
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

// withDefaults fills d's empty provenance fields from def.
func withDefaults(d, def Dataset) Dataset {
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
	return d
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

// finishDataset drops the earlier import of the same dataset: rows that the
// new import did not take over go with it (ON DELETE CASCADE).
func finishDataset(ctx context.Context, tx pgx.Tx, kind, key string, id int64, rows int) error {
	if _, err := tx.Exec(ctx, "DELETE FROM nbhd.datasets WHERE kind = $1 AND key = $2 AND id <> $3", kind, key, id); err != nil {
		return fmt.Errorf("replace earlier dataset: %w", err)
	}
	if _, err := tx.Exec(ctx, "UPDATE nbhd.datasets SET rows = $2 WHERE id = $1", id, rows); err != nil {
		return fmt.Errorf("record row count: %w", err)
	}
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// previous returns the ids of earlier imports of a dataset, so keyed tables
// can clear their rows before the new ones go in.
func previous(ctx context.Context, tx pgx.Tx, kind, key string, current int64) ([]int64, error) {
	rows, err := tx.Query(ctx, "SELECT id FROM nbhd.datasets WHERE kind = $1 AND key = $2 AND id <> $3", kind, key, current)
	if err != nil {
		return nil, fmt.Errorf("find earlier dataset: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// copySource adapts a row-producing function to pgx.CopyFromSource. next
// returns io.EOF after the last row.
type copySource struct {
	next func() ([]any, error)
	row  []any
	err  error
}

func (c *copySource) Next() bool {
	c.row, c.err = c.next()
	if errors.Is(c.err, io.EOF) {
		c.err = nil
		return false
	}
	return c.err == nil
}

func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.err }

// stage creates a temporary table dropped at commit and copies rows into it.
func stage(ctx context.Context, tx pgx.Tx, table, columns string, names []string, next func() ([]any, error)) error {
	// An earlier import in the same transaction (load-sample) may have
	// left a staging table of the same name.
	if _, err := tx.Exec(ctx, fmt.Sprintf("DROP TABLE IF EXISTS pg_temp.%[1]s; CREATE TEMP TABLE %[1]s (%[2]s) ON COMMIT DROP",
		pgx.Identifier{table}.Sanitize(), columns)); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	src := &copySource{next: next}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, src)
	if err != nil {
		// pgx aborts the COPY with the source's error as text; return the
		// source's own error so callers can tell bad input from failure.
		if src.err != nil {
			return src.err
		}
		return fmt.Errorf("copy rows: %w", err)
	}
	return nil
}

// firstBad runs a query returning (row number, message) of the first staged
// row that fails a check, and turns it into an InputError.
func firstBad(ctx context.Context, tx pgx.Tx, loc at, field, sql string, args ...any) error {
	var n int
	var msg string
	err := tx.QueryRow(ctx, sql, args...).Scan(&n, &msg)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", field, err)
	}
	return loc.err(n, field, "%s", msg)
}
