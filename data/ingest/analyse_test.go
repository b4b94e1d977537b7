package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nbhd/data"
	"nbhd/data/dbtest"
	"nbhd/data/ingest"
)

// A manifest load analyses the tables it changed by more than a tenth
// (recorded demand, new periods for many small areas) before the refresh
// plans from their statistics, and not those it barely touched (three of
// the sample's community assets): analysing every table of England's
// database took 7 s of a borough's 22-second asset reload.
func TestManifestLoadAnalysesOnlyTheTablesItChangedMuch(t *testing.T) {
	ctx := context.Background()
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	var demandRows float64
	if err := conn.QueryRow(ctx, "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'nbhd.demand'::regclass").Scan(&demandRows); err != nil {
		t.Fatal(err)
	}
	codes := dbtest.Strings(t, url, "SELECT code FROM nbhd.small_areas ORDER BY code LIMIT 50")
	if len(codes) < 50 {
		t.Fatalf("small areas: %v", codes)
	}
	// Enough rows to pass autovacuum's threshold, 50 and a tenth of the
	// table, with some to spare.
	want := 100 + int(demandRows/5)
	var demand strings.Builder
	demand.WriteString("small_area_code,segment,count,period,source\n")
	for i := range want {
		fmt.Fprintf(&demand, "%s,%s,%d,%d,test\n", codes[i%50], []string{"chaotic", "just_coping"}[i/50%2], 10+i%7, 2040+i/100)
	}
	dir := t.TempDir()
	files := map[string]string{
		"demand.csv": demand.String(),
		"assets.csv": "id,name,category,address,postcode,lon,lat\n" +
			"1,Test Hall,community_centre,1 Test Street,,-2.63,53.545\n" +
			"2,Test Library,library,2 Test Street,,-2.62,53.546\n" +
			"3,Test Club,sports_club,3 Test Street,,-2.61,53.547\n",
		"manifest.json": `{"name": "analyse test", "imports": [
			{"kind": "demand", "file": "demand.csv", "spec": {"key": "analyse-test"}},
			{"kind": "assets-csv", "file": "assets.csv", "spec": {"key": "analyse-test"}}]}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := ingest.LoadSample(ctx, conn, os.DirFS(dir), ".", data.LockWait{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.demand d JOIN nbhd.datasets ds ON ds.id = d.dataset_id WHERE ds.key = 'analyse-test'"); n != want {
		t.Fatalf("%d demand rows loaded, want %d", n, want)
	}
	if n := count(t, conn, "SELECT count(*) FROM nbhd.community_assets WHERE id LIKE 'analyse-test:%'"); n != 3 {
		t.Fatalf("%d assets loaded, want 3", n)
	}
	// The loading backend reports its statistics when it goes idle.
	analysed := func(table string) int {
		t.Helper()
		if _, err := conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
			t.Fatal(err)
		}
		return count(t, conn, "SELECT analyze_count FROM pg_stat_user_tables WHERE relid = $1::regclass", table) //nolint:misspell // PostgreSQL's column
	}
	deadline := time.Now().Add(30 * time.Second)
	for analysed("nbhd.demand") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the load did not analyse nbhd.demand, which it changed past autovacuum's threshold")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := analysed("nbhd.community_assets"); n != 0 {
		t.Errorf("the load analysed nbhd.community_assets %d times for 3 new rows", n)
	}
}
