package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"nbhd/data"
	"nbhd/data/dbtest"
)

// holdDataLock takes the data lock as an import of gias would, until t ends.
func holdDataLock(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	db, err := data.Connect(ctx, url, "nbhd test")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := data.LockData(ctx, tx, "import of gias gias", data.LockWait{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tx.Rollback(ctx)
		db.Close(ctx)
	})
}

// writePostcodes writes a postcode CSV of n rows and returns its path.
func writePostcodes(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "postcodes.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "postcode,easting,northing")
	const letters = "ABDEFGHJLNPQRSTUWXYZ"
	for i := range n {
		// Unique and well formed: area, district, sector, unit from i.
		a, rest := i%400, i/400
		fmt.Fprintf(w, "%c%c%d %d%c%c,%d,%d\n", 'A'+a/20%20, letters[a%20], rest%99+1, rest/99%10,
			letters[rest/990%20], letters[rest/19800%20], 350000+i%10000, 400000+i/10000)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportWaitsForAnotherAndSaysWhom(t *testing.T) {
	url := dbtest.New(t, false)
	holdDataLock(t, url)
	var holder int
	if err := dbtest.Conn(t, url).QueryRow(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'nbhd: import of gias gias'").Scan(&holder); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, errs := nbhd(t, "import", "postcodes", writePostcodes(t, 3), "--wait", "1s", "--database-url", url)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if want := fmt.Sprintf("waiting for another import of gias gias (pid %d) since ", holder); !strings.Contains(errs, want) {
		t.Errorf("stderr %q does not say %q", errs, want)
	}
	if !strings.Contains(errs, "gave up after 1s") {
		t.Errorf("stderr %q does not say it gave up", errs)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("--wait 1s took %s", d)
	}
}

func TestImportOfNoRowsIsRefusedFromTheCommandLine(t *testing.T) {
	url := dbtest.New(t, true)
	f5 := filepath.Join("..", "..", "data", "ingest", "testdata", "File_5_-_IoD2019_Scores.csv")
	if code, _, errs := nbhd(t, "import", "imd", f5, "--la", "E08000010", "--database-url", url); code != 0 {
		t.Fatalf("import File 5 for Wigan: %d %s", code, errs)
	}
	before := rowCounts(t, url)
	code, _, errs := nbhd(t, "import", "imd", f5, "--la", "E08000011", "--database-url", url)
	if code != 1 || !strings.Contains(errs, "File_5_-_IoD2019_Scores.csv") || !strings.Contains(errs, "--la E08000011") ||
		!strings.Contains(errs, "--allow-empty") {
		t.Errorf("--la E08000011: exit %d, %q", code, errs)
	}
	if after := rowCounts(t, url); after != before {
		t.Errorf("a refused import changed the data:\nbefore %s\nafter  %s", before, after)
	}
}

// importBackend is the pid of the backend of a running nbhd import on db's
// database, or 0.
func importBackend(t *testing.T, url string, waiting bool) int {
	t.Helper()
	var pid int
	err := dbtest.Conn(t, url).QueryRow(context.Background(), `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'nbhd%import%' AND application_name <> 'nbhd: import of gias gias'
		  AND state = 'active' AND (NOT $1 OR wait_event_type = 'Lock')`, waiting).Scan(&pid)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestKilledImportLeavesNoBackend kill -9s an import, as an operator's
// machine might, and checks its database session ends within 5 s rather
// than holding its locks until its statement ends: once while it waits
// for another import (a statement that would otherwise wait for --wait),
// once in the middle of a large file.
func TestKilledImportLeavesNoBackend(t *testing.T) {
	url := dbtest.New(t, false)
	for _, c := range []struct {
		name    string
		rows    int
		waiting bool
	}{
		{"while waiting for another import", 3, true},
		{"while importing a large file", 600_000, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.waiting {
				holdDataLock(t, url)
			}
			cmd := exec.CommandContext(t.Context(), os.Args[0], "import", "postcodes", writePostcodes(t, c.rows), "--database-url", url, "--key", "killed")
			cmd.Env = append(os.Environ(), runAsNbhd+"=1")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill() //nolint:errcheck // killed below; this is for early returns
			var pid int
			for deadline := time.Now().Add(30 * time.Second); pid == 0; {
				if time.Now().After(deadline) {
					t.Fatalf("the import's backend never became busy; stderr %q", stderr.String())
				}
				time.Sleep(50 * time.Millisecond)
				pid = importBackend(t, url, c.waiting)
			}
			if !c.waiting {
				time.Sleep(500 * time.Millisecond) // well into the file
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			killed := time.Now()
			for {
				var alive bool
				if err := dbtest.Conn(t, url).QueryRow(context.Background(),
					"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)", pid).Scan(&alive); err != nil {
					t.Fatal(err)
				}
				if !alive {
					t.Logf("backend %d gone %s after kill -9", pid, time.Since(killed).Round(time.Millisecond))
					break
				}
				if time.Since(killed) > 5*time.Second {
					t.Fatalf("backend %d still running 5 s after its import was killed", pid)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if c.waiting && !strings.Contains(stderr.String(), "waiting for another import of gias gias") {
				t.Errorf("the killed import did not say what it waited for: %q", stderr.String())
			}
		})
	}
	// Nothing of the killed imports was kept.
	var n int
	if err := dbtest.Conn(t, url).QueryRow(context.Background(), "SELECT count(*) FROM nbhd.datasets WHERE key = 'killed'").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d datasets of killed imports (%v)", n, err)
	}
}
