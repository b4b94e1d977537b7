package dbtest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"nbhd/data/ingest"
)

// ImportText writes body to a file called name in a directory of its own
// and imports it on conn as an import of kind with opts, as `nbhd import`
// would (a file it names beside it is read from that directory): how a
// test hands the importers a council's file.
func ImportText(t testing.TB, conn *pgx.Conn, kind, name, body string, opts ingest.Options) (ingest.Result, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ingest.Run(context.Background(), conn, ingest.Job{Kind: kind, File: path, Options: opts,
		Open: func(p string) (io.ReadCloser, error) { return os.Open(p) }}, f)
}
