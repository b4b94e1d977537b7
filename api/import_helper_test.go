package api_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// importText imports body, written to a file called name, as an import of
// kind with opts into the database at dbURL: what a council's file of that
// kind would do.
func importText(t *testing.T, dbURL, kind, name, body string, opts ingest.Options) error {
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
	_, err = ingest.Run(context.Background(), dbtest.Conn(t, dbURL), ingest.Job{Kind: kind, File: path, Options: opts}, f)
	return err
}
