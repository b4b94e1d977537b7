package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"

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

// ReadManifest reads dir/manifest.json from fsys.
func ReadManifest(fsys fs.FS, dir string) (Manifest, error) {
	var m Manifest
	b, err := fs.ReadFile(fsys, path.Join(dir, "manifest.json"))
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, &InputError{File: path.Join(dir, "manifest.json"), Err: err}
	}
	return m, nil
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
		for _, e := range m.Imports {
			if err := loadEntry(ctx, tx, fsys, dir, e, open, wrap, report); err != nil {
				return err
			}
		}
		return data.Refresh(ctx, tx)
	})
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
