package api_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb/encoding/mvt"

	"nbhd/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenTile compares a served composite tile, byte for byte, with the
// one in testdata. Rendering is deterministic (features ordered by id), so
// a difference means the SQL, the catalogue or the sample changed: check
// the new tile (it must still decode), then run
// go test ./api -run TestGoldenTile -update.
func TestGoldenTile(t *testing.T) {
	e := newTileEnv(t, api.Config{})
	got := e.tileMVT(t, "/tiles/all/12/2018/1323.mvt")
	if _, err := mvt.Unmarshal(got); err != nil {
		t.Fatalf("served tile does not decode: %v", err)
	}
	golden := filepath.Join("testdata", "all-12-2018-1323.mvt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil { //nolint:gosec // a test fixture
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("tile 12/2018/1323 differs from %s (%d bytes, want %d); rerun with -update if the change is intended", golden, len(got), len(want))
	}
}
