package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"nbhd/data"
)

// Manifest lists a sample's imports in dependency order. It lives beside the
// data as manifest.json.
type Manifest struct {
	Name    string  `json:"name"`
	Imports []Entry `json:"imports"`
}

// Entry is one import of a manifest.
type Entry struct {
	Kind    string  `json:"kind"`
	File    string  `json:"file"`
	Options Options `json:"spec"`
	Dataset Dataset `json:"dataset"`
}

// ReadManifest reads and checks dir/manifest.json from fsys before
// anything is imported (CheckManifest).
func ReadManifest(fsys fs.FS, dir string) (Manifest, error) {
	var m Manifest
	name := path.Join(dir, "manifest.json")
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return m, &InputError{File: name, Err: fmt.Errorf("read manifest: %w", err)}
	}
	if err := CheckManifest(fsys, dir, b); err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, &InputError{File: name, Err: err}
	}
	return m, nil
}

// manifestKeys are the members a manifest, an entry and an entry's
// dataset may have (docs/importing.md).
var (
	manifestKeys = []string{"name", "imports"}
	entryKeys    = []string{"kind", "file", "spec", "dataset"}
	datasetKeys  = []string{"title", "source", "source_url", "licence", "licence_url", "attribution", "vintage"}
)

// CheckManifest refuses a manifest before any import: JSON syntax errors
// with their line and column, unknown members (naming the entry and the
// member), unknown kinds, options a kind does not take, and files (data
// and lookups) that are not there.
func CheckManifest(fsys fs.FS, dir string, b []byte) error {
	name := path.Join(dir, "manifest.json")
	fail := func(format string, args ...any) error {
		return &InputError{File: name, Err: fmt.Errorf(format, args...)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			line, col := lineCol(b, syn.Offset)
			return fail("line %d, column %d: %v", line, col, syn)
		case errors.As(err, &typ):
			return fail("the manifest must be a JSON object with \"name\" and \"imports\"")
		}
		return fail("%v", err)
	}
	if k := unknownKey(top, manifestKeys); k != "" {
		return fail("unknown member %q (a manifest has %s)", k, strings.Join(manifestKeys, ", "))
	}
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(top["imports"], &entries); err != nil || len(entries) == 0 {
		return fail(`"imports" must be a list of entries, each {"kind", "file", "spec", "dataset"}`)
	}
	for i, raw := range entries {
		n := i + 1
		var kind, file string
		_ = json.Unmarshal(raw["kind"], &kind)
		_ = json.Unmarshal(raw["file"], &file)
		where := fmt.Sprintf("entry %d", n)
		if file != "" {
			where += " (" + file + ")"
		}
		if k := unknownKey(raw, entryKeys); k != "" {
			return fail("%s: unknown member %q (an entry has %s)", where, k, strings.Join(entryKeys, ", "))
		}
		if kind == "" {
			return fail("%s: \"kind\" is missing (nbhd import --help lists the kinds)", where)
		}
		if _, ok := Kind(kind); !ok {
			return fail("%s: unknown kind %q (nbhd import --help lists the kinds)", where, kind)
		}
		if file == "" {
			return fail("%s: \"file\" is missing", where)
		}
		if _, err := fs.Stat(fsys, path.Join(dir, file)); err != nil {
			return fail("%s: file %s is not there", where, file)
		}
		var opts Options
		if spec, ok := raw["spec"]; ok {
			if err := json.Unmarshal(spec, &opts); err != nil {
				return fail("%s: \"spec\": %v", where, err)
			}
		}
		if err := CheckOptions(kind, opts); err != nil {
			return fail("%s: \"spec\": %v", where, err)
		}
		if lookup := opts.text(optLookup); lookup != "" {
			if _, err := fs.Stat(fsys, path.Join(dir, path.Dir(file), lookup)); err != nil {
				return fail("%s: lookup %s (beside %s) is not there", where, lookup, file)
			}
		}
		if ds, ok := raw["dataset"]; ok {
			var d map[string]json.RawMessage
			if err := json.Unmarshal(ds, &d); err != nil {
				return fail("%s: \"dataset\" must be an object (%s)", where, strings.Join(datasetKeys, ", "))
			}
			if k := unknownKey(d, datasetKeys); k != "" {
				return fail("%s: unknown member %q of \"dataset\" (it has %s)", where, k, strings.Join(datasetKeys, ", "))
			}
		}
	}
	return nil
}

