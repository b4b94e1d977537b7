package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nbhd/data/dbtest"
	"nbhd/data/sample"
)

// runAsNbhd, set in the environment, makes the test binary be nbhd itself,
// so tests can run a command as a process of its own (and kill it).
const runAsNbhd = "NBHD_TEST_RUN_AS_NBHD"

func TestMain(m *testing.M) {
	if os.Getenv(runAsNbhd) == "1" {
		main()
	}
	dbtest.Main(m)
}

func nbhd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func rowCounts(t *testing.T, url string) string {
	t.Helper()
	conn := dbtest.Conn(t, url)
	var s string
	err := conn.QueryRow(context.Background(), `SELECT string_agg(kind || '/' || key || '=' || rows, ' ' ORDER BY kind, key) ||
		' assets=' || (SELECT count(*) FROM nbhd.community_assets) || ' areas=' || (SELECT count(*) FROM nbhd.small_areas) ||
		' imd=' || (SELECT count(*) FROM nbhd.deprivation) || ' pop=' || (SELECT count(*) FROM nbhd.small_area_population)
		FROM nbhd.datasets`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(sample.FS, "wigan/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestImportRejectsBadFilesNamingThePlace(t *testing.T) {
	url := dbtest.New(t, true)
	before := rowCounts(t, url)
	dir := t.TempDir()
	lsoa := sampleFile(t, "boundaries/lsoa_2021_generalised.geojson")
	pop := sampleFile(t, "population/lsoa11_population_mid2017.csv")
	imd := sampleFile(t, "deprivation/IoD2019_File2_domains_ranks_deciles.csv")
	cases := []struct {
		name, file, content string
		args                []string
		want                []string
	}{
		{"truncated GeoJSON", "lsoa.geojson", lsoa[:len(lsoa)*2/3], []string{"boundaries", "--level", "lsoa", "--vintage", "2021"},
			[]string{"lsoa.geojson: feature 13", "truncated"}},
		{"CSV missing a column", "pop.csv", strings.Replace(pop, "all_ages_mid2017", "males_mid2017", 1), []string{"population", "--period", "mid-2017"},
			[]string{"pop.csv: line 1", "missing column"}},
		{"unknown LSOA code", "imd.csv", strings.Replace(imd, "E01006300", "E01000001", 1), []string{"imd"},
			[]string{"imd.csv: line", `field "LSOA code (2011)"`, "unknown small-area code E01000001"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.file)
			if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"import", c.args[0], p, "--database-url", url}, c.args[1:]...)
			code, _, stderr := nbhd(t, args...)
			if code == 0 {
				t.Fatal("exit status 0; want non-zero")
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not contain %q", stderr, w)
				}
			}
		})
	}
	if after := rowCounts(t, url); after != before {
		t.Errorf("row counts changed:\nbefore %s\nafter  %s", before, after)
	}
}

func TestImportUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"import"}, {"import", "boundaries"}, {"import", "x", "y", "--nope"}, {"frobnicate"}} {
		if code, _, _ := nbhd(t, args...); code != 2 {
			t.Errorf("nbhd %v: exit %d, want 2", args, code)
		}
	}
	code, _, stderr := nbhd(t, "import", "boundaries", "/nonexistent.geojson", "--level", "lsoa")
	if code != 1 || !strings.Contains(stderr, "/nonexistent.geojson") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

func TestMigrateThenLoadSampleIfEmptyTwice(t *testing.T) {
	url := dbtest.New(t, false)
	if code, out, errs := nbhd(t, "migrate", "--database-url", url); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate on a migrated database: %d %s %s", code, out, errs)
	}
	if code, out, errs := nbhd(t, "load-sample", "--if-empty", "--database-url", url); code != 0 || !strings.Contains(out, "sample loaded") {
		t.Fatalf("first load-sample: %d %s %s", code, out, errs)
	}
	first := rowCounts(t, url)
	if code, out, _ := nbhd(t, "load-sample", "--if-empty", "--database-url", url); code != 0 || !strings.Contains(out, "skipping") {
		t.Fatalf("second load-sample --if-empty: %d %s", code, out)
	}
	if code, _, errs := nbhd(t, "load-sample", "--database-url", url); code != 0 {
		t.Fatalf("forced reload: %d %s", code, errs)
	}
	if again := rowCounts(t, url); again != first {
		t.Errorf("reloading changed row counts:\n%s\n%s", first, again)
	}
	code, out, _ := nbhd(t, "datasets", "--database-url", url)
	if code != 0 || !strings.Contains(out, "Open Government Licence") || strings.Count(out, "\n") != 15 {
		t.Errorf("datasets: %d\n%s", code, out)
	}
}