// unknownKey is the first member of m (in name order) not in known.
func unknownKey(m map[string]json.RawMessage, known []string) string {
	var names []string
	for k := range m {
		if !contains(known, k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(b []byte, offset int64) (int, int) {
	line, col := 1, 1
	for i := int64(0); i < offset && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// LoadSample runs every import of dir's manifest in one transaction: the
// sample loads completely or not at all. report is told of each import as
// it finishes. It waits for other changes to the data as lock says.
func LoadSample(ctx context.Context, db Beginner, fsys fs.FS, dir string, lock data.LockWait,
	wrap func(Entry, io.Reader, int64) io.Reader, report func(Entry, Result)) error {
	m, err := ReadManifest(fsys, dir)
	if err != nil {
		return err
	}
	open := func(p string) (io.ReadCloser, error) { return fsys.Open(p) }
	return pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		if err := data.LockData(ctx, tx, "load of "+m.Name, lock); err != nil {
			return err
		}
		// A run of postcode files into an empty table loads without its
		// spatial indexes, built again before anything else is imported
		// (later imports may look postcodes up by place).
		var deferred deferredIndexes
		for i, e := range m.Imports {
			var err error
			switch {
			case !postcodeKinds[e.Kind]:
				err = deferred.restore(ctx, tx)
				deferred = nil
			case i == 0 || !postcodeKinds[m.Imports[i-1].Kind]:
				deferred, err = deferPostcodeIndexes(ctx, tx)
			}
			if err != nil {
				return err
			}
			if err := loadEntry(ctx, tx, fsys, dir, e, open, wrap, report); err != nil {
				return err
			}
		}
		if err := deferred.restore(ctx, tx); err != nil {
			return err
		}
		if err := analyseChanged(ctx, tx); err != nil {
			return err
		}
		return data.Refresh(ctx, tx)
	})
}

// analyseChanged analyses the tables of nbhd that this transaction changed
// by more than autovacuum's own threshold: 50 rows and a tenth of what the
// statistics say they held. The refresh plans its joins from table
// statistics, and autovacuum cannot see rows this transaction has not
// committed: on a fresh national load every table would look empty. A
// borough's asset files change too few rows to matter, and analysing the
// whole of England's database took 7 s of such a load's 22.
func analyseChanged(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT s.schemaname, s.relname FROM pg_stat_xact_user_tables s JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = 'nbhd' AND s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 50 + 0.1 * greatest(c.reltuples, 0)
		ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("find the tables the load changed: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, table string
		err := r.Scan(&schema, &table)
		return pgx.Identifier{schema, table}, err
	})
	if err != nil {
		return fmt.Errorf("find the tables the load changed: %w", err)
	}
	for _, t := range tables {
		// PostgreSQL takes either spelling.
		if _, err := tx.Exec(ctx, "ANALYSE "+t.Sanitize()); err != nil {
			return fmt.Errorf("analyse %s: %w", t.Sanitize(), err)
		}
	}
	return nil
}

func loadEntry(ctx context.Context, tx pgx.Tx, fsys fs.FS, dir string, e Entry, open func(string) (io.ReadCloser, error),
	wrap func(Entry, io.Reader, int64) io.Reader, report func(Entry, Result)) error {
	file := path.Join(dir, e.File)
	f, err := fsys.Open(file)
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	defer f.Close()
	var r io.Reader = f
	if wrap != nil {
		var size int64
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		r = wrap(e, f, size)
	}
	res, err := Run(ctx, tx, Job{Kind: e.Kind, File: file, Options: e.Options, Dataset: e.Dataset, Open: open, DeferRefresh: true}, r)
	if err != nil {
		return err
	}
	if report != nil {
		report(e, res)
	}
	return nil
}