func TestServeAnswersThenShutsDownGracefully(t *testing.T) {
	url := dbtest.New(t, true)
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var out, errb bytes.Buffer
	go func() { done <- run(ctx, []string{"serve", "--database-url", url, "--addr", addr}, &out, &errb) }()
	var resp *http.Response
	for range 50 {
		resp, err = http.Get(fmt.Sprintf("http://%s/readyz", addr)) //nolint:noctx // test
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server never answered: %v\n%s", err, errb.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of the signal")
	}
	if !strings.Contains(out.String(), "http://"+addr) {
		t.Errorf("serve did not print its URL: %s", out.String())
	}
}

func TestLocalClusterPortIsEveryCommandsDefault(t *testing.T) {
	t.Setenv("NBHD_DATABASE_URL", "")
	os.Unsetenv("NBHD_DATABASE_URL") //nolint:errcheck // restored by Setenv's cleanup
	t.Setenv("NBHD_PG_PORT", "1")
	code, _, stderr := nbhd(t, "datasets")
	if code == 0 || !strings.Contains(stderr, "127.0.0.1") || !strings.Contains(stderr, ":1") {
		t.Errorf("datasets with NBHD_PG_PORT=1: %d %q", code, stderr)
	}
}

func TestEnvironmentConfiguresFlags(t *testing.T) {
	t.Setenv("NBHD_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	code, _, stderr := nbhd(t, "migrate")
	if code == 0 || !strings.Contains(stderr, "connect") {
		t.Errorf("migrate with an unreachable NBHD_DATABASE_URL: %d %q", code, stderr)
	}
	t.Setenv("NBHD_LOG_LEVEL", "loud")
	if code, _, stderr := nbhd(t, "serve"); code != 2 || !strings.Contains(stderr, "NBHD_LOG_LEVEL") && !strings.Contains(stderr, "log level") {
		t.Errorf("serve with a bad NBHD_LOG_LEVEL: %d %q", code, stderr)
	}
}

func TestKeysLifecycle(t *testing.T) {
	url := dbtest.New(t, true)
	code, token, errs := nbhd(t, "keys", "create", "--name", "Leigh team", "--scope", "ward:E05000852", "--database-url", url)
	if code != 0 || !strings.HasPrefix(token, "nbhd_") || !strings.Contains(errs, "shown once") {
		t.Fatalf("create: %d %q %q", code, token, errs)
	}
	conn := dbtest.Conn(t, url)
	var stored []byte
	if err := conn.QueryRow(context.Background(), "SELECT token_sha256 FROM nbhd.api_keys").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(strings.TrimSpace(token))) || len(stored) != 32 {
		t.Errorf("stored %d bytes; want only a SHA-256", len(stored))
	}
	if code, out, _ := nbhd(t, "keys", "--help"); code != 0 || !strings.Contains(out, "--scope") {
		t.Errorf("keys --help: %d %q", code, out)
	}
	code, out, _ := nbhd(t, "keys", "list", "--database-url", url)
	if code != 0 || !strings.Contains(out, "Leigh team") || !strings.Contains(out, "ward:E05000852") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, _, _ := nbhd(t, "keys", "revoke", "1", "--database-url", url); code != 0 {
		t.Errorf("revoke: %d", code)
	}
	if code, _, errs := nbhd(t, "keys", "revoke", "1", "--database-url", url); code != 1 || !strings.Contains(errs, "no live key 1") {
		t.Errorf("second revoke: %d %s", code, errs)
	}
	for _, args := range [][]string{{"keys"}, {"keys", "create"}, {"keys", "create", "--name", "x", "--role", "admin"},
		{"keys", "create", "--name", "x", "--scope", "E05000852"}, {"keys", "create", "--name", "x", "--scope", "ward:NOPE"}} {
		if code, _, _ := nbhd(t, append(args, "--database-url", url)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestKeyScopesAreChecked: nbhd keys create takes borough, set and
// neighbourhood scopes and the assets:write capability, and refuses, in
// words and before storing anything, a scope that is malformed or names
// nothing loaded.
func TestKeyScopesAreChecked(t *testing.T) {
	url := dbtest.New(t, true)
	for _, c := range []struct{ scope, says string }{
		{"borough:E0800001", "local authority district code"},
		{"borough:E09000001", "not a loaded borough"},
		{"set:nope", "not a loaded neighbourhood set"},
		{"ward:E05000840,assets:read", "the one capability is assets:write"},
		{"assets:write:borough:E09000001", "not a loaded borough"},
		{"assets:write:", "want KIND:VALUE"},
	} {
		code, out, errs := nbhd(t, "keys", "create", "--name", "x", "--scope", c.scope, "--database-url", url)
		if code != 2 || out != "" || !strings.Contains(errs, c.says) {
			t.Errorf("--scope %s: exit %d %q %q, want 2 saying %q", c.scope, code, out, errs, c.says)
		}
	}
	if n := dbtest.Strings(t, url, "SELECT count(*)::text FROM nbhd.api_keys")[0]; n != "0" {
		t.Errorf("%s keys stored after refusals", n)
	}
	code, token, errs := nbhd(t, "keys", "create", "--name", "Wigan assets", "--scope", "borough:E08000010,set:ward,assets:write:ward:E05000840", "--database-url", url)
	if code != 0 || !strings.HasPrefix(token, "nbhd_") {
		t.Fatalf("create: %d %q %q", code, token, errs)
	}
	if code, out, _ := nbhd(t, "keys", "list", "--database-url", url); code != 0 || !strings.Contains(out, "borough:E08000010,set:ward,assets:write:ward:E05000840") {
		t.Errorf("list: %d %s", code, out)
	}
	if code, out, _ := nbhd(t, "keys", "--help"); code != 0 || !strings.Contains(out, "borough:E08000010") || !strings.Contains(out, "assets:write") {
		t.Errorf("keys --help says nothing of the scopes: %s", out)
	}
}

func TestSettingsChangeRecomputes(t *testing.T) {
	url := dbtest.New(t, true)
	code, out, errs := nbhd(t, "settings", "demand_model", `{"shares":{"chaotic":0.05,"just_coping":0.2}}`, "--database-url", url)
	if code != 0 || !strings.Contains(out, "recomputed") {
		t.Fatalf("settings: %d %s %s", code, out, errs)
	}
	conn := dbtest.Conn(t, url)
	var ratio float64
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT sum(count) FROM nbhd.demand WHERE kind='estimated' AND segment='chaotic')
		/ (SELECT sum(population) FROM nbhd.small_area_population)`).Scan(&ratio); err != nil {
		t.Fatal(err)
	}
	if ratio < 0.04999 || ratio > 0.05001 {
		t.Errorf("chaotic share after the change: %v", ratio)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"settings", "disclosure", `{"min_count": 0}`}, "disclosure.min_count must be a number from 1 to 1000"},
		{[]string{"settings", "demand_model", `{"shares":{"chaotic":0.9}}`}, "demand_model.shares.chaotic and demand_model.shares.just_coping add up to more than 1"},
		{[]string{"settings", "demand_model", `{"shares":{"chaotic":"a lot"}}`}, "demand_model.shares.chaotic must be a number"},
		{[]string{"settings", "nope", `{}`}, `no such setting "nope"`},
		{[]string{"settings", "access", `not json`}, "must be a JSON object"},
	} {
		if code, _, errs := nbhd(t, append(bad.args, "--database-url", url)...); code != 2 || !strings.Contains(errs, bad.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", bad.args, code, errs, bad.want)
		}
	}
	// Nested members merge: changing shares.chaotic keeps shares.just_coping.
	if code, _, errs := nbhd(t, "settings", "demand_model", `{"shares": {"chaotic": 0.04}}`, "--database-url", url); code != 0 {
		t.Fatalf("settings shares.chaotic: %d %s", code, errs)
	}
	code, out, _ = nbhd(t, "settings", "demand_model", "--database-url", url)
	if code != 0 || !strings.Contains(out, `"chaotic": 0.04`) || !strings.Contains(out, `"just_coping": 0.2`) {
		t.Errorf("after merging shares.chaotic:\n%s", out)
	}
	var minCount int
	if err := conn.QueryRow(context.Background(), "SELECT (value->>'min_count')::int FROM nbhd.settings WHERE key='disclosure'").Scan(&minCount); err != nil || minCount != 10 {
		t.Errorf("a refused change was stored: min_count %d %v", minCount, err)
	}
}

func TestDatasetsDrop(t *testing.T) {
	url := dbtest.New(t, true)
	conn := dbtest.Conn(t, url)
	var id int64
	var version int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT id FROM nbhd.datasets WHERE kind = 'schools'),
		(SELECT version FROM nbhd.data_version)`).Scan(&id, &version); err != nil {
		t.Fatal(err)
	}
	code, out, errs := nbhd(t, "datasets", "drop", fmt.Sprint(id), "--database-url", url)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("dropped dataset %d (schools/schools", id)) {
		t.Fatalf("datasets drop: %d %q %q", code, out, errs)
	}
	var schools, after int
	if err := conn.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM api.schools), (SELECT version FROM nbhd.data_version)").
		Scan(&schools, &after); err != nil {
		t.Fatal(err)
	}
	if schools != 0 || after <= version {
		t.Errorf("after drop: %d schools, data version %d -> %d", schools, version, after)
	}
	// Profiles follow: no neighbourhood counts a school any more.
	var profiled int
	if err := conn.QueryRow(context.Background(), "SELECT coalesce(sum(schools), 0) FROM nbhd.neighbourhood_stats").Scan(&profiled); err != nil || profiled != 0 {
		t.Errorf("profiles still count %d schools after the drop (%v)", profiled, err)
	}
	_, out, _ = nbhd(t, "datasets", "--database-url", url)
	if strings.Contains(out, "\tschools\t") || strings.Count(out, "\n") != 14 {
		t.Errorf("datasets after drop:\n%s", out)
	}
	if code, _, errs := nbhd(t, "datasets", "drop", fmt.Sprint(id), "--database-url", url); code != 1 || !strings.Contains(errs, "no such dataset") {
		t.Errorf("dropping it again: %d %q", code, errs)
	}
	for _, args := range [][]string{{"datasets", "drop"}, {"datasets", "drop", "x"}, {"datasets", "frob"}} {
		if code, _, _ := nbhd(t, append(args, "--database-url", url)...); code != 2 {
			t.Errorf("nbhd %v: exit %d, want 2", args, code)
		}
	}
}

func TestImportNewKindsFromTheCommandLine(t *testing.T) {
	url := dbtest.New(t, true)
	code, out, errs := nbhd(t, "import", "gias", filepath.Join("..", "..", "data", "ingest", "testdata", "edubasealldata20260401.csv"),
		"--la", "E08000010", "--licence", "Open Government Licence v3.0", "--database-url", url)
	if code != 0 || !strings.Contains(out, "imported 4 rows") || !strings.Contains(out, "skipped 1 closed establishments") {
		t.Errorf("import gias: %d %q %q", code, out, errs)
	}
	code, out, errs = nbhd(t, "import", "osm", filepath.Join("..", "..", "data", "ingest", "testdata", "osm_overpass.geojson"), "--database-url", url)
	if code != 0 || !strings.Contains(out, "imported 5 rows") {
		t.Errorf("import osm: %d %q %q", code, out, errs)
	}
	_, out, _ = nbhd(t, "datasets", "--database-url", url)
	if !strings.Contains(out, "ODbL") {
		t.Errorf("datasets does not show the OSM licence:\n%s", out)
	}
}
